package gatewayerr_test

//lint:file-ignore SA1019 the faults are also classified through x/net/http2's own (deprecated) Transport, which some clients still use

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http2"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// phaseTracker follows a round trip through net/http/httptrace, as the
// middleware's Transport does, so that the test can classify with the phase
// a real caller would know.
type phaseTracker struct {
	phase  atomic.Uint32
	wrote  atomic.Bool // a request was written, by this attempt or an earlier one
	onSent func()      // called when the request has been written
}

func (p *phaseTracker) set(ph gatewayerr.Phase) { p.phase.Store(uint32(ph)) }
func (p *phaseTracker) get() gatewayerr.Phase   { return gatewayerr.Phase(p.phase.Load()) }

func (p *phaseTracker) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { p.set(gatewayerr.PhaseDNS) },
		ConnectStart:      func(string, string) { p.set(gatewayerr.PhaseDial) },
		TLSHandshakeStart: func() { p.set(gatewayerr.PhaseTLS) },
		GotConn:           func(httptrace.GotConnInfo) { p.set(gatewayerr.PhaseWriteRequest) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			p.wrote.Store(true) // even a failed write may have sent bytes
			if info.Err == nil {
				p.set(gatewayerr.PhaseAwaitHeaders)
				if p.onSent != nil {
					p.onSent()
				}
			}
		},
		GotFirstResponseByte: func() { p.set(gatewayerr.PhaseReadHeaders) },
	}
}

// transport says which client reaches a fault.
type transport uint8

const (
	viaH1 transport = iota // faulttest's http.Transport (HTTP/1.1, or HTTP/2 for the H2 faults)
	viaX                   // golang.org/x/net/http2.Transport
)

// outcome is what a failure is classified as.
type outcome struct {
	Kind        gatewayerr.Kind
	Status      int
	RequestSent bool
}

func out(k gatewayerr.Kind, sent bool) outcome { return outcome{k, k.StatusCode(), sent} }

type faultCase struct {
	name    string
	start   func(t *testing.T) (*faulttest.Server, string) // the server and the URL to get
	via     transport
	tweak   func(tr *http.Transport)
	method  string
	body    int           // request body size
	timeout time.Duration // the request's deadline; default 10s
	prime   bool          // make one successful request first, on the same transport
	cancel  bool          // cancel the request's context once it is written
	inBody  bool          // the failure comes from reading the response body
	// noError is allowed as an outcome of a race: then the response must
	// not be a gateway failure.
	noErrorOK bool

	bare   outcome // Classify(err): what the value alone says
	phased outcome // ClassifyPhase(err, the traced phase)
	// phasedAlso lists other kinds allowed for ClassifyPhase, when the
	// transport's own retries make the last phase a race.
	phasedAlso []gatewayerr.Kind
	check      func(t *testing.T, e *gatewayerr.Error)
}

func server(f func(testing.TB) *faulttest.Server) func(t *testing.T) (*faulttest.Server, string) {
	return func(t *testing.T) (*faulttest.Server, string) {
		s := f(t)
		return s, s.URL
	}
}

func h2(f func(testing.TB, http2.ErrCode) *faulttest.Server, code http2.ErrCode) func(t *testing.T) (*faulttest.Server, string) {
	return func(t *testing.T) (*faulttest.Server, string) {
		s := f(t, code)
		return s, s.URL
	}
}

// TestClassifyFaults classifies every failure that gatewayerr/faulttest
// produces, through a plain http.Transport, net/http's bundled HTTP/2 and
// golang.org/x/net/http2, with and without the phase.
func TestClassifyFaults(t *testing.T) {
	const short = 300 * time.Millisecond
	rht := func(tr *http.Transport) { tr.ResponseHeaderTimeout = short }

	tests := []faultCase{
		{name: "refused", start: server(faulttest.Refused),
			bare: out(gatewayerr.ConnectionRefused, false), phased: out(gatewayerr.ConnectionRefused, false),
			check: func(t *testing.T, e *gatewayerr.Error) {
				if e.Phase != gatewayerr.PhaseDial || e.NextHop == "" || !strings.HasPrefix(e.NextHop, "127.0.0.1:") {
					t.Errorf("Phase %v, NextHop %q", e.Phase, e.NextHop)
				}
			}},
		{name: "accept then close", start: server(faulttest.AcceptClose),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "close before headers", start: server(faulttest.CloseBeforeHeaders),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "reset before headers", start: server(faulttest.ResetBeforeHeaders),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "reset during headers", start: server(faulttest.ResetDuringHeaders),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "reset during body", start: server(faulttest.ResetDuringBody), inBody: true,
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.HTTPResponseIncomplete, true)},
		{name: "stall headers, caller's deadline", start: server(faulttest.StallHeaders), timeout: short,
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.HTTPResponseTimeout, true)},
		{name: "stall headers, ResponseHeaderTimeout", start: server(faulttest.StallHeaders), tweak: rht,
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.HTTPResponseTimeout, true)},
		{name: "stall after status line", start: server(faulttest.StallAfterStatusLine), tweak: rht,
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.HTTPResponseTimeout, true)},
		{name: "stall body", start: server(faulttest.StallBody), timeout: short, inBody: true,
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.ConnectionReadTimeout, true)},
		{name: "stall reading the request", start: server(faulttest.StallRead), method: http.MethodPost, body: 32 << 20, timeout: short,
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.ConnectionWriteTimeout, true)},
		{name: "client cancels", start: server(faulttest.StallHeaders), cancel: true,
			bare: out(gatewayerr.ClientClosedRequest, true), phased: out(gatewayerr.ClientClosedRequest, true)},
		{name: "garbage status line", start: server(faulttest.GarbageStatus),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "oversized headers", start: server(func(t testing.TB) *faulttest.Server { return faulttest.OversizedHeaders(t, 64<<10) }),
			tweak: func(tr *http.Transport) { tr.MaxResponseHeaderBytes = 4096 },
			bare:  out(gatewayerr.HTTPResponseHeaderSectionSize, true), phased: out(gatewayerr.HTTPResponseHeaderSectionSize, true),
			check: func(t *testing.T, e *gatewayerr.Error) {
				if e.Size != 4096 {
					t.Errorf("Size = %d, want 4096", e.Size)
				}
			}},
		{name: "short body", start: server(faulttest.ShortBody), inBody: true,
			bare: out(gatewayerr.HTTPResponseIncomplete, true), phased: out(gatewayerr.HTTPResponseIncomplete, true)},
		{name: "broken chunking", start: server(faulttest.BrokenChunking), inBody: true,
			bare: out(gatewayerr.HTTPResponseTransferCoding, true), phased: out(gatewayerr.HTTPResponseTransferCoding, true)},
		{name: "trailer section too long", start: server(faulttest.LongTrailer), inBody: true,
			bare: out(gatewayerr.HTTPResponseTrailerSectionSize, true), phased: out(gatewayerr.HTTPResponseTrailerSectionSize, true)},
		{name: "broken gzip", start: server(faulttest.BrokenGzip), inBody: true,
			bare: out(gatewayerr.HTTPResponseContentCoding, true), phased: out(gatewayerr.HTTPResponseContentCoding, true)},
		{name: "conflicting Content-Length", start: server(faulttest.BadContentLength),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "early response to a large body", start: server(faulttest.EarlyResponse), method: http.MethodPost, body: 16 << 20, noErrorOK: true,
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "close on reuse, POST", start: server(faulttest.CloseOnReuse), method: http.MethodPost, prime: true,
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},

		{name: "TLS self-signed", start: server(faulttest.TLSSelfSigned),
			bare: out(gatewayerr.TLSCertificateError, false), phased: out(gatewayerr.TLSCertificateError, false)},
		{name: "x/net to an HTTP/1.1-only TLS server", via: viaX, start: server(faulttest.TLSSelfSigned),
			// The server refuses ALPN "h2" before its certificate matters.
			bare: out(gatewayerr.TLSAlertReceived, false), phased: out(gatewayerr.TLSAlertReceived, false),
			check: func(t *testing.T, e *gatewayerr.Error) {
				if e.TLSAlertID != 120 || e.TLSAlertMessage != "no_application_protocol" {
					t.Errorf("alert %d %q, want 120 no_application_protocol", e.TLSAlertID, e.TLSAlertMessage)
				}
			}},
		{name: "x/net TLS to a plain server", via: viaX, start: server(faulttest.TLSToPlain),
			bare: out(gatewayerr.TLSProtocolError, false), phased: out(gatewayerr.TLSProtocolError, false)},
		{name: "TLS expired", start: server(faulttest.TLSExpired),
			bare: out(gatewayerr.TLSCertificateError, false), phased: out(gatewayerr.TLSCertificateError, false)},
		{name: "TLS wrong host", start: server(faulttest.TLSWrongHost),
			bare: out(gatewayerr.TLSCertificateError, false), phased: out(gatewayerr.TLSCertificateError, false)},
		{name: "TLS to a plain server", start: server(faulttest.TLSToPlain),
			bare: out(gatewayerr.TLSProtocolError, false), phased: out(gatewayerr.TLSProtocolError, false)},
		{name: "TLS 1.3 client certificate required", start: server(faulttest.TLSClientCertRequired),
			// The alert comes after the handshake, once the request is written.
			bare: out(gatewayerr.TLSAlertReceived, false), phased: out(gatewayerr.TLSAlertReceived, true),
			check: func(t *testing.T, e *gatewayerr.Error) {
				if e.TLSAlertID != 116 || e.TLSAlertMessage != "certificate_required" {
					t.Errorf("alert %d %q, want 116 certificate_required", e.TLSAlertID, e.TLSAlertMessage)
				}
			}},
		{name: "TLS 1.2 client certificate required", start: server(faulttest.TLSClientCertRequired),
			tweak: func(tr *http.Transport) { tr.TLSClientConfig.MaxVersion = tls.VersionTLS12 },
			bare:  out(gatewayerr.TLSAlertReceived, false), phased: out(gatewayerr.TLSAlertReceived, false),
			check: func(t *testing.T, e *gatewayerr.Error) {
				if e.TLSAlertID != 40 || e.TLSAlertMessage != "handshake_failure" {
					t.Errorf("alert %d %q, want 40 handshake_failure", e.TLSAlertID, e.TLSAlertMessage)
				}
			}},
		{name: "TLS handshake stall, TLSHandshakeTimeout", start: server(faulttest.TLSHandshakeStall),
			tweak: func(tr *http.Transport) { tr.TLSHandshakeTimeout = short },
			bare:  out(gatewayerr.ConnectionTimeout, false), phased: out(gatewayerr.ConnectionTimeout, false)},
		{name: "TLS handshake stall, caller's deadline", start: server(faulttest.TLSHandshakeStall), timeout: short,
			// A bare context.DeadlineExceeded does not say where it happened.
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.ConnectionTimeout, false)},

		{name: "h2 RST_STREAM INTERNAL_ERROR", start: h2(faulttest.H2RSTStream, http2.ErrCodeInternal),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "x/net h2 RST_STREAM INTERNAL_ERROR", via: viaX, start: h2(faulttest.H2RSTStream, http2.ErrCodeInternal),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "h2 RST_STREAM PROTOCOL_ERROR, retried until the deadline", start: h2(faulttest.H2RSTStream, http2.ErrCodeProtocol), timeout: short,
			// net/http's bundled HTTP/2 retries a peer's PROTOCOL_ERROR
			// (golang/go#47635); x/net/http2 returns it. The deadline may
			// end a retry's dial or handshake.
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.HTTPResponseTimeout, true),
			phasedAlso: []gatewayerr.Kind{gatewayerr.ConnectionTimeout, gatewayerr.ConnectionWriteTimeout}},
		{name: "x/net h2 RST_STREAM PROTOCOL_ERROR", via: viaX, start: h2(faulttest.H2RSTStream, http2.ErrCodeProtocol),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "h2 RST_STREAM ENHANCE_YOUR_CALM", start: h2(faulttest.H2RSTStream, http2.ErrCodeEnhanceYourCalm),
			bare: out(gatewayerr.ConnectionLimitReached, false), phased: out(gatewayerr.ConnectionLimitReached, true)},
		{name: "h2 RST_STREAM REFUSED_STREAM, retried until the deadline", start: h2(faulttest.H2RSTStream, http2.ErrCodeRefusedStream), timeout: short,
			bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.HTTPResponseTimeout, true),
			phasedAlso: []gatewayerr.Kind{gatewayerr.ConnectionTimeout, gatewayerr.ConnectionWriteTimeout}},
		{name: "h2 upstream answering in HTTP/1.1", start: server(faulttest.H2SpeaksHTTP1),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "x/net h2 upstream answering in HTTP/1.1", via: viaX, start: server(faulttest.H2SpeaksHTTP1),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "h2 malformed frame: connection error", start: server(faulttest.H2BadFrame),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "x/net h2 malformed frame: connection error", via: viaX, start: server(faulttest.H2BadFrame),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "h2 GOAWAY INTERNAL_ERROR", start: h2(faulttest.H2GoAway, http2.ErrCodeInternal),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "x/net h2 GOAWAY INTERNAL_ERROR", via: viaX, start: h2(faulttest.H2GoAway, http2.ErrCodeInternal),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "h2 GOAWAY NO_ERROR", start: h2(faulttest.H2GoAway, http2.ErrCodeNo),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "x/net h2 GOAWAY NO_ERROR", via: viaX, start: h2(faulttest.H2GoAway, http2.ErrCodeNo),
			bare: out(gatewayerr.ConnectionTerminated, true), phased: out(gatewayerr.ConnectionTerminated, true)},
		{name: "h2 GOAWAY PROTOCOL_ERROR", start: h2(faulttest.H2GoAway, http2.ErrCodeProtocol),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "x/net h2 GOAWAY PROTOCOL_ERROR", via: viaX, start: h2(faulttest.H2GoAway, http2.ErrCodeProtocol),
			bare: out(gatewayerr.HTTPProtocolError, true), phased: out(gatewayerr.HTTPProtocolError, true)},
		{name: "h2 GOAWAY ENHANCE_YOUR_CALM", start: h2(faulttest.H2GoAway, http2.ErrCodeEnhanceYourCalm),
			bare: out(gatewayerr.ConnectionLimitReached, false), phased: out(gatewayerr.ConnectionLimitReached, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, target := tc.start(t)
			var rt http.RoundTripper
			switch tc.via {
			case viaX:
				rt = xnetTransport(t, s)
			default:
				tr := s.Transport()
				if tc.tweak != nil {
					tc.tweak(tr)
				}
				rt = tr
			}
			runFault(t, rt, target, tc)
		})
	}
}

// TestClassifyDNSFaults classifies the resolver failures of faulttest.DNS.
func TestClassifyDNSFaults(t *testing.T) {
	d := faulttest.DNS(t)
	s := faulttest.TLS(t) // any upstream: the name never resolves
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	hostURL := func(name string) string { return "http://" + name + ":" + u.Port() + "/" }
	shortDial := func(tr *http.Transport) {
		tr.DialContext = (&net.Dialer{Resolver: d.Resolver(), Timeout: 300 * time.Millisecond}).DialContext
	}
	tests := []struct {
		name  string
		host  string
		tweak func(*http.Transport)
		fc    faultCase
		rcode string
	}{
		{name: "NXDOMAIN", host: "api." + faulttest.ZoneNXDomain, rcode: "NXDOMAIN",
			fc: faultCase{bare: out(gatewayerr.DNSError, false), phased: out(gatewayerr.DNSError, false)}},
		{name: "SERVFAIL", host: "api." + faulttest.ZoneServFail, rcode: "SERVFAIL",
			fc: faultCase{bare: out(gatewayerr.DNSError, false), phased: out(gatewayerr.DNSError, false)}},
		{name: "REFUSED", host: "api." + faulttest.ZoneRefused,
			fc: faultCase{bare: out(gatewayerr.DNSError, false), phased: out(gatewayerr.DNSError, false)}},
		{name: "timeout, dialer's", host: "api." + faulttest.ZoneTimeout, tweak: shortDial,
			fc: faultCase{bare: out(gatewayerr.DNSTimeout, false), phased: out(gatewayerr.DNSTimeout, false)}},
		{name: "timeout, caller's deadline", host: "api." + faulttest.ZoneTimeout,
			fc: faultCase{timeout: 300 * time.Millisecond,
				// RoundTrip returns a bare context.DeadlineExceeded.
				bare: out(gatewayerr.HTTPResponseTimeout, true), phased: out(gatewayerr.DNSTimeout, false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := d.Transport()
			if tt.tweak != nil {
				tt.tweak(tr)
			}
			fc := tt.fc
			fc.name = tt.name
			fc.check = func(t *testing.T, e *gatewayerr.Error) {
				if e.Kind == gatewayerr.DNSError && e.DNSRcode != tt.rcode {
					t.Errorf("DNSRcode = %q, want %q", e.DNSRcode, tt.rcode)
				}
				if e.Kind == gatewayerr.DNSError && !strings.HasPrefix(e.Upstream, "api.") {
					t.Errorf("Upstream = %q", e.Upstream)
				}
			}
			runFault(t, tr, hostURL(strings.TrimSuffix(tt.host, ".")), fc)
		})
	}
}

// runFault makes the request of tc against target and checks how its
// failure is classified.
func runFault(t *testing.T, rt http.RoundTripper, target string, tc faultCase) {
	t.Helper()
	timeout := tc.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if tc.prime {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatalf("priming request: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tracker := &phaseTracker{}
	if tc.cancel {
		tracker.onSent = cancel
	}
	ctx = httptrace.WithClientTrace(ctx, tracker.trace())
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if tc.body > 0 {
		body = bytes.NewReader(make([]byte, tc.body))
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	// Through http.Client, as a gateway's users often do: errors come
	// wrapped in *url.Error.
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err == nil {
		defer resp.Body.Close()
		if tc.inBody {
			tracker.set(gatewayerr.PhaseReadBody) // as the middleware's body wrapper does
			_, err = io.ReadAll(resp.Body)
			if err == nil {
				t.Fatalf("reading the body of a %s succeeded", resp.Status)
			}
		} else if tc.noErrorOK {
			if e := gatewayerr.ClassifyResponse(resp); e != nil {
				t.Fatalf("ClassifyResponse(%s) = %v, want nil", resp.Status, e)
			}
			t.Skipf("the race went the other way: %s and no error", resp.Status)
		} else {
			t.Fatalf("got %s, want an error", resp.Status)
		}
	}

	bare := gatewayerr.Classify(err)
	got := outcome{bare.Kind, bare.StatusCode(), bare.RequestSent()}
	if diff := cmp.Diff(tc.bare, got); diff != "" {
		t.Errorf("Classify(%q) mismatch (-want +got):\n%s", err, diff)
	}
	phase := tracker.get()
	phased := gatewayerr.ClassifyPhase(err, phase)
	if tracker.wrote.Load() {
		// The transport retried after writing the request once: the
		// last attempt's phase does not say whether the upstream got it.
		phased.SetRequestSent(true)
	}
	got = outcome{phased.Kind, phased.StatusCode(), phased.RequestSent()}
	want := tc.phased
	for _, k := range tc.phasedAlso {
		if got.Kind == k {
			want = outcome{k, k.StatusCode(), tc.phased.RequestSent}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ClassifyPhase(%q, %v) mismatch (-want +got):\n%s", err, phase, diff)
	}
	if !errors.Is(phased, want.Kind) {
		t.Errorf("errors.Is(err, %v) = false", want.Kind)
	}
	if tc.check != nil {
		tc.check(t, phased)
	}
}

// TestClassifyFaultResponses classifies the upstreams' own error responses
// and the faults whose outcome is a response, not an error.
func TestClassifyFaultResponses(t *testing.T) {
	tests := []struct {
		name  string
		start func(t *testing.T) *faulttest.Server
		want  *outcome // nil: not a gateway failure
		retry time.Duration
		chain int
	}{
		{"502", func(t *testing.T) *faulttest.Server { return faulttest.Status(t, 502, nil, "bad gateway") },
			&outcome{gatewayerr.Unknown, 502, true}, 0, 0},
		{"503 with Retry-After", func(t *testing.T) *faulttest.Server {
			return faulttest.Status(t, 503, http.Header{"Retry-After": {"120"}}, "maintenance")
		}, &outcome{gatewayerr.DestinationUnavailable, 503, true}, 2 * time.Minute, 0},
		{"503 with a Retry-After date", func(t *testing.T) *faulttest.Server {
			return faulttest.Status(t, 503, http.Header{"Retry-After": {time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat)}}, "")
		}, &outcome{gatewayerr.DestinationUnavailable, 503, true}, 10 * time.Minute, 0},
		{"504", func(t *testing.T) *faulttest.Server { return faulttest.Status(t, 504, nil, "") },
			&outcome{gatewayerr.HTTPResponseTimeout, 504, true}, 0, 0},
		{"502 with a Proxy-Status chain", func(t *testing.T) *faulttest.Server {
			return faulttest.Status(t, 502, http.Header{"Proxy-Status": {"origin-lb;error=connection_refused;next-hop=db", "cdn;received-status=502"}}, "")
		}, &outcome{gatewayerr.ConnectionRefused, 502, true}, 0, 2},
		{"200", func(t *testing.T) *faulttest.Server { return faulttest.TLS(t) }, nil, 0, 0},
		{"plain HTTP to a TLS port: a 400, not a gateway failure", func(t *testing.T) *faulttest.Server { return faulttest.PlainToTLS(t) }, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
			resp, err := s.Transport().RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			e := gatewayerr.ClassifyResponse(resp)
			if tt.want == nil {
				if e != nil {
					t.Fatalf("ClassifyResponse(%s) = %v, want nil", resp.Status, e)
				}
				return
			}
			if e == nil {
				t.Fatalf("ClassifyResponse(%s) = nil", resp.Status)
			}
			got := outcome{e.Kind, e.StatusCode(), e.RequestSent()}
			if diff := cmp.Diff(*tt.want, got); diff != "" {
				t.Errorf("ClassifyResponse mismatch (-want +got):\n%s", diff)
			}
			// An HTTP date has a one-second resolution.
			if d := e.RetryAfter - tt.retry; d < -2*time.Second || d > 0 {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retry)
			}
			if len(e.Chain) != tt.chain {
				t.Errorf("Chain = %v, want %d members", e.Chain, tt.chain)
			}
		})
	}
}

// TestClassifyBadUpgrade classifies the error httputil.ReverseProxy reports
// when an upstream switches to another protocol than the one asked for.
func TestClassifyBadUpgrade(t *testing.T) {
	s := faulttest.BadUpgrade(t)
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	var got error
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = s.Transport()
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(gatewayerr.Classify(err).StatusCode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, req)
	if got == nil {
		t.Fatalf("no error; status %d", rec.Code)
	}
	e := gatewayerr.Classify(got)
	if diff := cmp.Diff(out(gatewayerr.HTTPUpgradeFailed, true), outcome{e.Kind, e.StatusCode(), e.RequestSent()}); diff != "" {
		t.Errorf("Classify(%q) mismatch (-want +got):\n%s", got, diff)
	}
	if rec.Code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", rec.Code)
	}
}

// TestClassifyH2RequestErrors classifies requests that HTTP/2 transports
// refuse to encode: the gateway cannot forward the client's request.
func TestClassifyH2RequestErrors(t *testing.T) {
	s := faulttest.H2RSTStream(t, http2.ErrCodeInternal)
	for _, tr := range []struct {
		name string
		rt   http.RoundTripper
	}{{"bundled", s.Transport()}, {"x/net", xnetTransport(t, s)}} {
		t.Run(tr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header["Bad Name"] = []string{"x"}
			resp, err := tr.rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got %s, want an error", resp.Status)
			}
			e := gatewayerr.Classify(err)
			if diff := cmp.Diff(out(gatewayerr.HTTPRequestError, true), outcome{e.Kind, e.StatusCode(), e.RequestSent()}); diff != "" {
				t.Errorf("Classify(%q) mismatch (-want +got):\n%s", err, diff)
			}
		})
	}
}
