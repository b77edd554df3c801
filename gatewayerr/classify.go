package gatewayerr

import (
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/http2"
)

// Classify returns the [Error] that err represents: nil for a nil err, and
// otherwise a non-nil *Error, of kind [Unknown] when nothing in err is
// recognized. It never panics.
//
// Classify is idempotent: when err's chain holds an *Error of a kind other
// than Unknown, it returns that *Error. A [Kind] in the chain is taken as the
// kind, such as the cause of context.WithTimeoutCause. Otherwise the new
// *Error's Err is err.
//
// Classify sees through [*url.Error], %w chains and [errors.Join]. It
// recognizes [context.Canceled] ([ClientClosedRequest]), deadlines and
// timeouts, [*net.DNSError], [*net.OpError] and system call errors, the
// errors of crypto/tls, crypto/x509, compress/gzip and compress/flate, the
// HTTP/2 errors of golang.org/x/net/http2 and net/http, and the net/http
// failures Go exposes only as text, among them http.Client's redirect limit
// ([ProxyLoopDetected]). It records the [Phase] when err shows it.
func Classify(err error) *Error {
	// It allocates only the *Error, plus the text of the next hop's address
	// when err carries one (a *net.OpError with an Addr). Matching on text
	// happens in matchText alone, pinned by TestMatchText.
	return ClassifyPhase(err, PhaseUnknown)
}

// ClassifyPhase is [Classify] for a caller that knows the phase of the
// exchange in which err happened. The phase decides what the value cannot:
// a connection reset or [io.EOF] is connection_terminated before the
// response's header, http_response_incomplete in the body and
// tls_protocol_error in the handshake; a deadline is dns_timeout in
// [PhaseDNS], connection_timeout in [PhaseDial] and [PhaseTLS],
// connection_write_timeout in [PhaseWriteRequest], http_response_timeout
// while awaiting or reading the header, and connection_read_timeout in
// [PhaseReadBody]. The *Error records phase unless err shows another (a
// DNS or dial error) or already held an *Error.
func ClassifyPhase(err error, phase Phase) *Error {
	// The same value means different things at different steps: a bare
	// io.EOF is a TLS hang-up in the handshake and a truncated body later.
	// A RoundTripper following the exchange with httptrace knows the step.
	if err == nil {
		return nil
	}
	// An *Error of a known kind on top is what the walk would find first
	// and return: the pages and the proxy classify their own errors again,
	// and the walk's text matching is the costly part of an error page.
	if e, ok := err.(*Error); ok && e != nil && e.Kind != Unknown && e.Kind < numKinds {
		return e
	}
	var s scan
	s.run(err)
	if c := s.classified; c != nil && c.Kind != Unknown && c.Kind < numKinds {
		return c
	}
	e := &Error{Err: err, Phase: phase, DNSInfoCode: -1, TLSAlertID: -1, Size: -1}
	e.Kind, e.Phase = s.decide(phase)
	if e.Kind == Unknown && s.classified != nil && s.classified.Kind == Unknown {
		// Nothing better than what err already said.
		return s.classified
	}
	s.fill(e)
	return e
}

// decide returns the kind err is and the phase to record.
func (s *scan) decide(phase Phase) (Kind, Phase) {
	// A DNS or dial error shows its phase whatever the caller thought; a
	// TLS error does only when the caller did not say (TLS 1.3 delivers a
	// server's alert after the handshake, on the first read).
	eff := phase
	switch {
	case s.dns != nil:
		eff = PhaseDNS
	case s.op != nil && (s.op.Op == "dial" || s.op.Op == "proxyconnect"):
		eff = PhaseDial
	case phase == PhaseUnknown && (s.certificate || s.alert >= 0 || s.recordHeader || s.scheme || s.text == textTLSHandshakeTimeout):
		eff = PhaseTLS
	}
	switch {
	case s.kind != Unknown:
		return s.kind, eff
	case s.canceled || s.text == textRequestCanceled:
		return ClientClosedRequest, eff
	case s.dns != nil:
		if s.dns.IsTimeout || s.deadline {
			return DNSTimeout, eff
		}
		return DNSError, eff
	case s.h2 != h2None:
		return s.h2Kind(eff), eff
	case s.certificate:
		return TLSCertificateError, eff
	case s.alert >= 0 && s.alertRemote:
		return TLSAlertReceived, eff
	case s.alert >= 0 || s.recordHeader || s.scheme:
		return TLSProtocolError, eff
	}
	if s.config {
		return ProxyConfigurationError, eff
	}
	if s.protocol {
		return HTTPProtocolError, eff
	}
	switch s.text {
	case textHeaderSectionSize:
		return HTTPResponseHeaderSectionSize, eff
	case textTrailerSectionSize:
		return HTTPResponseTrailerSectionSize, eff
	case textIncomplete:
		return HTTPResponseIncomplete, eff
	case textProtocol:
		return HTTPProtocolError, eff
	case textUpgrade:
		return HTTPUpgradeFailed, eff
	case textInternal:
		return ProxyInternalError, eff
	case textTransferCoding:
		return HTTPResponseTransferCoding, eff
	case textConfig:
		return ProxyConfigurationError, eff
	case textRequest:
		return HTTPRequestError, eff
	case textRedirectLimit:
		return ProxyLoopDetected, eff
	}
	if s.coding {
		return HTTPResponseContentCoding, eff
	}
	switch s.errno {
	case errnoRefused:
		return ConnectionRefused, eff
	case errnoUnroutable:
		return DestinationIPUnroutable, eff
	case errnoProhibited:
		if eff == PhaseDial {
			return DestinationIPProhibited, eff
		}
	case errnoNoSocket:
		if eff == PhaseDial {
			// A Unix socket with no file: nothing listens.
			return ConnectionRefused, eff
		}
	case errnoLimit:
		return ConnectionLimitReached, eff
	case errnoTimeout:
		return s.timeoutKind(eff), eff
	}
	if s.deadline || s.timeout || s.text == textResponseHeaderTimeout || s.text == textBodyTimeout || s.text == textTLSHandshakeTimeout {
		return s.timeoutKind(eff), eff
	}
	if s.maxBytes != nil {
		if eff == PhaseReadBody {
			return HTTPResponseBodySize, eff
		}
		return HTTPRequestError, eff
	}
	if s.errno == errnoTerminated || s.eof || s.unexpectedEOF || s.closed ||
		s.text == textConnectionLost || s.text == textGracefulGoAway {
		return s.terminatedKind(eff), eff
	}
	if s.text == textTLS {
		return TLSProtocolError, eff
	}
	if s.op != nil && (s.op.Op == "read" || s.op.Op == "write") {
		return s.terminatedKind(eff), eff
	}
	return Unknown, eff
}

// timeoutKind returns the kind of a timeout in phase eff.
func (s *scan) timeoutKind(eff Phase) Kind {
	switch eff {
	case PhaseDNS:
		return DNSTimeout
	case PhaseDial, PhaseTLS:
		return ConnectionTimeout
	case PhaseWriteRequest:
		return ConnectionWriteTimeout
	case PhaseAwaitHeaders, PhaseReadHeaders:
		return HTTPResponseTimeout
	case PhaseReadBody:
		return ConnectionReadTimeout
	}
	switch {
	case s.text == textResponseHeaderTimeout:
		return HTTPResponseTimeout
	case s.text == textBodyTimeout:
		return ConnectionReadTimeout
	case s.op != nil && s.op.Op == "read" && s.url == nil:
		return ConnectionReadTimeout
	case s.op != nil && s.op.Op == "write":
		return ConnectionWriteTimeout
	}
	return HTTPResponseTimeout
}

// terminatedKind returns the kind of a connection that ended (EOF, reset,
// closed) in phase eff.
func (s *scan) terminatedKind(eff Phase) Kind {
	switch eff {
	case PhaseTLS:
		return TLSProtocolError
	case PhaseReadBody:
		return HTTPResponseIncomplete
	case PhaseUnknown:
		// An *url.Error comes from http.Client, which returns before the
		// body is read: the response had not arrived. A bare unexpected
		// EOF most often ends a body.
		if s.url == nil && s.unexpectedEOF {
			return HTTPResponseIncomplete
		}
	}
	return ConnectionTerminated
}

// h2Kind returns the kind of the HTTP/2 error found.
func (s *scan) h2Kind(eff Phase) Kind {
	switch s.h2Code {
	case http2.ErrCodeProtocol, http2.ErrCodeFlowControl, http2.ErrCodeSettingsTimeout,
		http2.ErrCodeStreamClosed, http2.ErrCodeFrameSize, http2.ErrCodeCompression,
		http2.ErrCodeHTTP11Required:
		return HTTPProtocolError
	case http2.ErrCodeEnhanceYourCalm:
		return ConnectionLimitReached
	case http2.ErrCodeInadequateSecurity:
		return TLSProtocolError
	}
	if s.h2 == h2Conn {
		return HTTPProtocolError
	}
	return s.terminatedKind(eff)
}

// fill sets e's fields from what the scan found.
func (s *scan) fill(e *Error) {
	switch {
	case s.url != nil:
		e.Upstream = urlHost(s.url.URL)
	case s.dns != nil:
		e.Upstream = s.dns.Name
	}
	var addr string
	if s.op != nil && s.op.Addr != nil {
		addr = addrString(s.op.Addr, e.Upstream)
	}
	if e.Upstream == "" {
		e.Upstream = addr
	}
	switch {
	case s.dns != nil:
		e.NextHop = s.dns.Name
	case addr != "":
		e.NextHop = addr
	default:
		e.NextHop = e.Upstream
	}
	if s.dns != nil && e.Kind == DNSError {
		switch {
		case s.dns.IsNotFound:
			e.DNSRcode = "NXDOMAIN"
		case s.dns.IsTemporary && s.dns.Err == "server misbehaving":
			// net's resolver reports SERVFAIL, and only SERVFAIL, as a
			// temporary "server misbehaving".
			e.DNSRcode = "SERVFAIL"
		}
	}
	if s.alert >= 0 && e.Kind == TLSAlertReceived {
		e.TLSAlertID = s.alert
		e.TLSAlertMessage = alertName(s.alert)
	}
	switch e.Kind {
	case HTTPResponseHeaderSectionSize:
		e.Size = s.textSize
	case HTTPResponseBodySize:
		if s.maxBytes != nil { // else the kind came as a Kind in the chain
			e.Size = s.maxBytes.Limit
		}
	}
	if s.h2 == h2Stream && s.h2Code == http2.ErrCodeRefusedStream {
		// RFC 9113, Section 8.7: the stream was refused before any
		// processing; the request can be retried.
		e.requestSent = sentNo
	}
	if s.text == textGracefulGoAway {
		// x/net/http2 aborts the streams a graceful GOAWAY left out.
		e.requestSent = sentNo
	}
	if s.text == textRedirectLimit {
		// The first request reached the upstream, which answered with
		// the first redirect.
		e.requestSent = sentYes
	}
}

// urlHost returns the host[:port] of a URL as *url.Error holds it, without
// parsing (and allocating) a url.URL.
func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if strings.HasPrefix(u, "//") {
		u = u[2:]
	} else {
		return ""
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	return u
}

// addrString formats a network address, in one allocation for TCP and UDP
// addresses and none when the text equals same.
func addrString(a net.Addr, same string) string {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		if a == nil {
			return ""
		}
		ap = a.AddrPort()
	case *net.UDPAddr:
		if a == nil {
			return ""
		}
		ap = a.AddrPort()
	default:
		return a.String()
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	var buf [64]byte
	b := ap.AppendTo(buf[:0])
	if string(b) == same {
		return same
	}
	return string(b)
}
