package gatewayerr

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// A Phase is the step of an upstream exchange in which a failure happened.
// The zero Phase is [PhaseUnknown].
type Phase uint8

// The phases of an exchange, in order.
const (
	PhaseUnknown      Phase = iota // the phase is not known
	PhaseDNS                       // resolving the upstream's name
	PhaseDial                      // opening the connection
	PhaseTLS                       // the TLS handshake
	PhaseWriteRequest              // writing the request's headers and body
	PhaseAwaitHeaders              // waiting for the first byte of the response
	PhaseReadHeaders               // reading the response's status line and headers
	PhaseReadBody                  // reading the response's body and trailers
)

// String returns the phase's name, such as "dial" or "read_body".
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "Phase(" + strconv.Itoa(int(p)) + ")"
}

// BeforeRequest reports whether the phase ends before any byte of the request
// is written: [PhaseDNS], [PhaseDial] and [PhaseTLS].
func (p Phase) BeforeRequest() bool {
	return p == PhaseDNS || p == PhaseDial || p == PhaseTLS
}

// Error is a classified gateway failure, as [Classify] and
// [ClassifyResponse] return it. [errors.Is] and [errors.As] see through it to
// its cause, and errors.Is with a [Kind] target matches its kind.
//
// Only Kind is required; every other field may be zero. The fields are for
// operators, not visitors.
type Error struct {
	// Kind is the type of the failure.
	Kind Kind

	// Err is the underlying error, if any.
	Err error

	// Phase is the step of the exchange that failed, when known.
	Phase Phase

	// Upstream is the upstream's host or host:port, when known.
	Upstream string

	// Attempts is the number of attempts made, retries included; zero when
	// not counted.
	Attempts int

	// ReceivedStatus is the status of the upstream's response, when the
	// failure is a response (see [ClassifyResponse]) or came after one.
	ReceivedStatus int

	// RetryAfter is the wait the upstream (or a breaker) asked for, bounded
	// by [MaxStatedRetryAfter]; zero when not known. Retries scheduled on
	// it wait at most [MaxRetryAfter].
	RetryAfter time.Duration

	// NextHop is the upstream as RFC 9209's next-hop parameter names it
	// (a host name, an IP address, or host:port), when known.
	NextHop string

	// DNSRcode is the DNS response code of a dns_error, such as "NXDOMAIN"
	// or "SERVFAIL" (RFC 9209's rcode parameter); empty when not known.
	DNSRcode string

	// DNSInfoCode is the Extended DNS Error code of a dns_error (RFC 8914,
	// RFC 9209's info-code); -1 or 0 when not known. The package's
	// constructors set -1.
	DNSInfoCode int

	// TLSAlertID is the TLS alert of a tls_alert_received (RFC 9209's
	// alert-id); -1 or 0 when not known. The package's constructors set -1.
	TLSAlertID int

	// TLSAlertMessage is the alert's name, such as "bad_certificate" (RFC
	// 9209's alert-message parameter); empty when not known.
	TLSAlertMessage string

	// FieldName is the name of the header or trailer field at fault in an
	// http_response_header_size or http_response_trailer_size error (RFC
	// 9209's header-name and trailer-name parameters).
	FieldName string

	// Size is the limit in bytes that was exceeded, for the *_size kinds
	// (RFC 9209's header-section-size, header-size, body-size,
	// trailer-section-size and trailer-size); -1 or 0 when not known. The
	// package's constructors set -1.
	Size int64

	// Chain holds the Proxy-Status members that the upstream's own response
	// carried, the one closest to the origin first, as [ClassifyResponse]
	// found them.
	Chain []ProxyStatus

	// requestSent overrides the phase's verdict on whether the request may
	// have reached the upstream; see RequestSent.
	requestSent sentState

	// fromResponse reports that the failure is the upstream's own error
	// response, as ClassifyResponse found it, not one the gateway generated.
	fromResponse bool
}

// Error returns a message for operators: the kind, phase, upstream, received
// status and cause, as far as known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gatewayerr: ")
	b.WriteString(e.Kind.String())
	sep := " ("
	part := func(s string) {
		b.WriteString(sep)
		b.WriteString(s)
		sep = " "
	}
	if e.Phase != PhaseUnknown {
		part(e.Phase.String())
	}
	if e.Upstream != "" {
		part(e.Upstream)
	}
	if e.ReceivedStatus != 0 {
		if sep == " " {
			sep = ", "
		}
		part("received status " + strconv.Itoa(e.ReceivedStatus))
	}
	if sep != " (" {
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(errorText(e.Err))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's [Kind].
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && e.Kind == k
}

// StatusCode returns the HTTP status for a response reporting the failure,
// always from 400 to 599: for an upstream's own error response (see
// [ClassifyResponse]), the 4xx or 5xx status it sent, whatever the kind;
// for an [Unknown] kind with a 4xx or 5xx ReceivedStatus (an error response
// replaced with a page, which keeps its status), that status; for a
// [ClientClosedRequest], 499, even after a response was received;
// otherwise the kind's status (see [Kind.StatusCode]).
func (e *Error) StatusCode() int {
	// An upstream's error response keeps its status, as nginx's
	// proxy_intercept_errors does: the kind then chooses the words, not
	// the status. A client that went away could not be answered at all.
	switch {
	case e.Kind == ClientClosedRequest:
	case e.fromResponse && e.ReceivedStatus >= 400 && e.ReceivedStatus <= 599,
		e.Kind == Unknown && e.ReceivedStatus >= 400 && e.ReceivedStatus <= 599:
		return e.ReceivedStatus
	}
	return e.Kind.StatusCode()
}

// Reported returns e as the gateway that answers for it reports it on its
// page, in its log and to its hooks, as [Error.ProxyStatus] does: a failure
// of kind [Unknown] with no ReceivedStatus is the gateway's own, and
// Reported returns a copy of e of kind [ProxyInternalError] (500). Any other
// e is returned as it is.
func (e *Error) Reported() *Error {
	// Nothing identifies the cause (a ModifyResponse error, a custom
	// RoundTripper's, no error at all), so no upstream can be blamed.
	if e.Kind != Unknown || e.ReceivedStatus != 0 {
		return e
	}
	c := *e
	c.Kind = ProxyInternalError
	return &c
}

// ErrorType returns the kind's token, as OpenTelemetry's error.type wants it.
func (e *Error) ErrorType() string { return e.Kind.String() }

// Timeout reports whether the failure is a timeout (see [net.Error]).
func (e *Error) Timeout() bool { return e.Kind.Timeout() }

// Temporary always returns false. It is part of [net.Error], deprecated there.
func (e *Error) Temporary() bool { return false }

// RequestSent reports whether the request may have reached the upstream: it
// is false only when that is certain, and such a request can be retried
// whatever its method. The phase decides (see [Phase.BeforeRequest]); when
// it is unknown, the kind does (a refused connection, a DNS or TLS handshake
// failure, an open circuit, a loop). [Error.SetRequestSent] overrides both.
func (e *Error) RequestSent() bool {
	// A known phase after the handshake wins over the kind: a TLS error
	// while reading the body came after the request.
	switch e.requestSent {
	case sentNo:
		return false
	case sentYes:
		return true
	}
	if e.Phase != PhaseUnknown {
		return !e.Phase.BeforeRequest()
	}
	switch e.Kind {
	case DNSTimeout, DNSError, DestinationNotFound, DestinationUnavailable,
		DestinationIPProhibited, DestinationIPUnroutable, ConnectionRefused,
		ConnectionTimeout, ConnectionLimitReached, TLSProtocolError,
		TLSCertificateError, HTTPRequestDenied, ProxyConfigurationError,
		ProxyLoopDetected:
		return false
	}
	return true
}

// SetRequestSent records whether the request may have reached the upstream,
// overriding what the phase and kind imply.
func (e *Error) SetRequestSent(sent bool) {
	// A RoundTripper that saw the request written calls it: a transport's
	// own retries can end in an earlier phase than the one that wrote.
	if sent {
		e.requestSent = sentYes
	} else {
		e.requestSent = sentNo
	}
}

// KindOf returns the kind of the first *Error in err's chain, or [Unknown]
// when there is none. Unlike [Classify], it does not classify.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Unknown
}

// phaseNames names the phases. A phase is recorded because the same error
// value means different things in different phases (a bare io.EOF is a TLS
// hang-up in the handshake and a truncated body later).
var phaseNames = [...]string{
	PhaseUnknown:      "unknown",
	PhaseDNS:          "dns",
	PhaseDial:         "dial",
	PhaseTLS:          "tls",
	PhaseWriteRequest: "write_request",
	PhaseAwaitHeaders: "await_headers",
	PhaseReadHeaders:  "read_headers",
	PhaseReadBody:     "read_body",
}

type sentState uint8

const (
	sentUnknown sentState = iota
	sentNo
	sentYes
)

// errorText returns err.Error(), or a placeholder when that panics (as a nil
// *url.Error's does): an error being logged must not crash the gateway.
func errorText(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = "(Error method panicked)"
		}
	}()
	return err.Error()
}
