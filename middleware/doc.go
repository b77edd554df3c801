// Package middleware puts Gatehouse's error pages in front of an
// application or an upstream: a [Handler] that recovers panics and
// replaces error responses, a [Transport] that classifies, retries and
// breaks circuits, and a reverse proxy ([NewReverseProxy], [ErrorHandler])
// with all of it wired in.
//
// Everything is configured by one [Options], whose zero value gives the
// embedded default pages, shows nothing internal to visitors, logs nothing,
// and (in NewReverseProxy) sends through a transport made for a gateway,
// which answers an upstream silent for 60 seconds with a 504 page; it
// neither retries nor breaks circuits until told to.
//
// # Handler
//
// Handler has the standard middleware shape, func(http.Handler)
// http.Handler, so it wraps an http.ServeMux and fits chi, gorilla/mux and
// alice chains alike:
//
//	mux := http.NewServeMux()
//	mux.Handle("/", app)
//	http.ListenAndServe(":8080", middleware.Handler(middleware.Options{})(mux))
//
// It does two things:
//
//   - It recovers panics. Before the response's status was sent, a panic
//     becomes the branded 500 page; after, the response is aborted with
//     http.ErrAbortHandler, as a truncated response is the only honest
//     answer once a 200 is on the wire. Either way the panic and its stack
//     are logged through [Options.Logger] and reported to [Options.OnError]
//     as a [*PanicError].
//   - It intercepts error responses, like nginx's proxy_intercept_errors:
//     when the application writes a status listed in [Options.Intercept]
//     (502, 503 and 504 by default) with a body that [Options.Replace]
//     does not keep (by default, one that is empty or plain text rather
//     than an HTML page or JSON), the body is discarded and the branded
//     page is written instead. [SetError]
//     tells Handler the error behind such a status, so the page says what
//     actually failed.
//
// # The wrapped ResponseWriter
//
// The ResponseWriter that Handler passes on has exactly the optional
// interfaces of the one it received (http.Flusher, http.Hijacker,
// io.ReaderFrom, http.Pusher, http.CloseNotifier) and an Unwrap method for
// http.ResponseController. Server-Sent Events flush event by event,
// WebSockets upgrade, http.ServeFile still uses sendfile, and
// ResponseController's deadlines and EnableFullDuplex work, over HTTP/1.1
// and HTTP/2 alike.
//
// On the success path Handler buffers nothing and allocates once: the
// decision to intercept is taken when the status is written, and each
// request gets its own wrapper, which is never pooled. A wrapper used after
// the next handler returned therefore stays its own request's: while the
// request is still being served (a router's error handler that runs after
// the middleware returned, as echo's does behind echo.WrapMiddleware) it
// writes straight to the client, and once the request's context is done it
// writes nothing and reports the context's error, so that a goroutine that
// outlives its request can neither crash the server nor write into another
// response.
//
// # Transport
//
// [Transport] is an http.RoundTripper for calls to upstreams, whether from
// a reverse proxy or from an application's own http.Client. It classifies
// every failure into a [*gatewayerr.Error] (the RFC 9209 kind, the
// upstream, the phase in which the exchange failed, the attempts made),
// from RoundTrip and from a response body's Read alike, and follows the
// RoundTripper contract: the request is not modified, its body is always
// closed, and a response of any status is a response. Its zero value
// sends through an http.Transport of its own made for a gateway (a
// 60-second response-header timeout, dial and TLS handshake timeouts, 128
// idle connections per host; see [Transport.Base]) and only classifies.
// [Transport.ResponseBodyReadTimeout] (or [Options.ResponseBodyReadTimeout])
// cuts a response body that stalls midway, as connection_read_timeout.
//
// # Retries
//
// [Transport.Retry] (or [Options.Retry]), a [*RetryPolicy], retries a
// failed attempt only when it is safe: the request never reached the
// upstream, or its method is idempotent (or it carries an Idempotency-Key),
// and its body can be sent again. Retries are bounded by a number of
// attempts, a total time and a retry budget per upstream, wait with
// jittered exponential backoff, and honour an upstream's Retry-After up to
// a cap.
//
// # Circuit breaking
//
// [Transport.Breaker] (or [Options.Breaker]), a [*BreakerPolicy], keeps one
// breaker per upstream host. After repeated failures it opens, and requests
// fail at once with destination_unavailable (503, with Retry-After, the
// cause [ErrCircuitOpen]) until probes show the upstream is back. A
// client's cancellation is never counted as a failure. State changes go to
// [Options.OnStateChange] as [BreakerState] values, and to the logger.
//
// # Several upstreams
//
// [Transport.Upstreams] (or [Options.Upstreams]) lists replicas as
// host:port, reached with the target's scheme. Each attempt goes to one
// host, chosen by power of two choices on requests in flight (weighted by
// [Options.UpstreamWeights]), among the hosts whose breaker lets requests
// through and that the optional [HealthCheck] has not marked down. A retry
// goes to another host; an attempt that never reached its host (refused,
// dial or TLS failure) moves on for any method, as a POST whose request
// was sent never does. Breakers (on by default with several hosts) and
// retry budgets are per host; a host that comes back gets a growing share
// of requests. With every host ejected, the answer is an immediate 503
// destination_unavailable ([ErrNoUpstream]) with Retry-After, without
// dialling. [Transport.OnAttempt] (or [Options.OnAttempt]) reports every
// attempt as an [Attempt] with its host; [Transport.SetUpstreams] changes
// the set at run time, keeping the state of the hosts that stay, and
// [ProxyTransport] reaches the Transport of a [NewReverseProxy]; a
// Transport with a HealthCheck is stopped with [Transport.Close].
//
// # Reverse proxy
//
// [NewReverseProxy] returns an httputil.ReverseProxy with everything wired
// in: a [Transport] (with the options' retries and breakers) over
// [Options.Transport], Via entries and loop detection ([ErrProxyLoop]),
// the branded page for every failure with a Proxy-Status member naming
// [Options.ProxyName], and the replacement of the upstream's own error
// responses whose status is in [Options.Intercept], as [Options.Replace]
// decides ([ReplacePolicy]). Each failure is logged once and reported to
// [Options.OnError]; a client that went away gets no page and is reported
// as client_closed_request. The Proxy-Status members that upstreams send
// reach visitors redacted, without addresses, unless
// [Options.ProxyStatusDetails] allows them. The X-Forwarded headers are
// set afresh, replacing the client's (see [NewReverseProxy] to keep a
// trusted X-Forwarded-For chain); responses get no Via entry.
//
//	target, _ := url.Parse("http://127.0.0.1:9000")
//	proxy := middleware.NewReverseProxy(target, middleware.Options{
//		Retry:   &middleware.RetryPolicy{},
//		Breaker: &middleware.BreakerPolicy{},
//	})
//
// # Maintenance
//
// [Options.Maintenance], a [*Maintenance], is a switch for planned
// downtime that [Handler] and [NewReverseProxy] read on every request: On,
// Off and Schedule take effect at once, without a restart, and are safe
// to call while requests are served. While it is on, a request not let
// through by its address ([Maintenance.Allow]) or by
// [Maintenance.AllowRequest] (a team's cookie, say) gets the 503
// maintenance page, with Retry-After when the end is known, and reaches
// neither the handler nor the upstream.
//
//	maint := &middleware.Maintenance{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
//	proxy := middleware.NewReverseProxy(target, middleware.Options{Maintenance: maint})
//	// later, from an admin endpoint:
//	maint.On(time.Now().Add(30 * time.Minute))
//
// [ErrorHandler] gives an existing httputil.ReverseProxy the same pages,
// Proxy-Status and reporting for the errors of its own Transport, as its
// ErrorHandler field.
//
// # Metrics and traces
//
// Hooks report what an operator counts, with nothing logged or allocated
// when they are nil: [Options.OnError] each failure handled, once;
// [Options.OnAttempt] each attempt sent upstream, as an [Attempt] (its
// number, host, status, kind, whether it is retried); [Options.OnReplace]
// each error response replaced with a page, apart from the failures;
// [Options.OnStateChange] each breaker's state, closed from its first
// request on. Every error the Transport returns has an ErrorType method
// giving its RFC 9209 kind, which OpenTelemetry records as error.type.
// The nested modules github.com/gatehouse-go/gatehouse/contrib/prometheus
// and github.com/gatehouse-go/gatehouse/contrib/otel build Prometheus
// metrics and OpenTelemetry attributes and events on them.
package middleware
