package middleware

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// logFailureID writes one record for the failure e of req, whose request ID
// is id, handled in d (left out when negative), at the level failureLevel
// gives. A nil logger logs nothing.
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
	if t.Logger != nil {
		logFailureID(t.Logger, req, t.requestID(req), e, time.Since(start))
	}
}

// refuse ends a request that no host may take, before any attempt of it
// is sent: it closes the request's body and fails with the request's own
// last failure when an attempt was made, else with unavailable, the
// request never sent.
func (t *Transport) refuse(req *http.Request, body io.ReadCloser, last *gatewayerr.Error, start time.Time, unavailable *gatewayerr.Error) error {
	if body != nil {
		body.Close()
	}
	if last != nil {
		return t.fail(req, last, start)
	}
	unavailable.SetRequestSent(false)
	return t.fail(req, unavailable, start)
}

// fail reports e, a failure of RoundTrip, and returns it as RoundTrip's
// error.
func (t *Transport) fail(req *http.Request, e *gatewayerr.Error, start time.Time) error {
	if t.mode != nil {
		if t.Logger == nil {
			// The proxy logs with the same Logger: nothing would
			// read the time the round trip took.
			return (*untimedError)(e)
		}
		return &transportError{e: e, elapsed: time.Since(start)}
	}
	t.report(req, e, start)
	return e
}

// requestID returns the request ID that a failure record of the Transport
// quotes: req's own, read as its proxy's pages read it (errorpage's default
// pages for a Transport used on its own), else a new one, so that every
// failure record carries one.
func (t *Transport) requestID(req *http.Request) string {
	if id := t.pages().RequestID(req); id != "" {
		return id
	}
	return errorpage.NewRequestID()
}

// clientGone reports whether cerr, the error of a request's context, says
// that its client went away (it cancelled, or its connection closed): the
// one decision that turns a failure into client_closed_request, which gets
// no page and is logged at debug level. A deadline is not the client
// leaving. It takes the context's error, not the context, so that a caller
// that needs that error too reads it once (each read takes the context's
// lock).
func clientGone(cerr error) bool {
	return errors.Is(cerr, context.Canceled)
}

// pages returns the pages whose request-ID header the Transport reads: its
// proxy's, or nil (errorpage's defaults) for a Transport on its own.
func (t *Transport) pages() *errorpage.Pages {
	if t.mode != nil {
		return t.mode.pages
	}
	return nil
}
