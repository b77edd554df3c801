package gatewayerr

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http2"
)

// Shapes of the errors Go's clients return, built by hand; classify_test.go
// checks the same against real failures.

func urlErr(err error) error {
	return &url.Error{Op: "Get", URL: "http://user:pw@backend.internal:8080/path?q=1", Err: err}
}

func opErr(op string, err error) error {
	return &net.OpError{
		Op: op, Net: "tcp",
		Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		Err:  err,
	}
}

func sysErr(call string, n syscall.Errno) error { return os.NewSyscallError(call, n) }

// panicErr panics whatever is asked of it.
type panicErr struct{ p *int }

func (e panicErr) Error() string { return fmt.Sprint(*e.p) }
func (e panicErr) Unwrap() error { return fmt.Errorf("%d", *e.p) }

type classifyWant struct {
	Kind        Kind
	Status      int
	RequestSent bool
	Phase       Phase
}

func TestClassifyValues(t *testing.T) {
	dnsNotFound := &net.DNSError{Err: "no such host", Name: "missing.test", IsNotFound: true}
	tests := []struct {
		name  string
		err   error
		phase Phase
		want  classifyWant
	}{
		{"unknown", errors.New("boom"), PhaseUnknown, classifyWant{Unknown, 502, true, PhaseUnknown}},
		{"refused", urlErr(opErr("dial", sysErr("connect", syscall.ECONNREFUSED))), PhaseUnknown, classifyWant{ConnectionRefused, 502, false, PhaseDial}},
		{"refused with phase", opErr("dial", sysErr("connect", syscall.ECONNREFUSED)), PhaseDial, classifyWant{ConnectionRefused, 502, false, PhaseDial}},
		{"proxyconnect refused", opErr("proxyconnect", sysErr("connect", syscall.ECONNREFUSED)), PhaseUnknown, classifyWant{ConnectionRefused, 502, false, PhaseDial}},
		{"unreachable", urlErr(opErr("dial", sysErr("connect", syscall.EHOSTUNREACH))), PhaseUnknown, classifyWant{DestinationIPUnroutable, 502, false, PhaseDial}},
		{"network unreachable", opErr("dial", sysErr("connect", syscall.ENETUNREACH)), PhaseUnknown, classifyWant{DestinationIPUnroutable, 502, false, PhaseDial}},
		{"prohibited", opErr("dial", sysErr("connect", syscall.EACCES)), PhaseUnknown, classifyWant{DestinationIPProhibited, 502, false, PhaseDial}},
		{"out of files", opErr("dial", sysErr("socket", syscall.EMFILE)), PhaseUnknown, classifyWant{ConnectionLimitReached, 503, false, PhaseDial}},
		{"out of ports", opErr("dial", sysErr("connect", syscall.EADDRNOTAVAIL)), PhaseUnknown, classifyWant{ConnectionLimitReached, 503, false, PhaseDial}},
		{"dial ETIMEDOUT", opErr("dial", sysErr("connect", syscall.ETIMEDOUT)), PhaseUnknown, classifyWant{ConnectionTimeout, 504, false, PhaseDial}},
		{"dial deadline", urlErr(opErr("dial", os.ErrDeadlineExceeded)), PhaseUnknown, classifyWant{ConnectionTimeout, 504, false, PhaseDial}},
		{"dial context deadline", opErr("dial", context.DeadlineExceeded), PhaseUnknown, classifyWant{ConnectionTimeout, 504, false, PhaseDial}},
		{"dial unknown cause", opErr("dial", errors.New("blocked by policy")), PhaseUnknown, classifyWant{Unknown, 502, false, PhaseDial}},
		{"read ETIMEDOUT in body", opErr("read", sysErr("read", syscall.ETIMEDOUT)), PhaseReadBody, classifyWant{ConnectionReadTimeout, 504, true, PhaseReadBody}},

		{"canceled", context.Canceled, PhaseUnknown, classifyWant{ClientClosedRequest, 499, true, PhaseUnknown}},
		{"canceled in url.Error", urlErr(context.Canceled), PhaseAwaitHeaders, classifyWant{ClientClosedRequest, 499, true, PhaseAwaitHeaders}},
		{"canceled joined", errors.Join(io.EOF, fmt.Errorf("w: %w", context.Canceled)), PhaseUnknown, classifyWant{ClientClosedRequest, 499, true, PhaseUnknown}},
		{"canceled beats deadline", errors.Join(context.DeadlineExceeded, context.Canceled), PhaseUnknown, classifyWant{ClientClosedRequest, 499, true, PhaseUnknown}},
		{"canceled DNS lookup", urlErr(opErr("dial", &net.DNSError{Err: "operation was canceled", Name: "x.test", UnwrapErr: context.Canceled})), PhaseUnknown, classifyWant{ClientClosedRequest, 499, false, PhaseDNS}},
		{"request canceled text", errors.New("net/http: request canceled"), PhaseUnknown, classifyWant{ClientClosedRequest, 499, true, PhaseUnknown}},

		{"deadline", context.DeadlineExceeded, PhaseUnknown, classifyWant{HTTPResponseTimeout, 504, true, PhaseUnknown}},
		{"deadline in url.Error", urlErr(context.DeadlineExceeded), PhaseUnknown, classifyWant{HTTPResponseTimeout, 504, true, PhaseUnknown}},
		{"deadline in DNS phase", context.DeadlineExceeded, PhaseDNS, classifyWant{DNSTimeout, 504, false, PhaseDNS}},
		{"deadline in dial phase", context.DeadlineExceeded, PhaseDial, classifyWant{ConnectionTimeout, 504, false, PhaseDial}},
		{"deadline in TLS phase", context.DeadlineExceeded, PhaseTLS, classifyWant{ConnectionTimeout, 504, false, PhaseTLS}},
		{"deadline writing", context.DeadlineExceeded, PhaseWriteRequest, classifyWant{ConnectionWriteTimeout, 504, true, PhaseWriteRequest}},
		{"deadline awaiting headers", context.DeadlineExceeded, PhaseAwaitHeaders, classifyWant{HTTPResponseTimeout, 504, true, PhaseAwaitHeaders}},
		{"deadline reading headers", context.DeadlineExceeded, PhaseReadHeaders, classifyWant{HTTPResponseTimeout, 504, true, PhaseReadHeaders}},
		{"deadline in body", context.DeadlineExceeded, PhaseReadBody, classifyWant{ConnectionReadTimeout, 504, true, PhaseReadBody}},
		{"read deadline", opErr("read", os.ErrDeadlineExceeded), PhaseUnknown, classifyWant{ConnectionReadTimeout, 504, true, PhaseUnknown}},
		{"write deadline", opErr("write", os.ErrDeadlineExceeded), PhaseUnknown, classifyWant{ConnectionWriteTimeout, 504, true, PhaseUnknown}},
		{"response header timeout", urlErr(&textErr{"net/http: timeout awaiting response headers", true}), PhaseUnknown, classifyWant{HTTPResponseTimeout, 504, true, PhaseUnknown}},
		{"client timeout", urlErr(&textErr{"context deadline exceeded (Client.Timeout exceeded while awaiting headers)", true}), PhaseUnknown, classifyWant{HTTPResponseTimeout, 504, true, PhaseUnknown}},
		{"client timeout in body", &textErr{"read: EOF (Client.Timeout or context cancellation while reading body)", true}, PhaseUnknown, classifyWant{ConnectionReadTimeout, 504, true, PhaseUnknown}},
		{"TLS handshake timeout", urlErr(&textErr{"net/http: TLS handshake timeout", true}), PhaseUnknown, classifyWant{ConnectionTimeout, 504, false, PhaseTLS}},
		{"some timeout", &textErr{"it took too long", true}, PhaseUnknown, classifyWant{HTTPResponseTimeout, 504, true, PhaseUnknown}},

		{"NXDOMAIN", urlErr(opErr("dial", dnsNotFound)), PhaseUnknown, classifyWant{DNSError, 502, false, PhaseDNS}},
		{"DNS timeout", &net.DNSError{Err: "i/o timeout", Name: "slow.test", IsTimeout: true}, PhaseUnknown, classifyWant{DNSTimeout, 504, false, PhaseDNS}},
		{"DNS deadline", &net.DNSError{Err: "x", Name: "slow.test", UnwrapErr: context.DeadlineExceeded}, PhaseUnknown, classifyWant{DNSTimeout, 504, false, PhaseDNS}},
		{"SERVFAIL", &net.DNSError{Err: "server misbehaving", Name: "broken.test", IsTemporary: true}, PhaseUnknown, classifyWant{DNSError, 502, false, PhaseDNS}},
		{"DNS error shows its phase", dnsNotFound, PhaseAwaitHeaders, classifyWant{DNSError, 502, false, PhaseDNS}},
		{"alert after the handshake", &net.OpError{Op: "remote error", Err: tls.AlertError(116)}, PhaseAwaitHeaders, classifyWant{TLSAlertReceived, 502, true, PhaseAwaitHeaders}},

		{"EOF", io.EOF, PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"EOF in url.Error", urlErr(io.EOF), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"EOF in TLS", io.EOF, PhaseTLS, classifyWant{TLSProtocolError, 502, false, PhaseTLS}},
		{"EOF awaiting headers", io.EOF, PhaseAwaitHeaders, classifyWant{ConnectionTerminated, 502, true, PhaseAwaitHeaders}},
		{"EOF in body", io.EOF, PhaseReadBody, classifyWant{HTTPResponseIncomplete, 502, true, PhaseReadBody}},
		{"unexpected EOF", io.ErrUnexpectedEOF, PhaseUnknown, classifyWant{HTTPResponseIncomplete, 502, true, PhaseUnknown}},
		{"unexpected EOF in headers", urlErr(fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", io.ErrUnexpectedEOF)), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"reset", urlErr(opErr("read", sysErr("read", syscall.ECONNRESET))), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"reset in body", opErr("read", sysErr("read", syscall.ECONNRESET)), PhaseReadBody, classifyWant{HTTPResponseIncomplete, 502, true, PhaseReadBody}},
		{"reset in TLS", opErr("read", sysErr("read", syscall.ECONNRESET)), PhaseTLS, classifyWant{TLSProtocolError, 502, false, PhaseTLS}},
		{"broken pipe", opErr("write", sysErr("write", syscall.EPIPE)), PhaseWriteRequest, classifyWant{ConnectionTerminated, 502, true, PhaseWriteRequest}},
		{"closed", opErr("read", net.ErrClosed), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"closed pipe", io.ErrClosedPipe, PhaseReadBody, classifyWant{HTTPResponseIncomplete, 502, true, PhaseReadBody}},
		{"unknown network", opErr("dial", net.UnknownNetworkError("tcp9")), PhaseUnknown, classifyWant{ProxyConfigurationError, 500, false, PhaseDial}},
		{"read error of another errno", opErr("read", sysErr("read", syscall.EIO)), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"syscall error that timed out", opErr("read", sysErr("read", syscall.EAGAIN)), PhaseReadBody, classifyWant{ConnectionReadTimeout, 504, true, PhaseReadBody}},
		{"nil syscall error", opErr("dial", (*os.SyscallError)(nil)), PhaseUnknown, classifyWant{Unknown, 502, false, PhaseDial}},

		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), PhaseUnknown, classifyWant{TLSCertificateError, 502, false, PhaseTLS}},
		{"hostname", x509.HostnameError{Host: "x"}, PhaseUnknown, classifyWant{TLSCertificateError, 502, false, PhaseTLS}},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, PhaseUnknown, classifyWant{TLSCertificateError, 502, false, PhaseTLS}},
		{"alert received", urlErr(&net.OpError{Op: "remote error", Err: tls.AlertError(42)}), PhaseUnknown, classifyWant{TLSAlertReceived, 502, false, PhaseTLS}},
		{"alert error", tls.AlertError(40), PhaseUnknown, classifyWant{TLSAlertReceived, 502, false, PhaseTLS}},
		{"record header", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), PhaseUnknown, classifyWant{TLSProtocolError, 502, false, PhaseTLS}},
		{"scheme mismatch", urlErr(http.ErrSchemeMismatch), PhaseUnknown, classifyWant{TLSProtocolError, 502, false, PhaseTLS}},
		{"other tls error", urlErr(errors.New("tls: no supported versions satisfy MinVersion and MaxVersion")), PhaseUnknown, classifyWant{TLSProtocolError, 502, false, PhaseUnknown}},

		{"h2 RST internal", urlErr(http2.StreamError{StreamID: 1, Code: http2.ErrCodeInternal}), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"h2 RST in body", http2.StreamError{StreamID: 1, Code: http2.ErrCodeCancel}, PhaseReadBody, classifyWant{HTTPResponseIncomplete, 502, true, PhaseReadBody}},
		{"h2 RST protocol", http2.StreamError{StreamID: 1, Code: http2.ErrCodeProtocol}, PhaseUnknown, classifyWant{HTTPProtocolError, 502, true, PhaseUnknown}},
		{"h2 RST refused", http2.StreamError{StreamID: 1, Code: http2.ErrCodeRefusedStream}, PhaseAwaitHeaders, classifyWant{ConnectionTerminated, 502, false, PhaseAwaitHeaders}},
		{"h2 RST calm", http2.StreamError{StreamID: 1, Code: http2.ErrCodeEnhanceYourCalm}, PhaseUnknown, classifyWant{ConnectionLimitReached, 503, false, PhaseUnknown}},
		//lint:ignore SA1019 x/net/http2 still returns GoAwayError, which Classify must recognize
		{"h2 GOAWAY", urlErr(http2.GoAwayError{LastStreamID: 1, ErrCode: http2.ErrCodeNo}), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		//lint:ignore SA1019 x/net/http2 still returns GoAwayError, which Classify must recognize
		{"h2 GOAWAY protocol", http2.GoAwayError{ErrCode: http2.ErrCodeProtocol}, PhaseUnknown, classifyWant{HTTPProtocolError, 502, true, PhaseUnknown}},
		{"h2 GOAWAY text", urlErr(errors.New(`http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=INTERNAL_ERROR, debug=""`)), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
		{"h2 GOAWAY text calm", errors.New(`http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=ENHANCE_YOUR_CALM, debug=""`), PhaseUnknown, classifyWant{ConnectionLimitReached, 503, false, PhaseUnknown}},
		{"h2 graceful GOAWAY", errors.New("http2: Transport received Server's graceful shutdown GOAWAY"), PhaseUnknown, classifyWant{ConnectionTerminated, 502, false, PhaseUnknown}},
		{"h2 connection error", http2.ConnectionError(http2.ErrCodeFlowControl), PhaseUnknown, classifyWant{HTTPProtocolError, 502, true, PhaseUnknown}},
		{"h2 connection error text", errors.New("connection error: PROTOCOL_ERROR"), PhaseUnknown, classifyWant{HTTPProtocolError, 502, true, PhaseUnknown}},
		{"h2 connection lost", urlErr(errors.New("http2: client connection lost")), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},

		{"header section size", urlErr(fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", errors.New("net/http: server response headers exceeded 1000 bytes; aborted"))), PhaseUnknown, classifyWant{HTTPResponseHeaderSectionSize, 502, true, PhaseUnknown}},
		{"h2 header list", urlErr(errors.New("http2: response header list larger than advertised limit")), PhaseUnknown, classifyWant{HTTPResponseHeaderSectionSize, 502, true, PhaseUnknown}},
		{"malformed", urlErr(fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", errors.New(`malformed HTTP response "garbage"`))), PhaseUnknown, classifyWant{HTTPProtocolError, 502, true, PhaseUnknown}},
		{"bad chunk", errors.New("invalid byte in chunk length"), PhaseReadBody, classifyWant{HTTPResponseTransferCoding, 502, true, PhaseReadBody}},
		{"malformed MIME header", urlErr(textproto.ProtocolError("malformed MIME header line: x")), PhaseUnknown, classifyWant{HTTPProtocolError, 502, true, PhaseUnknown}},
		{"trailer too long", errors.New("http: suspiciously long trailer after chunked body"), PhaseReadBody, classifyWant{HTTPResponseTrailerSectionSize, 502, true, PhaseReadBody}},
		{"trailer cut", errors.New("http: unexpected EOF reading trailer"), PhaseUnknown, classifyWant{HTTPResponseIncomplete, 502, true, PhaseUnknown}},
		{"bad gzip", gzip.ErrHeader, PhaseReadBody, classifyWant{HTTPResponseContentCoding, 502, true, PhaseReadBody}},
		{"bad gzip checksum", fmt.Errorf("read: %w", gzip.ErrChecksum), PhaseUnknown, classifyWant{HTTPResponseContentCoding, 502, true, PhaseUnknown}},
		{"bad deflate", flate.CorruptInputError(7), PhaseUnknown, classifyWant{HTTPResponseContentCoding, 502, true, PhaseUnknown}},
		{"body too large", &http.MaxBytesError{Limit: 1 << 20}, PhaseReadBody, classifyWant{HTTPResponseBodySize, 502, true, PhaseReadBody}},
		{"request body too large", &http.MaxBytesError{Limit: 1 << 20}, PhaseUnknown, classifyWant{HTTPRequestError, 400, true, PhaseUnknown}},
		{"unsupported scheme", urlErr(errors.New(`unsupported protocol scheme "ftp"`)), PhaseUnknown, classifyWant{ProxyConfigurationError, 500, false, PhaseUnknown}},
		{"invalid header", errors.New(`net/http: invalid header field name "a b"`), PhaseUnknown, classifyWant{HTTPRequestError, 400, true, PhaseUnknown}},

		{"kind in chain", fmt.Errorf("breaker: %w", DestinationUnavailable), PhaseUnknown, classifyWant{DestinationUnavailable, 503, false, PhaseUnknown}},
		{"kind joined", errors.Join(io.EOF, ProxyLoopDetected), PhaseUnknown, classifyWant{ProxyLoopDetected, 502, false, PhaseUnknown}},
		{"nil url.Error in chain", fmt.Errorf("w: %w", (*url.Error)(nil)), PhaseUnknown, classifyWant{Unknown, 502, true, PhaseUnknown}},
		{"panicking error", fmt.Errorf("w: %w", panicErr{}), PhaseUnknown, classifyWant{Unknown, 502, true, PhaseUnknown}},
		{"join with nil", errors.Join(nil, io.EOF), PhaseUnknown, classifyWant{ConnectionTerminated, 502, true, PhaseUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ClassifyPhase(tt.err, tt.phase)
			if e == nil {
				t.Fatal("ClassifyPhase returned nil")
			}
			got := classifyWant{e.Kind, e.StatusCode(), e.RequestSent(), e.Phase}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ClassifyPhase(%v, %v) mismatch (-want +got):\n%s", tt.err, tt.phase, diff)
			}
			if !errors.Is(e, tt.want.Kind) {
				t.Errorf("errors.Is(e, %v) = false", tt.want.Kind)
			}
			if tt.err != nil && e.Err != tt.err && !errors.Is(tt.err, e) {
				t.Errorf("Err = %v, want %v", e.Err, tt.err)
			}
			if e.Timeout() != tt.want.Kind.Timeout() {
				t.Errorf("Timeout() = %v", e.Timeout())
			}
			if phase := tt.phase; phase == PhaseUnknown {
				if again := Classify(tt.err); again.Kind != e.Kind && tt.want.Kind != Unknown {
					t.Errorf("Classify and ClassifyPhase(PhaseUnknown) disagree: %v, %v", again.Kind, e.Kind)
				}
			}
		})
	}
}

func TestClassifyFields(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want *Error
	}{
		{
			"refused",
			urlErr(opErr("dial", sysErr("connect", syscall.ECONNREFUSED))),
			&Error{Kind: ConnectionRefused, Phase: PhaseDial, Upstream: "backend.internal:8080", NextHop: "127.0.0.1:8080", DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
		{
			"op error alone",
			opErr("dial", sysErr("connect", syscall.ECONNREFUSED)),
			&Error{Kind: ConnectionRefused, Phase: PhaseDial, Upstream: "127.0.0.1:8080", NextHop: "127.0.0.1:8080", DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
		{
			"NXDOMAIN",
			opErr("dial", &net.DNSError{Err: "no such host", Name: "missing.test", IsNotFound: true}),
			&Error{Kind: DNSError, Phase: PhaseDNS, Upstream: "missing.test", NextHop: "missing.test", DNSRcode: "NXDOMAIN", DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
		{
			"SERVFAIL",
			&net.DNSError{Err: "server misbehaving", Name: "broken.test", IsTemporary: true},
			&Error{Kind: DNSError, Phase: PhaseDNS, Upstream: "broken.test", NextHop: "broken.test", DNSRcode: "SERVFAIL", DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
		{
			"REFUSED has no known rcode",
			&net.DNSError{Err: "server misbehaving", Name: "broken.test"},
			&Error{Kind: DNSError, Phase: PhaseDNS, Upstream: "broken.test", NextHop: "broken.test", DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
		{
			"alert",
			&net.OpError{Op: "remote error", Err: tls.AlertError(42)},
			&Error{Kind: TLSAlertReceived, Phase: PhaseTLS, DNSInfoCode: -1, TLSAlertID: 42, TLSAlertMessage: "bad_certificate", Size: -1},
		},
		{
			"header section size",
			errors.New("net/http: server response headers exceeded 4096 bytes; aborted"),
			&Error{Kind: HTTPResponseHeaderSectionSize, DNSInfoCode: -1, TLSAlertID: -1, Size: 4096},
		},
		{
			"body size",
			fmt.Errorf("copy: %w", &http.MaxBytesError{Limit: 10}),
			&Error{Kind: HTTPRequestError, DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
		{
			"IPv6 next hop",
			&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv6loopback, Port: 443}, Err: sysErr("connect", syscall.ECONNREFUSED)},
			&Error{Kind: ConnectionRefused, Phase: PhaseDial, Upstream: "[::1]:443", NextHop: "[::1]:443", DNSInfoCode: -1, TLSAlertID: -1, Size: -1},
		},
	}
	opts := cmp.Options{
		cmp.AllowUnexported(Error{}),
		cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Err" }, cmp.Ignore()),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.err)
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("Classify mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassifyIdempotent(t *testing.T) {
	if got := Classify(nil); got != nil {
		t.Fatalf("Classify(nil) = %v, want nil", got)
	}
	if got := ClassifyPhase(nil, PhaseReadBody); got != nil {
		t.Fatalf("ClassifyPhase(nil) = %v, want nil", got)
	}
	first := Classify(urlErr(opErr("dial", sysErr("connect", syscall.ECONNREFUSED))))
	for _, err := range []error{
		first,
		fmt.Errorf("proxy: %w", first),
		errors.Join(context.Canceled, first), // an existing classification wins
	} {
		if got := Classify(err); got != first {
			t.Errorf("Classify(%v) = %p, want the same *Error %p", err, got, first)
		}
		if got := ClassifyPhase(err, PhaseReadBody); got != first {
			t.Errorf("ClassifyPhase(%v) = %p, want the same *Error %p", err, got, first)
		}
	}

	// An Unknown classification is kept when nothing better is found...
	unknown := &Error{Kind: Unknown, ReceivedStatus: 502}
	if got := Classify(fmt.Errorf("w: %w", unknown)); got != unknown {
		t.Errorf("Classify of a wrapped Unknown = %v, want the same *Error", got)
	}
	// ...and refined when something is.
	refined := Classify(&Error{Kind: Unknown, Err: io.EOF})
	if refined.Kind != ConnectionTerminated {
		t.Errorf("Classify of an Unknown wrapping EOF = %v, want connection_terminated", refined.Kind)
	}
}

func TestClassifyDeepChain(t *testing.T) {
	var err error = context.Canceled
	for range 10000 {
		err = fmt.Errorf("w: %w", err)
	}
	// The walk is bounded: a chain deeper than anything Go produces gives
	// up, without a panic, and the result is still an *Error.
	if got := Classify(err); got == nil {
		t.Fatal("Classify returned nil")
	}
	var many []error
	for range 1000 {
		many = append(many, errors.New("x"))
	}
	if got := Classify(errors.Join(many...)); got == nil || got.Kind != Unknown {
		t.Fatalf("Classify(join of 1000) = %v", got)
	}
}

func TestErrorInterfaces(t *testing.T) {
	cause := urlErr(opErr("dial", sysErr("connect", syscall.ECONNREFUSED)))
	e := Classify(cause)
	var err error = fmt.Errorf("gateway: %w", e)
	if !errors.Is(err, ConnectionRefused) {
		t.Error("errors.Is(err, ConnectionRefused) = false")
	}
	if errors.Is(err, ConnectionTimeout) {
		t.Error("errors.Is(err, ConnectionTimeout) = true")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Error("errors.Is does not see the cause")
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Error("errors.As does not find the *url.Error")
	}
	var ge *Error
	if !errors.As(err, &ge) || ge != e {
		t.Error("errors.As does not find the *Error")
	}
	var ne net.Error
	if !errors.As(err, &ne) || ne.Timeout() {
		t.Errorf("errors.As(net.Error) = %v, timeout %v", ne, ne != nil && ne.Timeout())
	}
	if got, want := e.ErrorType(), "connection_refused"; got != want {
		t.Errorf("ErrorType() = %q, want %q", got, want)
	}
	if got := e.Error(); !strings.HasPrefix(got, "gatewayerr: connection_refused (dial backend.internal:8080): Get ") {
		t.Errorf("Error() = %q", got)
	}
	if got := KindOf(err); got != ConnectionRefused {
		t.Errorf("KindOf = %v", got)
	}
	if !Classify(context.DeadlineExceeded).Timeout() {
		t.Error("a deadline is not a Timeout()")
	}
}

func TestURLHost(t *testing.T) {
	tests := map[string]string{
		"http://backend:8080/x?y#z": "backend:8080",
		"https://u:p@[::1]:443":     "[::1]:443",
		"http://h?q=a@b":            "h",
		"//h/p":                     "h",
		"no-scheme":                 "",
		"":                          "",
	}
	for in, want := range tests {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAddrString checks addrString's text of TCP addresses, netip's with
// IPv4 unmapped, and that it allocates nothing when the text equals same.
func TestAddrString(t *testing.T) {
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(127, 0, 0, 1), Port: 28081},
		{IP: net.IP{10, 20, 0, 255}, Port: 8080},
		{IP: net.IPv4(0, 0, 0, 0), Port: 0},
		{IP: net.IPv4(255, 255, 255, 255), Port: 65535},
		{IP: net.IPv4(192, 168, 1, 9), Port: 70000}, // out of range: netip keeps 16 bits
		{IP: net.IPv4(1, 2, 3, 4), Port: -1},
		{IP: net.IPv4(100, 99, 10, 9), Port: 80, Zone: "eth0"},
		{IP: net.ParseIP("::1"), Port: 443},
		{IP: net.ParseIP("fe80::1"), Port: 443, Zone: "eth0"},
		{IP: nil, Port: 80},
		{IP: net.IP{1, 2, 3}, Port: 80},
	} {
		ap := a.AddrPort()
		want := string(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(nil)) // "" when invalid
		if got := addrString(a, ""); got != want {
			t.Errorf("addrString(%v) = %q, want %q", a, got, want)
		}
		if n := testing.AllocsPerRun(10, func() { addrString(a, want) }); n != 0 {
			t.Errorf("addrString(%v, %q): %v allocations, want none", a, want, n)
		}
	}
}

func TestAlertName(t *testing.T) {
	for id := 0; id < 256; id++ {
		if name := alertName(id); name != "" && !isToken(name) {
			t.Errorf("alert %d: name %q is not a token", id, name)
		}
	}
	for id, want := range map[int]string{0: "close_notify", 42: "bad_certificate", 116: "certificate_required", 121: "ech_required", 255: ""} {
		if got := alertName(id); got != want {
			t.Errorf("alertName(%d) = %q, want %q", id, got, want)
		}
	}
}

// TestClassifyLoopback classifies failures produced by real loopback
// sockets that need no misbehaving server; classify_test.go covers those.
func TestClassifyLoopback(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	defer tlsSrv.Close()
	certSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	certSrv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert, MaxVersion: tls.VersionTLS12}
	certSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	certSrv.StartTLS()
	defer certSrv.Close()
	loopSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loopSrv.Close()

	// A resolver whose server is the closed port: every lookup fails.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp4", closedAddr)
	}}

	tests := []struct {
		name string
		tr   *http.Transport
		url  string
		hdr  http.Header
		want classifyWant
	}{
		{"refused", &http.Transport{}, "http://" + closedAddr + "/", nil, classifyWant{ConnectionRefused, 502, false, PhaseDial}},
		{"DNS server unreachable", &http.Transport{DialContext: (&net.Dialer{Resolver: resolver}).DialContext}, "http://backend.test/", nil, classifyWant{DNSError, 502, false, PhaseDNS}},
		{"self-signed", &http.Transport{}, tlsSrv.URL, nil, classifyWant{TLSCertificateError, 502, false, PhaseTLS}},
		{"TLS to a plain port", &http.Transport{}, "https://" + closedAddr + "/", nil, classifyWant{ConnectionRefused, 502, false, PhaseDial}},
		{"certificate required", certSrv.Client().Transport.(*http.Transport), certSrv.URL, nil, classifyWant{TLSAlertReceived, 502, false, PhaseTLS}},
		{"unsupported scheme", &http.Transport{}, "ftp://" + closedAddr + "/", nil, classifyWant{ProxyConfigurationError, 500, false, PhaseUnknown}},
		{"invalid header", &http.Transport{}, "http://" + closedAddr + "/", http.Header{"Bad Name": {"x"}}, classifyWant{HTTPRequestError, 400, true, PhaseUnknown}},
		{"redirect loop", &http.Transport{}, loopSrv.URL, nil, classifyWant{ProxyLoopDetected, 502, true, PhaseUnknown}},
		{"Unix socket with no file", &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", filepath.Join(t.TempDir(), "missing.sock"))
		}}, "http://backend/", nil, classifyWant{ConnectionRefused, 502, false, PhaseDial}},
		{"address without a port", &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp4", "127.0.0.1")
		}}, "http://backend/", nil, classifyWant{ProxyConfigurationError, 500, false, PhaseDial}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.tr.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.hdr {
				req.Header[k] = v
			}
			resp, err := (&http.Client{Transport: tt.tr}).Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded with %s", tt.url, resp.Status)
			}
			e := Classify(err)
			got := classifyWant{e.Kind, e.StatusCode(), e.RequestSent(), e.Phase}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Classify(%v) mismatch (-want +got):\n%s", err, diff)
			}
		})
	}

	// The alert's number and name, from crypto/tls's unexported alert type.
	resp, err := certSrv.Client().Get(certSrv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no alert")
	}
	e := Classify(err)
	if e.TLSAlertID <= 0 || e.TLSAlertMessage != alertName(e.TLSAlertID) ||
		!strings.Contains(err.Error(), strings.ReplaceAll(e.TLSAlertMessage, "_", " ")) {
		t.Errorf("alert = %d %q, for %q", e.TLSAlertID, e.TLSAlertMessage, err)
	}
	certSrv.Client().Transport.(*http.Transport).CloseIdleConnections()
}

func TestKindFormat(t *testing.T) {
	tests := []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", ConnectionRefused, "connection_refused"},
		{"%s", DNSTimeout, "dns_timeout"},
		{"%q", Unknown, `"unknown"`},
		{"%d", ConnectionRefused, "7"},
		{"%-12v|", DNSError, "dns_error   |"},
		{"%v", Kind(200), "Kind(200)"},
		{"%v", error(ClientClosedRequest), "client_closed_request"},
		{"%v", fmt.Errorf("breaker: %w", DestinationUnavailable), "breaker: destination_unavailable"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.format, tt.arg); got != tt.want {
			t.Errorf("Sprintf(%q, %d) = %q, want %q", tt.format, tt.arg, got, tt.want)
		}
	}
	if got := ConnectionRefused.Error(); got != "gatewayerr: connection_refused" {
		t.Errorf("Error() = %q", got)
	}
}

func TestClassifyContextCause(t *testing.T) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Nanosecond, ConnectionReadTimeout)
	defer cancel()
	<-ctx.Done()
	e := Classify(fmt.Errorf("read body: %w", context.Cause(ctx)))
	if e.Kind != ConnectionReadTimeout || e.StatusCode() != 504 {
		t.Errorf("Classify(cause) = %v %d, want connection_read_timeout 504", e.Kind, e.StatusCode())
	}
}

// TestClassifyKindInChain checks that every Kind, given as the cause in a
// chain (wrapped, as a context's cause, inside a *url.Error), is the kind
// Classify returns, without panicking on the kind-specific fields that
// other errors of the chain would fill (Size with no *http.MaxBytesError).
func TestClassifyKindInChain(t *testing.T) {
	for _, k := range Kinds() {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(k)
		for _, err := range []error{
			fmt.Errorf("x: %w", k),
			context.Cause(ctx),
			&url.Error{Op: "Get", URL: "http://backend/", Err: k},
		} {
			e := Classify(err)
			if e == nil || (k != Unknown && e.Kind != k) {
				t.Errorf("Classify(%v) = %v, want kind %v", err, e, k)
			}
		}
	}
}
