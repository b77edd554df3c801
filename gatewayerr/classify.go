package gatewayerr

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
)

// Classify returns the [Error] that err represents, so that a gateway can
// answer with the right status and report the right Proxy-Status. It returns
// nil for a nil err and a non-nil *Error otherwise, [Unknown] (502) when
// nothing in err is recognized.
//
// Classify is idempotent: when err's chain already holds an *Error of a kind
// other than [Unknown], it returns that *Error. A [Kind] in the chain is
// taken as the kind: a gateway can give one as the cause of its own
// deadline (context.WithTimeoutCause(ctx, d, gatewayerr.HTTPResponseTimeout))
// and net/http returns that cause. Otherwise Classify returns a new *Error
// whose Err is err.
//
// It looks through [*url.Error], fmt's %w chains and [errors.Join] at the
// values Go's HTTP clients produce: [context.Canceled] (the client went away,
// [ClientClosedRequest]), [context.DeadlineExceeded] and other timeouts,
// [*net.DNSError], [*net.OpError] and the system call errors under it, the
// errors of crypto/tls and crypto/x509, the HTTP/2 stream, GOAWAY and
// connection errors of golang.org/x/net/http2 and of net/http's bundled
// HTTP/2, and the errors of compress/gzip and compress/flate. Where Go
// exposes a failure only as text (some net/http and HTTP/2 errors, and
// http.Client's "stopped after 10 redirects", which is
// [ProxyLoopDetected]), the matching is done in one place, pinned by tests.
//
// The same value can mean different things at different steps of an
// exchange: a bare [io.EOF] is a TLS hang-up during the handshake and a
// truncated response in the body. Classify makes the best call the value
// allows and records the [Phase] when the value shows it (a DNS error, a
// dial error, a certificate error); [ClassifyPhase] is for callers that know
// the phase.
//
// Classify allocates only the *Error, plus the text of the next hop's
// address when the error carries one (a [*net.OpError] with an Addr).
func Classify(err error) *Error {
	return ClassifyPhase(err, PhaseUnknown)
}

// ClassifyPhase is [Classify] for a caller that knows in which phase of the
// exchange err happened, such as a RoundTripper that follows the exchange
// with net/http/httptrace and wraps the response body. The phase settles
// what the value alone cannot: a connection reset or [io.EOF] before the
// response's header is connection_terminated, while reading the body
// http_response_incomplete, and during the TLS handshake tls_protocol_error;
// a deadline is dns_timeout in [PhaseDNS], connection_timeout in [PhaseDial]
// and [PhaseTLS], connection_write_timeout in [PhaseWriteRequest],
// http_response_timeout while awaiting or reading the header, and
// connection_read_timeout in [PhaseReadBody]. The returned *Error records
// phase, unless err shows another (a [*net.DNSError] is always [PhaseDNS], a
// dial error [PhaseDial]) or err already held an *Error (see [Classify]).
func ClassifyPhase(err error, phase Phase) *Error {
	if err == nil {
		return nil
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

// scan holds what a walk of an error chain found, the outermost occurrence
// of each thing first.
type scan struct {
	classified *Error // the first *Error
	kind       Kind   // a Kind found in the chain, or Unknown
	url        *url.Error
	op         *net.OpError
	dns        *net.DNSError
	maxBytes   *http.MaxBytesError

	errno errnoClass // what the first system call error says

	canceled      bool // context.Canceled
	deadline      bool // context.DeadlineExceeded, os.ErrDeadlineExceeded
	timeout       bool // some node's Timeout() is true
	eof           bool // io.EOF
	unexpectedEOF bool // io.ErrUnexpectedEOF
	closed        bool // net.ErrClosed
	certificate   bool // an x509 or certificate verification error
	recordHeader  bool // a tls.RecordHeaderError: the peer does not speak TLS
	scheme        bool // http.ErrSchemeMismatch
	coding        bool // a gzip, zlib or flate error
	config        bool // an address that cannot be used (net.AddrError, ...)
	protocol      bool // a textproto.ProtocolError: a malformed header

	alert       int  // a TLS alert's number, or -1 when none was found
	alertRemote bool // the alert came from the peer

	h2       h2Kind // the first HTTP/2 error found
	h2Code   http2.ErrCode
	text     textFact // what matchText recognized in a leaf
	textSize int64    // the size matchText found, or -1

	nodes int // nodes visited, to bound the walk
}

// h2Kind is the family of an HTTP/2 error.
type h2Kind uint8

const (
	h2None   h2Kind = iota
	h2Stream        // RST_STREAM, from the peer or local
	h2GoAway        // GOAWAY from the peer, then a closed connection
	h2Conn          // a connection error detected locally
)

// maxNodes bounds the walk of an error chain, against pathological chains.
const maxNodes = 256

func (s *scan) run(err error) {
	s.alert = -1
	s.textSize = -1
	defer func() {
		// An error type whose methods panic (a nil pointer with
		// value-receiver methods, say) ends the walk; Classify never panics.
		_ = recover()
	}()
	s.walk(err)
}

func (s *scan) walk(err error) {
	for err != nil && s.nodes < maxNodes {
		s.nodes++
		leaf := s.visit(err)
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if leaf {
				return
			}
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				s.walk(e)
			}
			return
		default:
			if !leaf {
				s.matchLeaf(err)
			}
			return
		}
	}
}

// visit records what err itself says. It reports true when err is fully
// understood and the walk need not go below it.
func (s *scan) visit(err error) (stop bool) {
	switch e := err.(type) {
	case *Error:
		if e == nil {
			return true
		}
		if s.classified == nil {
			s.classified = e
		}
		return false
	case Kind:
		if s.kind == Unknown && e != Unknown && e < numKinds {
			s.kind = e
		}
		return true
	case *url.Error:
		if e == nil {
			return true
		}
		if s.url == nil {
			s.url = e
		}
		return false
	case *net.OpError:
		if e == nil {
			return true
		}
		if e.Op == "remote error" || e.Op == "local error" {
			if id, ok := tlsAlert(e.Err); ok && s.alert < 0 {
				s.alert = id
				s.alertRemote = e.Op == "remote error"
			}
		}
		if s.op == nil {
			s.op = e
		}
		return false
	case *net.DNSError:
		if e == nil {
			return true
		}
		if s.dns == nil {
			s.dns = e
		}
		if e.IsTimeout {
			s.timeout = true
		}
		return false
	case textproto.ProtocolError:
		s.protocol = true
		return true
	case *net.AddrError, net.UnknownNetworkError, net.InvalidAddrError, *net.ParseError:
		// The upstream's address cannot be used as configured.
		s.config = true
		return true
	case *http.MaxBytesError:
		if e == nil {
			return true
		}
		if s.maxBytes == nil {
			s.maxBytes = e
		}
		return true
	case *tls.CertificateVerificationError:
		s.certificate = true
		return false
	case x509.UnknownAuthorityError, x509.HostnameError, x509.CertificateInvalidError,
		x509.SystemRootsError, x509.ConstraintViolationError, x509.UnhandledCriticalExtension,
		x509.InsecureAlgorithmError:
		s.certificate = true
		return true
	case tls.RecordHeaderError:
		s.recordHeader = true
		return true
	case tls.AlertError:
		if s.alert < 0 {
			s.alert = int(e)
			s.alertRemote = true
		}
		return true
	case *tls.ECHRejectionError:
		if e != nil {
			s.recordHeader = true // a TLS failure with no alert
		}
		return true
	case http2.StreamError:
		s.setH2(h2Stream, e.Code)
		return true
	case http2.GoAwayError:
		s.setH2(h2GoAway, e.ErrCode)
		return true
	case http2.ConnectionError:
		s.setH2(h2Conn, http2.ErrCode(e))
		return true
	case flate.CorruptInputError, flate.InternalError:
		s.coding = true
		return true
	}
	if c, ok := errnoOf(err); ok {
		if s.errno == errnoNone {
			s.errno = c
		}
		return true
	}
	switch err {
	case context.Canceled:
		s.canceled = true
		return true
	case context.DeadlineExceeded, os.ErrDeadlineExceeded:
		s.deadline = true
		s.timeout = true
		return true
	case io.EOF:
		s.eof = true
		return true
	case io.ErrUnexpectedEOF:
		s.unexpectedEOF = true
		return true
	case net.ErrClosed, io.ErrClosedPipe:
		s.closed = true
		return true
	case http.ErrSchemeMismatch:
		s.scheme = true
		return true
	case gzip.ErrHeader, gzip.ErrChecksum, zlib.ErrHeader, zlib.ErrChecksum, zlib.ErrDictionary:
		s.coding = true
		return true
	}
	if id, ok := tlsAlert(err); ok {
		// An alert outside a *net.OpError: one this side sent.
		if s.alert < 0 {
			s.alert = id
		}
		return true
	}
	if x, ok := err.(interface{ Is(error) bool }); ok {
		if x.Is(context.Canceled) {
			s.canceled = true
		}
		if x.Is(context.DeadlineExceeded) {
			s.deadline = true
		}
	}
	if x, ok := err.(interface{ Timeout() bool }); ok && x.Timeout() {
		s.timeout = true
	}
	if _, ok := err.(interface{ As(any) bool }); ok && s.h2 == h2None {
		// net/http's bundled HTTP/2 stream error converts itself to
		// golang.org/x/net/http2's.
		var se http2.StreamError
		if errors.As(err, &se) {
			s.setH2(h2Stream, se.Code)
			return true
		}
	}
	return false
}

func (s *scan) setH2(k h2Kind, code http2.ErrCode) {
	if s.h2 == h2None {
		s.h2, s.h2Code = k, code
	}
}

// matchLeaf records what the text of a leaf of an unknown type says.
func (s *scan) matchLeaf(err error) {
	if s.text != textNone {
		return
	}
	fact, size, code := matchText(err.Error())
	s.text, s.textSize = fact, size
	switch fact {
	case textH2GoAway:
		s.setH2(h2GoAway, code)
	case textH2Conn:
		s.setH2(h2Conn, code)
	}
}

// tlsAlert reports the number of a TLS alert from crypto/tls: a
// [tls.AlertError] or the unexported alert type that a *net.OpError with Op
// "remote error" carries.
func tlsAlert(err error) (int, bool) {
	if a, ok := err.(tls.AlertError); ok {
		return int(a), true
	}
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Uint8 && v.Type().PkgPath() == "crypto/tls" {
		return int(v.Uint()), true
	}
	return 0, false
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

// alertName returns the name of a TLS alert as the TLS Alerts registry
// spells it, for RFC 9209's alert-message parameter.
func alertName(id int) string {
	switch id {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 21:
		return "decryption_failed"
	case 22:
		return "record_overflow"
	case 30:
		return "decompression_failure"
	case 40:
		return "handshake_failure"
	case 41:
		return "no_certificate"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 60:
		return "export_restriction"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 100:
		return "no_renegotiation"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 111:
		return "certificate_unobtainable"
	case 112:
		return "unrecognized_name"
	case 113:
		return "bad_certificate_status_response"
	case 114:
		return "bad_certificate_hash_value"
	case 115:
		return "unknown_psk_identity"
	case 116:
		return "certificate_required"
	case 120:
		return "no_application_protocol"
	case 121:
		return "ech_required"
	}
	return ""
}

// textFact is what the text of an error says, for the errors that Go exposes
// only as text.
type textFact uint8

const (
	textNone                  textFact = iota
	textResponseHeaderTimeout          // a response-header timeout
	textBodyTimeout                    // http.Client's timeout while reading the body
	textTLSHandshakeTimeout            // http.Transport's TLSHandshakeTimeout
	textHeaderSectionSize              // the response header exceeded the limit
	textTrailerSectionSize             // the response trailer exceeded the limit
	textIncomplete                     // the response ended early
	textProtocol                       // a malformed response
	textUpgrade                        // a protocol upgrade that failed
	textInternal                       // the gateway itself cannot go on
	textTransferCoding                 // a broken chunked coding
	textRequestCanceled                // the request was canceled by its sender
	textConfig                         // the request cannot be sent as configured
	textRequest                        // the client's request cannot be forwarded
	textConnectionLost                 // the connection was lost
	textGracefulGoAway                 // a graceful GOAWAY left the request out
	textH2GoAway                       // an HTTP/2 GOAWAY from the peer
	textH2Conn                         // an HTTP/2 connection error
	textTLS                            // another crypto/tls error
	textRedirectLimit                  // http.Client followed too many redirects
)

// matchText is the only place where error text is matched. It recognizes
// the errors that net/http, its bundled HTTP/2 and golang.org/x/net/http2
// expose only as text, and returns what the message says, the size it
// names (or -1) and the HTTP/2 error code it names. Each message is pinned
// by TestMatchText, most of them as produced by real connections.
func matchText(msg string) (fact textFact, size int64, code http2.ErrCode) {
	size = -1
	has := func(sub string) bool { return strings.Contains(msg, sub) }
	switch {
	case has("timeout awaiting response headers"), // net/http, x/net/http2
		has("Client.Timeout exceeded while awaiting headers"):
		return textResponseHeaderTimeout, size, 0
	case has("Client.Timeout or context cancellation while reading body"):
		return textBodyTimeout, size, 0
	case has("TLS handshake timeout"):
		return textTLSHandshakeTimeout, size, 0
	case has("server response headers exceeded "): // "... %d bytes; aborted"
		rest := msg[strings.Index(msg, "exceeded ")+len("exceeded "):]
		if i := strings.IndexByte(rest, ' '); i > 0 {
			if n, err := strconv.ParseInt(rest[:i], 10, 64); err == nil {
				size = n
			}
		}
		return textHeaderSectionSize, size, 0
	case has("response header list larger than advertised limit"), // x/net/http2, bundled
		msg == "header list too large":
		return textHeaderSectionSize, size, 0
	case has("malformed HTTP"), // response, status code, version
		has("malformed MIME header"),
		has("malformed response from server"), // HTTP/2: missing or bad :status
		has("server replied with more than declared Content-Length"),
		has("1xx informational response with END_STREAM"),
		has("http2: frame too large"), // ErrFrameTooLarge, and an HTTP/1.1 answer to h2
		has("too many 1xx informational responses"),
		has("protocol error: headers after END_STREAM"),
		has("cannot contain multiple Content-Length headers"),
		has("invalid Content-Length"),
		has("bad Content-Length"),
		has("invalid empty Content-Length"),
		has("bad trailer key"):
		return textProtocol, size, 0
	case has("backend tried to switch protocol"), // httputil.ReverseProxy
		has("switching protocols response with non-writable body"):
		return textUpgrade, size, 0
	case has("can't switch protocols using non-Hijacker ResponseWriter"):
		return textInternal, size, 0
	case has("chunk length"), // invalid byte in, too large, empty hex number for
		has("malformed chunked encoding"),
		has("chunked encoding contains too much non-data"),
		has("chunked line ends with bare LF"),
		has("invalid CR in chunked line"),
		msg == "header line too long", // a chunk-size line (httputil.ErrLineTooLong)
		has("unsupported transfer encoding"),
		has("too many transfer encodings"):
		return textTransferCoding, size, 0
	case has("suspiciously long trailer after chunked body"):
		return textTrailerSectionSize, size, 0
	case has("unexpected EOF reading trailer"):
		return textIncomplete, size, 0
	case has("net/http: request canceled"):
		return textRequestCanceled, size, 0
	case has("unsupported protocol scheme"),
		has("no Host in request URL"),
		has("nil Request.URL"),
		has("http2: unsupported scheme"),
		has("unencrypted HTTP/2 not enabled"),
		has("does not support unencrypted HTTP/2"):
		return textConfig, size, 0
	case has("net/http: invalid header"),
		has("net/http: invalid trailer"),
		has("net/http: invalid method"),
		has("invalid HTTP header"), // HTTP/2 request encoding (x/net and bundled)
		has("invalid HTTP trailer"),
		has("invalid Host header"),
		has("invalid request :path"),
		has("invalid :protocol header"),
		has("request header: "), // invalid Upgrade, Transfer-Encoding, Connection
		has("invalid Trailer key"),
		has("request header list larger than peer's advertised limit"),
		has("with Body length"), // "http: ContentLength=%d with Body length %d"
		has("request body larger than specified content length"):
		return textRequest, size, 0
	case has("cannot retry err"): // "http2: Transport: cannot retry err [%v] after Request.Body was written"
		return textConnectionLost, size, 0
	case has("graceful shutdown GOAWAY"): // x/net/http2 errClientConnGotGoAway
		return textGracefulGoAway, size, 0
	case has("server sent GOAWAY"), // GoAwayError: "...; ErrCode=%v, debug=%q"
		has("received GOAWAY from server"): // "... ErrCode:%v"
		return textH2GoAway, size, h2CodeIn(msg)
	case strings.HasPrefix(msg, "connection error: "): // ConnectionError
		return textH2Conn, size, h2CodeIn(msg)
	case has("http2: client connection lost"),
		has("http2: client connection force closed"),
		has("http2: client conn is closed"),
		has("http2: client conn not usable"),
		has("http2: client conn could not be established"),
		has("cannot rewind body after connection loss"),
		has("server closed idle connection"):
		return textConnectionLost, size, 0
	case strings.HasPrefix(msg, "tls: ") || has(": tls: "):
		return textTLS, size, 0
	case redirectLimit(msg):
		return textRedirectLimit, size, 0
	}
	return textNone, size, 0
}

// redirectLimit reports whether msg is the whole text of the error with
// which http.Client's default CheckRedirect stops: "stopped after 10
// redirects". The number is read as any number, the text is not searched
// for within a longer one: a redirect chain that long is a loop, and an
// error of another origin that mentions redirects is not.
func redirectLimit(msg string) bool {
	rest, ok := strings.CutPrefix(msg, "stopped after ")
	if !ok {
		return false
	}
	n, ok := strings.CutSuffix(rest, " redirects")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// h2CodeIn returns the HTTP/2 error code named in msg, such as the
// PROTOCOL_ERROR of "ErrCode=PROTOCOL_ERROR", or NO_ERROR. The code is read
// after "ErrCode" when msg has it, so that GOAWAY debug data cannot fake it.
func h2CodeIn(msg string) http2.ErrCode {
	if i := strings.Index(msg, "ErrCode"); i >= 0 {
		msg = msg[i+len("ErrCode")+1:]
		if j := strings.IndexAny(msg, ", "); j >= 0 {
			msg = msg[:j]
		}
	}
	for c := http2.ErrCodeHTTP11Required; c > http2.ErrCodeNo; c-- {
		if strings.HasPrefix(msg, c.String()) || strings.HasSuffix(msg, " "+c.String()) {
			return c
		}
	}
	return http2.ErrCodeNo
}
