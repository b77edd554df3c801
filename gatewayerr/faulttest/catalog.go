package faulttest

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Fault is one entry of the catalog that [All] returns: a misbehaving
// upstream and the kind of failure its client sees.
type Fault struct {
	// Name identifies the fault in test names, such as
	// "connection_refused" or "tls_expired_certificate": lower case,
	// digits and '_', unique in the catalog.
	Name string

	// Kind is what a client of the fault sees: gatewayerr.Classify of the
	// error of a request sent through Target.Transport (or of the error
	// reading the response body, for the faults that break a body), or
	// gatewayerr.ClassifyResponse of the response, for the faults that
	// answer with an error response. A gateway in front of the fault
	// should report this kind in its Proxy-Status.
	Kind gatewayerr.Kind

	// Start starts the fault's servers (or resolver) on loopback and
	// returns how to reach them. Everything it starts is stopped, and the
	// transport's idle connections closed, by tb.Cleanup; it fails the
	// test (tb.Fatalf) when a server cannot start.
	Start func(tb testing.TB) Target
}

// Target is where a started [Fault] listens and how to reach it.
type Target struct {
	// URL is where to send the request: http:// or https://, a loopback
	// address, or for the DNS faults a name under the ".test" domain
	// (RFC 6761), which only Transport's resolver knows.
	URL *url.URL

	// Transport is a new transport set up to reach the fault: no proxy from
	// the environment, the CA that signed the server's certificate (or an
	// unrelated one, so that the machine's roots never count), the fault's
	// resolver, HTTP/2 where the fault needs it, and the client setting
	// that makes a fault show at all (a timeout, a header size limit; see
	// [All]). Each Start returns a transport of its own.
	//
	// Every fault in the catalog sets it. For a Fault built elsewhere, nil
	// means that any transport will do.
	Transport *http.Transport
}

// The client settings that the catalog's transports use for the faults that
// only show with one. They are short, to keep a test of the whole catalog
// fast, but each is the fault's expected outcome, not a race with it,
// except bodyReadTimeout, which must also outlast the wait for the
// response's header.
const (
	clientTimeout   = 250 * time.Millisecond // dial, DNS, TLS handshake, response header
	bodyReadTimeout = time.Second            // a read of the body that gets no data
	maxHeaderBytes  = 16 << 10               // Transport.MaxResponseHeaderBytes
)

// All returns the catalog: one [Fault] for each way an upstream commonly
// fails a gateway, each with the kind that its client sees. Each call
// returns a new slice, in a fixed order; a test runs each with t.Run and
// f.Start(t):
//
//	for _, f := range faulttest.All() {
//		t.Run(f.Name, func(t *testing.T) {
//			target := f.Start(t)
//			// send a GET to target.URL through target.Transport,
//			// or through the gateway under test with that transport
//		})
//	}
//
// The faults are meant for a GET without a body. Where a fault only shows
// with a client setting, its Target.Transport has it: a 250 ms dial timeout
// (connection_timeout_firewall, dns_timeout), TLSHandshakeTimeout
// (tls_handshake_timeout) or ResponseHeaderTimeout (stall_before_headers,
// stall_during_headers) of 250 ms, a 16 KiB MaxResponseHeaderBytes
// (oversized_headers), and connections whose reads fail after one second
// without data (stall_mid_body; http.Transport has no body read timeout).
// Each fault then ends within about a second.
//
// The faults that break a response body (stall_mid_body, truncated_body,
// bad_chunking, bad_gzip, trailer_too_large) answer 200 with a body whose
// length the client does not know in advance (chunked; for bad_gzip, the
// transport drops the Content-Length of the body it decompresses), so that
// a gateway can report them in a Proxy-Status trailer. The gzip fault
// shows only where the transport decompresses: when the request has no
// Accept-Encoding of its own (a gateway forwarding a client's
// "Accept-Encoding: gzip" passes the broken body on, as it should).
//
// connection_timeout_firewall is in the catalog only on Linux (see
// [Firewall]).
func All() []Fault {
	faults := []Fault{
		// The upstream is down.
		{"connection_refused", gatewayerr.ConnectionRefused, start(Refused, nil)},

		// It is overloaded.
		{"service_unavailable_retry_after", gatewayerr.DestinationUnavailable, start(func(tb testing.TB) *Server {
			return Status(tb, http.StatusServiceUnavailable, http.Header{"Retry-After": {"120"}}, "overloaded, try again later")
		}, nil)},
		{"connection_dropped_on_accept", gatewayerr.ConnectionTerminated, start(AcceptClose, nil)},
		{"http2_goaway", gatewayerr.ConnectionTerminated, start(h2Fault(H2GoAway, http2.ErrCodeInternal), nil)},
		{"http2_goaway_enhance_your_calm", gatewayerr.ConnectionLimitReached, start(h2Fault(H2GoAway, http2.ErrCodeEnhanceYourCalm), nil)},
		{"http2_rst_stream", gatewayerr.ConnectionTerminated, start(h2Fault(H2RSTStream, http2.ErrCodeInternal), nil)},
		{"http2_rst_stream_enhance_your_calm", gatewayerr.ConnectionLimitReached, start(h2Fault(H2RSTStream, http2.ErrCodeEnhanceYourCalm), nil)},
		{"http2_protocol_error", gatewayerr.HTTPProtocolError, start(H2BadFrame, nil)},

		// The network breaks the exchange.
		{"connection_reset", gatewayerr.ConnectionTerminated, start(ResetBeforeHeaders, nil)},
		{"connection_closed_before_headers", gatewayerr.ConnectionTerminated, start(CloseBeforeHeaders, nil)},
		{"stall_before_headers", gatewayerr.HTTPResponseTimeout, start(StallHeaders, headerTimeout)},
		{"stall_during_headers", gatewayerr.HTTPResponseTimeout, start(StallAfterStatusLine, headerTimeout)},
		{"stall_mid_body", gatewayerr.ConnectionReadTimeout, start(StallChunkedBody, readTimeout)},
		{"truncated_body", gatewayerr.HTTPResponseIncomplete, start(ShortChunkedBody, nil)},

		// DNS.
		{"dns_nxdomain", gatewayerr.DNSError, dnsFault(ZoneNXDomain, nil)},
		{"dns_servfail", gatewayerr.DNSError, dnsFault(ZoneServFail, nil)},
		{"dns_refused", gatewayerr.DNSError, dnsFault(ZoneRefused, nil)},
		{"dns_timeout", gatewayerr.DNSTimeout, dnsFault(ZoneTimeout, shortDial)},

		// Misconfiguration.
		{"tls_to_plain_server", gatewayerr.TLSProtocolError, start(TLSToPlain, nil)},
		{"plain_to_tls_server", gatewayerr.ConnectionTerminated, start(PlainToTLSHangUp, nil)},
		{"tls_wrong_name", gatewayerr.TLSCertificateError, start(TLSWrongHost, nil)},
		{"tls_expired_certificate", gatewayerr.TLSCertificateError, start(TLSExpired, nil)},
		{"tls_unknown_authority", gatewayerr.TLSCertificateError, start(TLSSelfSigned, nil)},
		{"tls_client_certificate_required", gatewayerr.TLSAlertReceived, start(TLSClientCertRequired, nil)},
		{"tls_handshake_timeout", gatewayerr.ConnectionTimeout, start(TLSHandshakeStall, handshakeTimeout)},
		{"http2_to_http1_server", gatewayerr.TLSAlertReceived, start(HTTP2ToHTTP1, nil)},
		{"http1_answer_to_http2", gatewayerr.HTTPProtocolError, start(H2SpeaksHTTP1, nil)},

		// A chain of proxies: the gateway further up failed and says why.
		{"proxy_chain_connection_refused", gatewayerr.ConnectionRefused, start(func(tb testing.TB) *Server {
			return UpstreamGateway(tb, Refused(tb).URL)
		}, nil)},

		// Application bugs.
		{"garbage_response", gatewayerr.HTTPProtocolError, start(GarbageStatus, nil)},
		{"bad_status_line", gatewayerr.HTTPProtocolError, start(BadStatusLine, nil)},
		{"conflicting_content_length", gatewayerr.HTTPProtocolError, start(BadContentLength, nil)},
		{"bad_chunking", gatewayerr.HTTPResponseTransferCoding, start(BrokenChunking, nil)},
		{"bad_gzip", gatewayerr.HTTPResponseContentCoding, start(BrokenGzip, nil)},
		{"oversized_headers", gatewayerr.HTTPResponseHeaderSectionSize, start(func(tb testing.TB) *Server {
			return OversizedHeaders(tb, 4*maxHeaderBytes)
		}, headerLimit)},
		{"trailer_too_large", gatewayerr.HTTPResponseTrailerSectionSize, start(LongTrailer, nil)},
	}
	if firewallSupported {
		// A firewall, or an accept queue that overflowed: connections hang.
		faults = append(faults, Fault{"connection_timeout_firewall", gatewayerr.ConnectionTimeout, start(Firewall, firewallTimeouts)})
	}
	return faults
}

// start returns a Fault's Start for a server constructor, with the server's
// transport adjusted by adjust, if not nil.
func start(newServer func(testing.TB) *Server, adjust func(*http.Transport)) func(testing.TB) Target {
	return func(tb testing.TB) Target {
		tb.Helper()
		s := newServer(tb)
		tr := s.Transport()
		if adjust != nil {
			adjust(tr)
		}
		return Target{URL: parseURL(tb, s.URL), Transport: tr}
	}
}

// h2Fault binds an HTTP/2 fault constructor to an error code.
func h2Fault(newServer func(testing.TB, http2.ErrCode) *Server, code http2.ErrCode) func(testing.TB) *Server {
	return func(tb testing.TB) *Server { return newServer(tb, code) }
}

// dnsFault returns a Fault's Start for a name in zone, resolved by a new
// [DNSServer]; the name never resolves, so no upstream is started.
func dnsFault(zone string, adjust func(*http.Transport)) func(testing.TB) Target {
	return func(tb testing.TB) Target {
		tb.Helper()
		d := DNS(tb)
		tr := d.Transport()
		if adjust != nil {
			adjust(tr)
		}
		return Target{URL: parseURL(tb, "http://upstream."+strings.TrimSuffix(zone, ".")), Transport: tr}
	}
}

// shortDial bounds connecting (and resolving, which the dialer does first)
// by clientTimeout, keeping the transport's resolver.
func shortDial(tr *http.Transport) {
	next := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, clientTimeout)
		defer cancel()
		return next(ctx, network, addr)
	}
}

// firewallTimeouts bounds the dial by clientTimeout and, should a
// connection get through after all (a kernel that queues more than
// [Firewall] expects), the wait for the response by a second, so that the
// fault still ends, as a different kind.
func firewallTimeouts(tr *http.Transport) {
	shortDial(tr)
	tr.ResponseHeaderTimeout = time.Second
}

func headerTimeout(tr *http.Transport)    { tr.ResponseHeaderTimeout = clientTimeout }
func handshakeTimeout(tr *http.Transport) { tr.TLSHandshakeTimeout = clientTimeout }
func headerLimit(tr *http.Transport)      { tr.MaxResponseHeaderBytes = maxHeaderBytes }

// readTimeout makes the transport's connections fail a read that gets no
// data for bodyReadTimeout.
func readTimeout(tr *http.Transport) {
	next := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleReadConn{Conn: c, timeout: bodyReadTimeout}, nil
	}
}

// idleReadConn is a connection each of whose reads fails, with a
// *net.OpError whose Timeout is true, after timeout without data.
type idleReadConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleReadConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func parseURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatalf("faulttest: %v", err)
	}
	return u
}
