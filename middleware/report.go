package middleware

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// logFailure writes one record for the failure e of req, handled in d (left
// out when negative), at a level that fits its kind: error for failures that
// point at the gateway's configuration, debug for a client's cancellation,
// warn for the others. A nil logger logs nothing.
func logFailure(logger *slog.Logger, req *http.Request, e *gatewayerr.Error, d time.Duration) {
	logFailureID(logger, req, req.Header.Get("X-Request-Id"), e, d)
}

// logFailureID is logFailure with the request ID given: the one the page
// quotes, read from the header its Pages are configured with.
func logFailureID(logger *slog.Logger, req *http.Request, id string, e *gatewayerr.Error, d time.Duration) {
	if logger == nil {
		return
	}
	ctx := req.Context()
	level := failureLevel(e)
	path := ""
	if req.URL != nil {
		path = req.URL.Path
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	// The status the client got: the upstream's, for a body that failed
	// after the response was handed on; else that of a response reporting
	// e.
	status := e.StatusCode()
	if e.Phase == gatewayerr.PhaseReadBody && e.ReceivedStatus != 0 && e.Kind != gatewayerr.ClientClosedRequest {
		status = e.ReceivedStatus
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String(keyKind, e.Kind.String()),
		slog.Int(keyStatus, status),
		slog.String(keyUpstream, e.Upstream),
		slog.String(keyMethod, req.Method),
		slog.String(keyPath, path),
		slog.Int(keyAttempts, e.Attempts),
	)
	if d >= 0 {
		attrs = append(attrs, slog.Duration(keyDuration, d))
	}
	if e.Phase != gatewayerr.PhaseUnknown {
		attrs = append(attrs, slog.String(keyPhase, e.Phase.String()))
	}
	if e.ReceivedStatus != 0 {
		attrs = append(attrs, slog.Int(keyReceivedStatus, e.ReceivedStatus))
	}
	if id != "" {
		attrs = append(attrs, slog.String(keyRequestID, id))
	}
	attrs = append(attrs, slog.String(keyError, e.Error()))
	logger.LogAttrs(ctx, level, "gatehouse: upstream failure", attrs...)
}

// failureLevel returns the log level for the failure e.
func failureLevel(e *gatewayerr.Error) slog.Level {
	if e.ReceivedStatus != 0 && e.Kind != gatewayerr.ClientClosedRequest {
		// An upstream's own response reported it, whatever the kind its
		// Proxy-Status names: a failure beyond this gateway.
		return slog.LevelWarn
	}
	switch e.Kind {
	case gatewayerr.ClientClosedRequest:
		return slog.LevelDebug
	case gatewayerr.DNSError, gatewayerr.DNSTimeout, gatewayerr.DestinationNotFound,
		gatewayerr.DestinationIPProhibited, gatewayerr.TLSProtocolError, gatewayerr.TLSCertificateError,
		gatewayerr.TLSAlertReceived, gatewayerr.ProxyConfigurationError, gatewayerr.ProxyInternalError:
		return slog.LevelError
	}
	return slog.LevelWarn
}

// report logs e and calls OnError.
func (t *Transport) report(req *http.Request, e *gatewayerr.Error, start time.Time) {
	if t.OnError != nil {
		t.OnError(req, e)
	}
	logFailure(t.Logger, req, e, time.Since(start))
}

// fail reports e, a failure of RoundTrip, and returns it as RoundTrip's
// error.
func (t *Transport) fail(req *http.Request, e *gatewayerr.Error, start time.Time) error {
	if t.proxy {
		return &transportError{e: e, elapsed: time.Since(start)}
	}
	t.report(req, e, start)
	return e
}
