// Package prometheus exports Gatehouse's failures, attempts, retries,
// circuit breaker states and error pages as Prometheus metrics, through
// the hooks of package middleware and errorpage.
//
// It is a module of its own, so that the library's go.mod never requires
// github.com/prometheus/client_golang:
//
//	go get github.com/gatehouse-go/gatehouse/contrib/prometheus
//
// # Use
//
// [Register] makes a [Metrics] and registers it; [Metrics.Options] returns
// middleware.Options with its hooks chained in front of yours (yours still
// run, after them); promhttp serves the registry:
//
//	m, err := prometheus.Register(prom.DefaultRegisterer, prometheus.Config{})
//	...
//	opts := m.Options(middleware.Options{Logger: logger})
//	mux.Handle("/", middleware.NewReverseProxy(target, opts))
//	mux.Handle("/metrics", promhttp.Handler())
//
// Pages are counted by an errorpage.Config hook: pass your Config through
// [Metrics.PagesConfig] before errorpage.New. When Options.Pages is nil,
// Metrics.Options counts the default pages itself.
//
// # Metrics
//
//	gatehouse_upstream_failures_total{kind,status,upstream}  counter
//	gatehouse_upstream_attempts_total{upstream,outcome}      counter
//	gatehouse_retries_total{upstream}                        counter
//	gatehouse_breaker_state{upstream}                        gauge
//	gatehouse_pages_total{status,kind,format}                counter
//
// gatehouse_upstream_failures_total counts every failure reported to
// Options.OnError (once per request, after any retries), except a client
// that went away (client_closed_request), which is not an upstream
// failure: kind is the RFC 9209 error type ("connection_refused"; "unknown"
// for an intercepted status that is not a gateway failure, such as an
// upstream's 500), status the status the client got (the page's, or, for a
// body that failed while streaming, the upstream's), upstream the host it
// failed on, or "" for a failure that involved no upstream (a panic
// recovered by middleware.Handler, or the 503 of a pool of Upstreams all
// ejected, answered without dialling: middleware.ErrNoUpstream).
//
// gatehouse_upstream_attempts_total counts every attempt the Transport
// sent (Options.OnAttempt), the first included, by outcome: "success" (a
// response that is not a failure; a 404 or a 500 too, the upstream
// answered), "failure" (no response, or a 502, 503 or 504, or a response
// whose Proxy-Status names an error) and "client_closed" (the client went
// away). gatehouse_retries_total counts the attempts that were followed
// by another: with no retries configured it stays 0.
//
// gatehouse_breaker_state is the state of each upstream's circuit breaker,
// the value of middleware.BreakerState: 0 closed, 1 half-open, 2 open.
// With breakers on (Options.Breaker, or several Options.Upstreams, which
// turn them on), NewReverseProxy's target, or each host of Upstreams,
// appears at 0 when the proxy is built, a host that SetUpstreams adds when
// it is added, and any other host at its first request; with breakers off,
// no upstream appears. An open breaker
// reads 2 until the first request after its OpenFor, which turns it
// half-open.
//
// gatehouse_pages_total counts every error page written (errorpage
// Config.OnServe): status is the page's status, kind its RFC 9209 error
// type or "" for a page served by status alone (a 404, or a replaced 500
// with no gateway failure behind it), format "html", "problem+json",
// "json" or "text".
//
// # Label values are bounded
//
// kind is one of the RFC 9209 tokens, status a number from 100 to 599
// ("other" outside), format one of four names. upstream is the host the
// Transport sent to, which is configuration (NewReverseProxy's target, the
// URL of your own requests), never request data. To guard against a
// Director that routes by request data, [Config.Upstreams] lists the hosts
// to name, and only the first [Config.MaxUpstreams] hosts seen are named
// otherwise: any other host is counted as "other".
//
// # Cost
//
// Each attempt costs a map lookup under a read lock and an atomic add,
// about 60 ns and no allocation (BenchmarkHooks): NewReverseProxy's
// success path keeps its allocations (BenchmarkProxy). Each failure and
// page costs one CounterVec lookup; a failure's OnError hook receives a
// copy of the request carrying its request ID, which the middleware makes
// for any OnError hook (4 allocations in all on the error path).
package prometheus
