// Package otel records Gatehouse's failures in OpenTelemetry traces and
// metrics: the RFC 9209 error type as error.type, one span event per
// upstream attempt, and a page reference that is the trace ID.
//
// It is a module of its own, so that the library's go.mod never requires
// OpenTelemetry:
//
//	go get github.com/gatehouse-go/gatehouse/contrib/otel
//
// # Use
//
// Wrap the gateway in otelhttp's handler, which starts the server span and
// puts a Labeler in the request's context, and give the middleware the
// hooks of [Options]:
//
//	opts := otel.Options(middleware.Options{Logger: logger})
//	mux.Handle("/", middleware.NewReverseProxy(target, opts))
//	http.ListenAndServe(addr, otelhttp.NewHandler(mux, "gateway"))
//
// # What is recorded
//
// On the span of the request's context (the server span otelhttp's handler
// started, or a span of your own):
//
//   - error.type, the failure's RFC 9209 kind ("connection_refused"), for
//     every failure reported to OnError (a client that went away included,
//     as "client_closed_request") and every response replaced with a page
//     (OnReplace; a replaced status with no gateway failure behind it, such
//     as an application's 500, as its status code, "500", as OpenTelemetry's
//     HTTP conventions do);
//   - one event named "gatehouse.attempt" per attempt the Transport sent,
//     with the attributes gatehouse.attempt (its number, from 1),
//     server.address and server.port (the upstream it went to),
//     http.response.status_code (when it got a response), error.type (its
//     kind, when it failed, a 502, 503 or 504 response included) and
//     gatehouse.retry (whether another attempt followed).
//
// On the request-duration metrics of otelhttp's handler
// (http.server.request.duration, and the request and response body sizes,
// which share their attributes): error.type, the same value as on the span,
// through the Labeler that otelhttp's handler puts in the request's
// context ([otelhttp.LabelerFromContext]).
//
// # Where it cannot be done
//
// otelhttp's Transport (otelhttp.NewTransport), wrapped around the
// proxy's Transport, records error.type on its client span through
// semconv.ErrorType, which calls the error's ErrorType method: every error
// the proxy's Transport returns has one, so the client span says
// "connection_refused". But otelhttp v0.72.0 computes the error.type of
// its client metric (http.client.request.duration) by reflection on the
// error's Go type (its internal semconv HTTPClient.ErrorType), ignoring
// ErrorType, and appends it after the attributes of the client Labeler
// and WithMetricAttributesFn, so the type name
// ("github.com/gatehouse-go/gatehouse/middleware.transportError", or
// "...middleware.untimedError" for a proxy without a Logger) wins over
// any value a library adds: on that metric the kind cannot be set. Use
// the server metric, whose error.type this package sets, or count
// failures by kind with contrib/prometheus.
//
// # The page's reference is the trace ID
//
// [RequestIDFromTrace] makes the request ID that error pages quote, log
// records carry and OnError's request holds the request's trace ID, so the
// reference a visitor quotes finds the trace.
package otel

import (
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// The names this package records.
const (
	// ErrorTypeKey is OpenTelemetry's error.type attribute.
	ErrorTypeKey = attribute.Key("error.type")

	// AttemptEvent names the span event recorded for each attempt.
	AttemptEvent = "gatehouse.attempt"

	// AttemptKey is the attempt's number, from 1, on an AttemptEvent.
	AttemptKey = attribute.Key("gatehouse.attempt")

	// RetryKey reports, on an AttemptEvent, whether another attempt
	// followed.
	RetryKey = attribute.Key("gatehouse.retry")
)

// Options returns opts with hooks in OnError, OnReplace and OnAttempt
// that record error.type and the attempt events (see the package
// documentation), each calling the hook opts had, if any, after
// recording.
func Options(opts middleware.Options) middleware.Options {
	onError, onReplace, onAttempt := opts.OnError, opts.OnReplace, opts.OnAttempt
	opts.OnError = func(r *http.Request, e *gatewayerr.Error) {
		recordErrorType(r, errorType(e))
		if onError != nil {
			onError(r, e)
		}
	}
	opts.OnReplace = func(r *http.Request, e *gatewayerr.Error) {
		recordErrorType(r, errorType(e))
		if onReplace != nil {
			onReplace(r, e)
		}
	}
	opts.OnAttempt = func(a middleware.Attempt) {
		recordAttempt(a)
		if onAttempt != nil {
			onAttempt(a)
		}
	}
	return opts
}

// InstrumentTransport sets the hooks of [Options] in a Transport of your
// own, such as an http.Client's, chaining the ones it has: each attempt is
// an event, and each failure sets error.type, on the span of the request's
// context. Call it before the Transport's first use.
func InstrumentTransport(t *middleware.Transport) {
	o := Options(middleware.Options{OnAttempt: t.OnAttempt, OnError: t.OnError})
	t.OnAttempt, t.OnError = o.OnAttempt, o.OnError
}

// errorType returns the value of error.type for e: its kind, or, for a
// replaced status that no kind describes, the status.
func errorType(e *gatewayerr.Error) string {
	if e.Kind == gatewayerr.Unknown && e.ReceivedStatus != 0 {
		return strconv.Itoa(e.ReceivedStatus)
	}
	return e.ErrorType()
}

// recordErrorType sets error.type on r's span and on the Labeler of
// otelhttp's handler, when r's context has them.
func recordErrorType(r *http.Request, v string) {
	ctx := r.Context()
	kv := ErrorTypeKey.String(v)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(kv)
	}
	if l, ok := otelhttp.LabelerFromContext(ctx); ok {
		l.Add(kv)
	}
}

// recordAttempt adds an AttemptEvent for a to its request's span.
func recordAttempt(a middleware.Attempt) {
	span := trace.SpanFromContext(a.Request.Context())
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, AttemptKey.Int(a.Number))
	host, port, err := net.SplitHostPort(a.Upstream)
	if err != nil {
		host, port = a.Upstream, ""
	}
	attrs = append(attrs, attribute.String("server.address", host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	if a.Status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", a.Status))
	}
	if a.Err != nil {
		attrs = append(attrs, ErrorTypeKey.String(a.Err.ErrorType()))
	}
	attrs = append(attrs, RetryKey.Bool(a.Retry))
	span.AddEvent(AttemptEvent, trace.WithAttributes(attrs...))
}

// TraceID returns the trace ID of r's span, as 32 hexadecimal digits, or
// "" when r's context has no valid span context. As errorpage.Config's
// RequestID hook it makes the reference a page quotes, and the request_id
// of the log record, the trace ID, at no cost to requests that get no page:
//
//	pages, err := errorpage.New(errorpage.Config{RequestID: gatehouseotel.TraceID})
func TraceID(r *http.Request) string {
	sc := trace.SpanContextFromContext(r.Context())
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// RequestIDFromTrace returns a middleware that makes the request's trace
// ID its request ID for pages (see errorpage.Pages.RequestID): the next
// handler gets a copy of the request carrying the trace ID (32 hexadecimal
// digits, a valid request ID) in the header field that pages read
// (errorpage.Config.RequestIDHeader, X-Request-ID by default), so that the
// reference a page quotes, the request_id in the log and the ID OnError's
// request carries are all the trace ID. Put it inside otelhttp's handler,
// which starts the span, and give it the Pages the middleware uses (nil:
// the default pages).
//
// It replaces any request ID the client sent, and, since ReverseProxy
// forwards the request's header, the upstream receives the trace ID in that
// field too. A request without a valid span context is passed on as it
// is. The copy of the request and its header costs two allocations per
// request: where the upstream need not receive the trace ID, prefer
// [TraceID] as errorpage.Config's RequestID hook.
func RequestIDFromTrace(pages *errorpage.Pages) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id := TraceID(r); id != "" {
				r = pages.WithRequestID(r, id)
			}
			next.ServeHTTP(w, r)
		})
	}
}
