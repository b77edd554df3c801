// Package gatehouse turns a gateway's upstream failures into a precise
// diagnosis for operators and a calm, branded page for visitors.
//
// When a Go service acts as a gateway ([net/http/httputil.ReverseProxy], an
// API gateway, a backend-for-frontend calling upstreams), every upstream
// failure usually collapses into "502 Bad Gateway" and a log line. Gatehouse
// tells a refused connection from a TLS failure from a timeout from a client
// that hung up, reports it in the Proxy-Status header of RFC 9209, and answers
// the visitor with a page in their language and format.
//
// This package holds documentation only. The work is done by:
//
//   - [github.com/gatehouse-go/gatehouse/gatewayerr]: classifies any transport
//     error or upstream response into a
//     [github.com/gatehouse-go/gatehouse/gatewayerr.Error] whose Kind is an
//     RFC 9209 error type, and formats and parses Proxy-Status.
//   - [github.com/gatehouse-go/gatehouse/errorpage]: branded, localized,
//     content-negotiated error pages (HTML, problem+json, JSON, text).
//   - [github.com/gatehouse-go/gatehouse/middleware]: net/http middleware
//     for handlers (panic recovery, error interception) and for upstream
//     transports and reverse proxies (classification, safe retries, circuit
//     breaking).
//   - [github.com/gatehouse-go/gatehouse/gatewayerr/faulttest]: loopback
//     upstreams that fail on purpose, and a catalog of them with the kind
//     each should be reported as, to test a gateway of your own.
//
// # Quick start
//
// A reverse proxy with branded error pages, Proxy-Status and classified logs:
//
//	target, _ := url.Parse("http://127.0.0.1:9000")
//	proxy := middleware.NewReverseProxy(target, middleware.Options{
//		Logger: slog.Default(),
//	})
//	http.ListenAndServe(":8080", proxy)
//
// # Try it
//
// From a clone of the repository, the demo starts a branded gateway in front
// of an embedded upstream that fails in every way it can (refuses, resets,
// stalls, sends garbage, presents a bad certificate, loops) and prints the
// URLs to try:
//
//	go run ./examples/gateway
//
// The other programs under examples/ show a page gallery for designing a
// brand, a JSON API gateway, template overrides through embed and fs.FS,
// and [github.com/gatehouse-go/gatehouse/middleware.Handler] in a chain of
// ordinary middleware.
//
// # Security
//
// With the zero value of every configuration struct, no upstream address,
// Go error text or stack trace is shown to visitors, in any format or
// header, unless debug details are turned on for chosen requests.
// Operators always get them, in logs and hooks. The zero
// [github.com/gatehouse-go/gatehouse/middleware.Options] also bounds the
// wait for an upstream's response header (60 seconds, then a 504 page) and
// keeps a pool of idle upstream connections; it does not bound a response
// body that stalls midway, retry or break circuits until configured to.
package gatehouse
