package middleware

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http2"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

type fault struct {
	name   string
	start  func(t testing.TB) (target string, base http.RoundTripper)
	kind   gatewayerr.Kind
	status int
	level  string
}

// withBase returns a fault start function for a faulttest constructor,
// reached with the server's own transport, adjusted by adjust when not nil.
func withBase(newServer func(testing.TB) *faulttest.Server, adjust func(*http.Transport)) func(testing.TB) (string, http.RoundTripper) {
	return func(t testing.TB) (string, http.RoundTripper) {
		s := newServer(t)
		tr := s.Transport()
		if adjust != nil {
			adjust(tr)
		}
		return s.URL, tr
	}
}

func dnsFault(zone string) func(testing.TB) (string, http.RoundTripper) {
	return func(t testing.TB) (string, http.RoundTripper) {
		d := faulttest.DNS(t)
		return "http://upstream." + strings.TrimSuffix(zone, ".") + ":80", d.Transport()
	}
}

var proxyFaults = []fault{
	{"refused", withBase(faulttest.Refused, nil), gatewayerr.ConnectionRefused, 502, "WARN"},
	{"accept close", withBase(faulttest.AcceptClose, nil), gatewayerr.ConnectionTerminated, 502, "WARN"},
	{"close before headers", withBase(faulttest.CloseBeforeHeaders, nil), gatewayerr.ConnectionTerminated, 502, "WARN"},
	{"bad content-length", withBase(faulttest.BadContentLength, nil), gatewayerr.HTTPProtocolError, 502, "WARN"},
	{"dns timeout", func(t testing.TB) (string, http.RoundTripper) {
		d := faulttest.DNS(t)
		tr := d.Transport()
		// The resolver never answers: the gateway's dial deadline ends it.
		tr.DialContext = (&net.Dialer{Timeout: 100 * time.Millisecond, Resolver: d.Resolver()}).DialContext
		return "http://upstream." + strings.TrimSuffix(faulttest.ZoneTimeout, ".") + ":80", tr
	}, gatewayerr.DNSTimeout, 504, "ERROR"},
	{"reset before headers", withBase(faulttest.ResetBeforeHeaders, nil), gatewayerr.ConnectionTerminated, 502, "WARN"},
	{"reset during headers", withBase(faulttest.ResetDuringHeaders, nil), gatewayerr.ConnectionTerminated, 502, "WARN"},
	{"stall headers", withBase(faulttest.StallHeaders, func(tr *http.Transport) {
		tr.ResponseHeaderTimeout = 50 * time.Millisecond
	}), gatewayerr.HTTPResponseTimeout, 504, "WARN"},
	{"stall after status line", withBase(faulttest.StallAfterStatusLine, func(tr *http.Transport) {
		tr.ResponseHeaderTimeout = 50 * time.Millisecond
	}), gatewayerr.HTTPResponseTimeout, 504, "WARN"},
	{"garbage status", withBase(faulttest.GarbageStatus, nil), gatewayerr.HTTPProtocolError, 502, "WARN"},
	{"status 000", withBase(faulttest.ZeroStatus, nil), gatewayerr.HTTPProtocolError, 502, "WARN"},
	{"oversized headers", withBase(func(t testing.TB) *faulttest.Server { return faulttest.OversizedHeaders(t, 8<<10) }, func(tr *http.Transport) {
		tr.MaxResponseHeaderBytes = 1 << 10
	}), gatewayerr.HTTPResponseHeaderSectionSize, 502, "WARN"},
	{"tls self-signed", withBase(faulttest.TLSSelfSigned, nil), gatewayerr.TLSCertificateError, 502, "ERROR"},
	{"tls expired", withBase(faulttest.TLSExpired, nil), gatewayerr.TLSCertificateError, 502, "ERROR"},
	{"tls wrong host", withBase(faulttest.TLSWrongHost, nil), gatewayerr.TLSCertificateError, 502, "ERROR"},
	{"tls to plain", withBase(faulttest.TLSToPlain, nil), gatewayerr.TLSProtocolError, 502, "ERROR"},
	{"tls handshake stall", withBase(faulttest.TLSHandshakeStall, func(tr *http.Transport) {
		tr.TLSHandshakeTimeout = 50 * time.Millisecond
	}), gatewayerr.ConnectionTimeout, 504, "WARN"},
	{"tls client cert required", withBase(faulttest.TLSClientCertRequired, nil), gatewayerr.TLSAlertReceived, 502, "ERROR"},
	{"h2 rst_stream", withBase(func(t testing.TB) *faulttest.Server { return faulttest.H2RSTStream(t, http2.ErrCodeInternal) }, nil), gatewayerr.ConnectionTerminated, 502, "WARN"},
	{"h2 goaway", withBase(func(t testing.TB) *faulttest.Server { return faulttest.H2GoAway(t, http2.ErrCodeInternal) }, nil), gatewayerr.ConnectionTerminated, 502, "WARN"},
	{"dns nxdomain", dnsFault(faulttest.ZoneNXDomain), gatewayerr.DNSError, 502, "ERROR"},
	{"dns servfail", dnsFault(faulttest.ZoneServFail), gatewayerr.DNSError, 502, "ERROR"},
	{"upstream 502, empty", func(t testing.TB) (string, http.RoundTripper) {
		s := faulttest.Status(t, http.StatusBadGateway, nil, "")
		return s.URL, s.Transport()
	}, gatewayerr.Unknown, 502, ""},
	{"upstream 504, text", func(t testing.TB) (string, http.RoundTripper) {
		s := faulttest.Status(t, http.StatusGatewayTimeout, nil, "upstream timed out at 10.0.0.7")
		return s.URL, s.Transport()
	}, gatewayerr.Unknown, 504, ""},
}

func TestReverseProxyFaults(t *testing.T) {
	t.Parallel()
	for _, f := range proxyFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			target, base := f.start(t)
			var log capturedLog
			var reported []gatewayerr.Kind
			var mu sync.Mutex
			gw := gateway(t, target, Options{
				Transport: base,
				Logger:    log.logger(),
				OnError: func(r *http.Request, e *gatewayerr.Error) {
					mu.Lock()
					reported = append(reported, e.Kind)
					mu.Unlock()
				},
			})
			var bodies []string
			for _, accept := range []string{"text/html", "application/json", "text/plain"} {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.Header.Set("Accept", accept)
				wantType := errorpage.Negotiate(req).ContentType()

				resp, body := get(t, nil, gw.URL+"/some/path?q=1", accept)
				bodies = append(bodies, body)
				if resp.StatusCode != f.status {
					t.Errorf("Accept %s: status %d, want %d", accept, resp.StatusCode, f.status)
				}
				if got := resp.Header.Get("Content-Type"); got != wantType {
					t.Errorf("Accept %s: Content-Type %q, want %q", accept, got, wantType)
				}
				ps := lastProxyStatus(t, resp.Header)
				wantError := f.kind.String()
				if f.kind == gatewayerr.Unknown {
					wantError = ""
				}
				if ps.Proxy != defaultProxyName || ps.Error != wantError || ps.Details != "" {
					t.Errorf("Accept %s: Proxy-Status member %+v, want proxy %q, error %q, no details", accept, ps, defaultProxyName, wantError)
				}
				if f.kind == gatewayerr.Unknown && ps.ReceivedStatus != f.status {
					t.Errorf("Accept %s: received-status %d, want %d", accept, ps.ReceivedStatus, f.status)
				}
				u, _ := url.Parse(target)
				for _, secret := range []string{u.Host, "10.0.0.7", "dial tcp", "net/http"} {
					if strings.Contains(body, secret) {
						t.Errorf("Accept %s: the page shows %q:\n%s", accept, secret, body)
					}
				}
			}
			if f.level == "" {
				return // an upstream's response: not a failure of the proxy
			}
			records := log.records(t, "gatehouse: upstream failure")
			if len(records) != 3 {
				t.Fatalf("%d failure records, want 1 per request (3)", len(records))
			}
			r := records[0]
			if r["level"] != f.level || r["kind"] != f.kind.String() || r["status"] != float64(f.status) ||
				r["method"] != "GET" || r["path"] != "/some/path" || r["attempts"] != float64(1) || r["duration"] == nil {
				t.Errorf("log record %v, want level %s, kind %s, status %d, method, path, attempts, duration", r, f.level, f.kind, f.status)
			}
			// The duration is the round trip's (in ns): measured from its
			// start, which the Transport reads because a Logger is set.
			if d, _ := r["duration"].(float64); d < 0 || d > float64(time.Minute) {
				t.Errorf("logged duration %v ns, want the round trip's", r["duration"])
			}
			// The reference on each page is the request_id logged.
			for i, r := range records {
				id, _ := r["request_id"].(string)
				if id == "" || !strings.Contains(bodies[i], id) {
					t.Errorf("request %d: logged request_id %q is not on its page", i, id)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]gatewayerr.Kind{f.kind, f.kind, f.kind}, reported); diff != "" {
				t.Errorf("OnError kinds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReverseProxyUpstreamErrors(t *testing.T) {
	problem := `{"type":"about:blank","title":"Out of stock","status":503}`
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		opts        Options
		wantReplace bool
	}{
		{"empty 502", 502, nil, "", Options{}, true},
		{"html 503", 503, http.Header{"Content-Type": {"text/html"}}, "<h1>Back soon</h1>", Options{}, false},
		{"html 503, unless structured", 503, http.Header{"Content-Type": {"text/html"}}, "<h1>nginx</h1>", Options{Replace: ReplaceUnlessStructured}, true},
		{"text 502", 502, http.Header{"Content-Type": {"text/plain"}}, "dial tcp 10.0.0.7:80: connection refused", Options{}, true},
		{"problem+xml 503", 503, http.Header{"Content-Type": {"application/problem+xml"}}, "<problem/>", Options{}, false},
		{"problem+json 503, unless structured", 503, http.Header{"Content-Type": {"application/problem+json"}}, problem, Options{Replace: ReplaceUnlessStructured}, false},
		{"problem+json 503", 503, http.Header{"Content-Type": {"application/problem+json"}}, problem, Options{}, false},
		{"json 502", 502, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, `{"error":"x"}`, Options{}, false},
		{"problem+json, always", 503, http.Header{"Content-Type": {"application/problem+json"}}, problem, Options{Replace: ReplaceAlways}, true},
		{"empty 502, never", 502, nil, "", Options{Replace: ReplaceNever}, false},
		{"500 not intercepted", 500, nil, "boom", Options{}, false},
		{"500 intercepted", 500, nil, "boom", Options{Intercept: []int{500}}, true},
		{"404 passes", 404, nil, "no such page", Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := faulttest.Status(t, tt.status, tt.header, tt.body)
			tt.opts.Transport = s.Transport()
			gw := gateway(t, s.URL, tt.opts)
			resp, body := get(t, nil, gw.URL, "text/plain")
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if replaced := body != tt.body; replaced != tt.wantReplace {
				t.Errorf("replaced = %v, want %v; body %q", replaced, tt.wantReplace, body)
			}
			if !tt.wantReplace {
				if resp.Header.Get("Proxy-Status") != "" {
					t.Errorf("a passed-through response got Proxy-Status %q", resp.Header.Get("Proxy-Status"))
				}
				return
			}
			ps := lastProxyStatus(t, resp.Header)
			if ps.Proxy != defaultProxyName || ps.ReceivedStatus != tt.status {
				t.Errorf("Proxy-Status member %+v, want gatehouse with received-status %d", ps, tt.status)
			}
		})
	}
}

func TestReverseProxyKeepsUpstreamChainAndRetryAfter(t *testing.T) {
	t.Run("chain", func(t *testing.T) {
		s := faulttest.Status(t, http.StatusBadGateway, http.Header{
			"Proxy-Status": {`envoy;error=connection_refused`},
		}, "")
		gw := gateway(t, s.URL, Options{Transport: s.Transport(), ProxyName: "edge-1"})
		resp, _ := get(t, nil, gw.URL, "")
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d, want 502", resp.StatusCode)
		}
		members, err := gatewayerr.ParseProxyStatusHeader(resp.Header)
		if err != nil {
			t.Fatal(err)
		}
		type member struct {
			Proxy          string
			Error          string
			ReceivedStatus int
		}
		var got []member
		for _, m := range members {
			got = append(got, member{m.Proxy, m.Error, m.ReceivedStatus})
		}
		want := []member{{"envoy", "connection_refused", 0}, {"edge-1", "", 502}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Proxy-Status members (-want +got):\n%s", diff)
		}
	})
	t.Run("Retry-After", func(t *testing.T) {
		s := faulttest.Status(t, http.StatusServiceUnavailable, http.Header{"Retry-After": {"30"}}, "down for maintenance")
		gw := gateway(t, s.URL, Options{Transport: s.Transport()})
		resp, body := get(t, nil, gw.URL, "")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" || body == "down for maintenance" {
			t.Errorf("status %d, Retry-After %q, body %q; want the branded 503 with Retry-After 30", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	})
}

// TestRetryAfterToldAsItIs: an upstream's Retry-After of a day reaches the
// client as a day, in the header and the JSON document, whether the 503 is
// replaced or let through, with or without retries (which it is too long
// for), through NewReverseProxy and Handler alike.
func TestRetryAfterToldAsItIs(t *testing.T) {
	tests := []struct {
		name        string
		contentType string // the upstream's; JSON is let through
		retry       *RetryPolicy
		handler     bool // through Handler instead of NewReverseProxy
	}{
		{"replaced", "", nil, false},
		{"replaced, retries on", "", &RetryPolicy{MaxRetryAfter: 48 * time.Hour, MaxElapsed: 48 * time.Hour}, false},
		{"let through", "application/json", nil, false},
		{"Handler", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Retry-After", "86400")
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
					w.WriteHeader(http.StatusServiceUnavailable)
					io.WriteString(w, `{"retry_after":86400}`)
					return
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			var srv *httptest.Server
			if tt.handler {
				srv = httptest.NewServer(Handler(Options{})(app))
				t.Cleanup(srv.Close)
			} else {
				up := httptest.NewServer(app)
				t.Cleanup(up.Close)
				srv = gateway(t, up.URL, Options{Retry: tt.retry})
			}
			resp, body := get(t, nil, srv.URL, "application/json")
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "86400" {
				t.Errorf("status %d, Retry-After %q; want 503 with 86400", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			var doc struct {
				RetryAfter int64 `json:"retry_after"`
			}
			if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.RetryAfter != 86400 {
				t.Errorf("retry_after %d (%v) in %s, want 86400", doc.RetryAfter, err, body)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("%d requests upstream, want 1: a day is beyond gatewayerr.MaxRetryAfter", n)
			}
		})
	}
}

func TestReverseProxyDetails(t *testing.T) {
	s := faulttest.Refused(t)
	gw := gateway(t, s.URL, Options{
		Transport:          s.Transport(),
		ProxyStatusDetails: func(r *http.Request) bool { return r.Header.Get("X-Debug") == "1" },
	})
	resp, _ := get(t, nil, gw.URL, "")
	if ps := lastProxyStatus(t, resp.Header); ps.Details != "" {
		t.Errorf("details %q without debug, want none", ps.Details)
	}
	req := newRequest(t, http.MethodGet, gw.URL, nil)
	req.Header.Set("X-Debug", "1")
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ps := lastProxyStatus(t, resp.Header); ps.Details == "" {
		t.Error("no details in debug mode")
	}
}

func TestReverseProxyLoop(t *testing.T) {
	// gateway -> loop server -> gateway: the second visit is refused.
	var gwURL string
	var loop *faulttest.Server
	front := httptest.NewUnstartedServer(nil)
	gwURL = "http://" + front.Listener.Addr().String()
	loop = faulttest.Loop(t, gwURL, "loop")
	u, _ := url.Parse(loop.URL)
	front.Config.Handler = NewReverseProxy(u, Options{})
	front.Start()
	defer front.Close()

	resp, _ := get(t, nil, gwURL, "")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	members, err := gatewayerr.ParseProxyStatusHeader(resp.Header)
	if err != nil || len(members) == 0 {
		t.Fatalf("Proxy-Status %q: %v", resp.Header.Values("Proxy-Status"), err)
	}
	// The inner visit answered proxy_loop_detected; the outer one passed the
	// loop server's 502 on, replaced and with the chain kept.
	found := false
	for _, m := range members {
		if m.Proxy == defaultProxyName && m.Kind == gatewayerr.ProxyLoopDetected {
			found = true
		}
	}
	if !found {
		t.Errorf("Proxy-Status %q has no proxy_loop_detected member", resp.Header.Get("Proxy-Status"))
	}
	if loop.Requests() != 1 {
		t.Errorf("the loop server saw %d requests, want 1", loop.Requests())
	}
}

func TestViaNames(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{"1.1 gatehouse"}, true},
		{[]string{"1.0 fred, 1.1 GateHouse (comment)"}, true},
		{[]string{"1.1 fred", "HTTP/2 gatehouse"}, true},
		{[]string{"1.1 gatehouse-2"}, false},
		{[]string{"gatehouse"}, false},
		{[]string{"1.1 fred, , 1.1  gatehouse"}, true},
		{[]string{"1.1\tgatehouse"}, true},                                // RWS may be a tab
		{[]string{"1.1 cdn (via gatehouse, 1.1 gatehouse cache)"}, false}, // a comma in a comment
		{[]string{"1.1 cdn (a (nested, 1.1 gatehouse) b), 1.1 x"}, false},
		{[]string{"1.1 cdn (a \\) , 1.1 gatehouse)"}, false}, // a quoted-pair
		{[]string{"1.1 cdn (note), 1.1 gatehouse(ours)"}, true},
		{[]string{"1.1 x (never closed, 1.1 gatehouse"}, true}, // a stray "(" hides nothing
		{[]string{"1.1 x ((a), 1.1 gatehouse"}, true},
	}
	for _, tt := range tests {
		if got := viaNames(tt.values, "gatehouse"); got != tt.want {
			t.Errorf("viaNames(%q) = %v, want %v", tt.values, got, tt.want)
		}
	}
}

func TestReverseProxyLoopByName(t *testing.T) {
	s := faulttest.Status(t, http.StatusOK, nil, "ok")
	for _, tt := range []struct {
		name, via string
		loop      bool
	}{
		{"", "1.1 gatehouse", false},
		{"edge 1", "1.1 edge-1", true},
		{"edge 1", "1.0 other, 2 EDGE-1 (ours)", true},
		{"edge 1", "1.1 edge-2", false},
	} {
		gw := gateway(t, s.URL, Options{Transport: s.Transport(), ProxyName: tt.name})
		req := newRequest(t, http.MethodGet, gw.URL, nil)
		req.Header.Set("Via", tt.via)
		resp, err := client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		looped := resp.StatusCode == http.StatusBadGateway && lastProxyStatus(t, resp.Header).Kind == gatewayerr.ProxyLoopDetected
		if looped != tt.loop {
			t.Errorf("ProxyName %q, Via %q: status %d, Proxy-Status %q; want loop detected = %v", tt.name, tt.via, resp.StatusCode, resp.Header.Get("Proxy-Status"), tt.loop)
		}
	}
	if got := s.Requests(); got != 2 {
		t.Errorf("the upstream saw %d requests, want only the two that did not loop", got)
	}
}

func TestReverseProxyDefaultsInSeries(t *testing.T) {
	// visitor -> edge -> service gateway -> upstream, both with the zero
	// Options but for their transports.
	up := faulttest.Status(t, http.StatusOK, nil, "ok")
	service := gateway(t, up.URL, Options{Transport: up.Transport()})
	edge := gateway(t, service.URL, Options{Transport: &http.Transport{Proxy: nil}})
	for range 2 {
		resp, body := get(t, nil, edge.URL, "")
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("status %d, body %q, Proxy-Status %q; want 200 ok", resp.StatusCode, body, resp.Header.Get("Proxy-Status"))
		}
	}
	if got := up.Requests(); got != 2 {
		t.Errorf("the upstream saw %d requests, want 2", got)
	}
}

func TestReverseProxyOwnUpstream(t *testing.T) {
	// A gateway with the zero Options whose target is itself.
	srv := httptest.NewUnstartedServer(nil)
	u := mustParse(t, "http://"+srv.Listener.Addr().String())
	var n int
	var mu sync.Mutex
	rp := NewReverseProxy(u, Options{Transport: &http.Transport{Proxy: nil}})
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		rp.ServeHTTP(w, r)
	})
	srv.Start()
	defer srv.Close()
	resp, _ := get(t, nil, srv.URL, "")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	members, err := gatewayerr.ParseProxyStatusHeader(resp.Header)
	if err != nil || len(members) == 0 || members[0].Proxy != defaultProxyName || members[0].Kind != gatewayerr.ProxyLoopDetected {
		t.Errorf("Proxy-Status %q (%v), want a first member gatehouse;error=proxy_loop_detected", resp.Header.Values("Proxy-Status"), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 2 {
		t.Errorf("the gateway saw %d requests, want 2 (the visitor's and its own)", n)
	}
}

func TestReverseProxyNameSanitized(t *testing.T) {
	var via string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		via = r.Header.Get("Via")
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer up.Close()
	gw := gateway(t, up.URL, Options{ProxyName: "edge 1"})
	resp, _ := get(t, nil, gw.URL, "")
	if via != "1.1 edge-1" {
		t.Errorf("Via %q, want 1.1 edge-1", via)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Proxy != "edge-1" {
		t.Errorf("Proxy-Status names %q, want edge-1 as in Via", ps.Proxy)
	}
}

func TestReverseProxyVia(t *testing.T) {
	var via []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		via = r.Header.Values("Via")
	}))
	defer up.Close()
	gw := gateway(t, up.URL, Options{ProxyName: "edge 1"})
	req := newRequest(t, http.MethodGet, gw.URL, nil)
	req.Header.Set("Via", "1.0 client-proxy")
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]string{"1.0 client-proxy", "1.1 edge-1"}, via); diff != "" {
		t.Errorf("upstream's Via (-want +got):\n%s", diff)
	}
}

func TestReverseProxyClientCancel(t *testing.T) {
	// An upstream that takes its time, and says when the request arrived.
	arrived := make(chan struct{}, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer up.Close()
	var log capturedLog
	reported := make(chan *gatewayerr.Error, 4)
	upTransport := &http.Transport{Proxy: nil}
	defer upTransport.CloseIdleConnections()
	rp := NewReverseProxy(mustParse(t, up.URL), Options{
		Transport: upTransport,
		Logger:    log.logger(),
		Breaker:   &BreakerPolicy{ConsecutiveFailures: 1},
		OnError:   func(r *http.Request, e *gatewayerr.Error) { reported <- e },
	})
	gw := httptest.NewServer(rp)
	defer gw.Close()

	ctx, cancel := context.WithCancel(testContext(t))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL, nil)
	c := client(t)
	errc := make(chan error, 1)
	go func() {
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	// Wait for the request to reach the upstream, then go away.
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	select {
	case <-arrived:
	case <-deadline.C:
		t.Fatal("the request never reached the upstream")
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v, want context.Canceled", err)
	}
	var e *gatewayerr.Error
	select {
	case e = <-reported:
	case <-deadline.C:
		t.Fatal("OnError was not called")
	}
	if e.Kind != gatewayerr.ClientClosedRequest || e.StatusCode() != gatewayerr.StatusClientClosedRequest {
		t.Errorf("reported %v, want client_closed_request (499)", e)
	}
	gw.Close() // waits for the handler to return
	records := log.records(t, "gatehouse: upstream failure")
	if len(records) != 1 || records[0]["level"] != "DEBUG" || records[0]["kind"] != "client_closed_request" || records[0]["status"] != 499.0 {
		t.Errorf("log records %v, want one debug client_closed_request, status 499", records)
	}
	if st := rp.Transport.(*Transport).BreakerState(mustParse(t, up.URL).Host); st != BreakerClosed {
		t.Errorf("breaker %v after a client's cancellation, want closed", st)
	}
}

func TestReverseProxyStreaming(t *testing.T) {
	next := make(chan struct{})
	up := twoEventStream(t, next)
	gw := gateway(t, up.URL, Options{ProxyStatusTrailer: true})
	resp, err := client(t).Do(newRequest(t, http.MethodGet, gw.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// The first event arrives while the upstream still holds the second.
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(next)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest %q, %v", rest, err)
	}
	if ps := resp.Trailer.Get("Proxy-Status"); ps != "" {
		t.Errorf("a complete stream has a Proxy-Status trailer %q", ps)
	}
}

func TestReverseProxyFailureAfterStart(t *testing.T) {
	t.Run("trailer", func(t *testing.T) {
		s := faulttest.BrokenChunking(t)
		gw := gateway(t, s.URL, Options{Transport: s.Transport(), ProxyStatusTrailer: true})
		resp, err := client(t).Do(newRequest(t, http.MethodGet, gw.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatalf("reading the body: %v, want a clean end with a trailer", err)
		}
		members, err := gatewayerr.ParseProxyStatus(resp.Trailer.Get("Proxy-Status"))
		if err != nil || len(members) != 1 || members[0].Kind != gatewayerr.HTTPResponseTransferCoding {
			t.Errorf("Proxy-Status trailer %q (%v), want one http_response_transfer_coding member", resp.Trailer.Get("Proxy-Status"), err)
		}
	})
	t.Run("abort", func(t *testing.T) {
		for _, newServer := range []func(testing.TB) *faulttest.Server{faulttest.BrokenChunking, faulttest.ResetDuringBody, faulttest.ShortBody} {
			s := newServer(t)
			var log capturedLog
			gw := gateway(t, s.URL, Options{Transport: s.Transport(), Logger: log.logger()})
			// The proxy aborts: the client sees the connection end, before
			// the headers when they were still buffered, or in the body.
			resp, err := client(t).Do(newRequest(t, http.MethodGet, gw.URL, nil))
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Errorf("%s: the client read a complete response, want an aborted one", s.URL)
			}
			gw.Close()
			if n := len(log.records(t, "gatehouse: upstream failure")); n != 1 {
				t.Errorf("%d failure records, want 1", n)
			}
		}
	})
}

func TestReverseProxyUpgrade(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString(strings.ToUpper(line))
		brw.Flush()
	}))
	defer up.Close()
	gw := gateway(t, up.URL, Options{Retry: &RetryPolicy{AttemptTimeout: time.Minute}, ProxyStatusTrailer: true})
	req := newRequest(t, http.MethodGet, gw.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		t.Fatalf("status %d, body %T; want 101 and a writable body", resp.StatusCode, resp.Body)
	}
	defer rwc.Close()
	io.WriteString(rwc, "ping\n")
	line, err := bufio.NewReader(rwc).ReadString('\n')
	if err != nil || line != "PING\n" {
		t.Errorf("echo %q, %v; want \"PING\\n\"", line, err)
	}
}

func TestReverseProxyHTTP2(t *testing.T) {
	up := faulttest.TLS(t)
	refused := faulttest.Refused(t)
	rt := newRouter(t, up)
	rt.rt = up.Transport()
	front := httptest.NewUnstartedServer(NewReverseProxy(mustParse(t, "http://upstream.test"), Options{Transport: rt}))
	front.EnableHTTP2 = true
	front.StartTLS()
	defer front.Close()
	h2client := front.Client()

	resp, body := get(t, h2client, front.URL, "")
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("through HTTP/2: %s %d %q, want HTTP/2 200 \"ok\"", resp.Proto, resp.StatusCode, body)
	}
	rt.set(refused)
	resp, _ = get(t, h2client, front.URL, "")
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("failure through HTTP/2: %s %d, want HTTP/2 502", resp.Proto, resp.StatusCode)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Kind != gatewayerr.ConnectionRefused {
		t.Errorf("Proxy-Status %+v, want connection_refused", ps)
	}
}

func TestReverseProxyBreaker(t *testing.T) {
	s := faulttest.Refused(t)
	gw := gateway(t, s.URL, Options{Transport: s.Transport(), Breaker: &BreakerPolicy{ConsecutiveFailures: 2, OpenFor: time.Hour}})
	for range 2 {
		if resp, _ := get(t, nil, gw.URL, ""); resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
	}
	resp, _ := get(t, nil, gw.URL, "")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3600" {
		t.Errorf("open breaker: status %d, Retry-After %q; want 503, 3600", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Kind != gatewayerr.DestinationUnavailable {
		t.Errorf("Proxy-Status %+v, want destination_unavailable", ps)
	}
}

func TestReverseProxyRetriesRefusedPOST(t *testing.T) {
	refused := faulttest.Refused(t)
	var got string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	}))
	defer up.Close()
	rt := newRouter(t)
	rt.setURLs(refused.URL, up.URL)
	gw := gateway(t, "http://upstream.test", Options{Transport: rt, Retry: &RetryPolicy{BaseDelay: time.Millisecond}})
	resp, err := client(t).Post(gw.URL, "text/plain", strings.NewReader("order=42"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got != "order=42" || rt.calls.Load() != 2 {
		t.Errorf("status %d, upstream got %q after %d attempts; want 200, \"order=42\", 2", resp.StatusCode, got, rt.calls.Load())
	}
}

func TestErrorHandlerOnExistingProxy(t *testing.T) {
	s := faulttest.Refused(t)
	target := mustParse(t, s.URL)
	rp := &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport:    s.Transport(), // a plain transport: errors unclassified
		ErrorHandler: ErrorHandler(Options{ProxyName: "legacy"}),
	}
	gw := httptest.NewServer(rp)
	defer gw.Close()
	resp, body := get(t, nil, gw.URL, "text/plain")
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, s.Addr) {
		t.Errorf("status %d, body %q; want 502 without the upstream address", resp.StatusCode, body)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Proxy != "legacy" || ps.Kind != gatewayerr.ConnectionRefused {
		t.Errorf("Proxy-Status %+v, want legacy;error=connection_refused", ps)
	}
}

func FuzzViaNames(f *testing.F) {
	for _, s := range []string{"1.1 gatehouse", "1.0 fred, 1.1 p.example.net (Apache/1.1)", "", ",,,", "HTTP/2 gatehouse  x"} {
		f.Add(s, "gatehouse")
	}
	f.Fuzz(func(t *testing.T, via, name string) {
		got := viaNames([]string{via}, name)
		if got && !strings.Contains(strings.ToLower(via), strings.ToLower(name)) {
			t.Fatalf("viaNames(%q, %q) = true, but the value does not contain the name", via, name)
		}
		// A pseudonym made by the proxy is always recognised when appended.
		pseudonym := viaPseudonym(name)
		if pseudonym != "" && !viaNames([]string{via + ", 1.1 " + pseudonym}, pseudonym) {
			t.Fatalf("viaNames(%q) misses the appended pseudonym %q", via+", 1.1 "+pseudonym, pseudonym)
		}
	})
}

func TestReverseProxyResponseBodyReadTimeout(t *testing.T) {
	// reported collects OnError's kinds and phases.
	type report struct {
		Kind  gatewayerr.Kind
		Phase gatewayerr.Phase
	}
	want := []report{{gatewayerr.ConnectionReadTimeout, gatewayerr.PhaseReadBody}}
	checkReports := func(t *testing.T, log *capturedLog, mu *sync.Mutex, got *[]report) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff(want, *got); diff != "" {
			t.Errorf("OnError (-want +got):\n%s", diff)
		}
		records := log.records(t, "gatehouse: upstream failure")
		if len(records) != 1 || records[0]["kind"] != "connection_read_timeout" || records[0]["phase"] != "read_body" ||
			records[0]["level"] != "WARN" || records[0]["status"] != float64(http.StatusOK) || records[0]["received_status"] != float64(http.StatusOK) {
			t.Errorf("log records %v, want one WARN connection_read_timeout in read_body, status 200 as the client got it", records)
		}
	}

	// A body with a Content-Length cannot end with a trailer: it is
	// aborted, whether or not the trailer is asked for.
	for _, trailer := range []bool{false, true} {
		t.Run(fmt.Sprintf("stall body, trailer %v", trailer), func(t *testing.T) {
			s := faulttest.StallBody(t)
			var log capturedLog
			var mu sync.Mutex
			var got []report
			gw := gateway(t, s.URL, Options{
				Transport:               s.Transport(),
				Logger:                  log.logger(),
				ResponseBodyReadTimeout: 50 * time.Millisecond,
				ProxyStatusTrailer:      trailer,
				OnError: func(r *http.Request, e *gatewayerr.Error) {
					mu.Lock()
					got = append(got, report{e.Kind, e.Phase})
					mu.Unlock()
				},
			})
			resp, err := client(t).Do(newRequest(t, http.MethodGet, gw.URL, nil))
			var body []byte
			if err == nil {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d, want the upstream's 200", resp.StatusCode)
				}
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			// The proxy aborts: the client sees the connection end, in the
			// body or, when the 100 bytes were still buffered, before the
			// headers.
			if err == nil {
				t.Fatalf("the client read a complete response (%d bytes), want an aborted one", len(body))
			}
			gw.Close() // waits for the handler to return
			checkReports(t, &log, &mu, &got)
		})
	}

	t.Run("stalled stream, trailer", func(t *testing.T) {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the proxy gives up and closes the connection
		}))
		defer up.Close()
		var log capturedLog
		var mu sync.Mutex
		var got []report
		gw := gateway(t, up.URL, Options{
			Logger:                  log.logger(),
			ResponseBodyReadTimeout: 50 * time.Millisecond,
			ProxyStatusTrailer:      true,
			OnError: func(r *http.Request, e *gatewayerr.Error) {
				mu.Lock()
				got = append(got, report{e.Kind, e.Phase})
				mu.Unlock()
			},
		})
		resp, err := client(t).Do(newRequest(t, http.MethodGet, gw.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || string(body) != "data: one\n\n" {
			t.Fatalf("body %q, %v; want the first event and a clean end with a trailer", body, err)
		}
		members, err := gatewayerr.ParseProxyStatus(resp.Trailer.Get("Proxy-Status"))
		if err != nil || len(members) != 1 || members[0].Kind != gatewayerr.ConnectionReadTimeout || members[0].Proxy != defaultProxyName {
			t.Errorf("Proxy-Status trailer %q (%v), want one gatehouse connection_read_timeout member", resp.Trailer.Get("Proxy-Status"), err)
		}
		gw.Close()
		checkReports(t, &log, &mu, &got)
	})
}

// brokenUpstream starts an upstream that answers every request with the raw
// response head, then ends the connection: cleanly or with a reset.
func brokenUpstream(t *testing.T, head string, reset bool) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		brw.WriteString(head)
		brw.Flush()
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			tc.SetLinger(0)
		}
		conn.Close()
	}))
	t.Cleanup(up.Close)
	return up
}

// dataErrTransport returns each response body's error together with its
// last data, as some readers do (see iotest.DataErrReader).
type dataErrTransport struct{ *http.Transport }

func (d dataErrTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := d.Transport.RoundTrip(req)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{iotest.DataErrReader(resp.Body), resp.Body}
	}
	return resp, err
}

// TestReverseProxySniffFailureReportedOnce checks that an upstream error
// response without Content-Type whose body fails while the proxy reads its
// first bytes is reported once: as the response replaced, or, when it is
// let through, as the failure that aborts it.
func TestReverseProxySniffFailureReportedOnce(t *testing.T) {
	const head = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 1000\r\n\r\n"
	type report struct {
		Kind           gatewayerr.Kind
		ReceivedStatus int
	}
	replaced := report{gatewayerr.Unknown, http.StatusBadGateway}
	tests := []struct {
		name     string
		body     string
		reset    bool
		dataErr  bool // the body's error comes with its first bytes
		want     report
		wantPage bool // replaced; otherwise aborted
	}{
		{"cut before the body", "", false, false, replaced, true},
		{"reset before the body", "", true, false, replaced, true},
		{"text cut short", "upstream down at 10.0.0.7", false, true, replaced, true},
		{"html cut short, let through", "<!DOCTYPE html><h1>Down</h1>", false, true, report{gatewayerr.HTTPResponseIncomplete, http.StatusBadGateway}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := brokenUpstream(t, head+tt.body, tt.reset)
			upTransport := &http.Transport{Proxy: nil}
			defer upTransport.CloseIdleConnections()
			var base http.RoundTripper = upTransport
			if tt.dataErr {
				base = dataErrTransport{upTransport}
			}
			var log capturedLog
			var mu sync.Mutex
			var got []report
			gw := gateway(t, up.URL, Options{
				Transport: base,
				Logger:    log.logger(),
				OnError: func(r *http.Request, e *gatewayerr.Error) {
					mu.Lock()
					got = append(got, report{e.Kind, e.ReceivedStatus})
					mu.Unlock()
				},
			})
			req := newRequest(t, http.MethodGet, gw.URL, nil)
			req.Header.Set("Accept", "text/plain")
			resp, err := client(t).Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if tt.wantPage {
				if err != nil || resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "10.0.0.7") {
					t.Errorf("response %v %q, want the 502 page", err, body)
				} else if ps := lastProxyStatus(t, resp.Header); ps.ReceivedStatus != http.StatusBadGateway {
					t.Errorf("Proxy-Status member %+v, want received-status 502", ps)
				}
			} else if err == nil {
				t.Errorf("the client read a complete response %q, want an aborted one", body)
			}
			gw.Close() // waits for the handler to return
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]report{tt.want}, got); diff != "" {
				t.Errorf("OnError (-want +got):\n%s", diff)
			}
			if n := len(log.records(t, "gatehouse: upstream failure")); n != 1 {
				t.Errorf("%d failure records, want 1", n)
			}
		})
	}
}

// BenchmarkReverseProxyResponseBodyReadTimeout measures what a response
// body's read timeout costs NewReverseProxy on the success path: the timer
// is recycled with the body, so nothing per request once warm.
func BenchmarkReverseProxyResponseBodyReadTimeout(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html><title>ok</title><p>hello from the upstream</p>")
	}))
	defer up.Close()
	target, _ := url.Parse(up.URL)
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	for _, timeout := range []time.Duration{0, 30 * time.Second} {
		b.Run("timeout="+timeout.String(), func(b *testing.B) {
			rp := NewReverseProxy(target, Options{Transport: tr, ResponseBodyReadTimeout: timeout})
			req := httptest.NewRequest(http.MethodGet, "http://gateway.test/", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				rp.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

func TestReverseProxyRedactsUpstreamProxyStatus(t *testing.T) {
	const upstreamField = `"10.0.0.5:8443";error=connection_refused;next-hop="db.internal", ` +
		`envoy;error=dns_error;rcode="NXDOMAIN";info-code=3;next-hop="10.0.0.9";details="lookup db.internal: no such host";secret="10.1.2.3", ` +
		`db.internal;error=http_response_header_size;header-name="X-Host";header-size=9000;alert-id=40, ` +
		`edge_2;error=tls_alert_received;alert-id=42;alert-message="10.0.0.5"`
	const redacted = `upstream-proxy;error=connection_refused, ` +
		`envoy;error=dns_error;rcode="NXDOMAIN";info-code=3, ` +
		`upstream-proxy;error=http_response_header_size;header-name="X-Host";header-size=9000, ` +
		`edge_2;error=tls_alert_received;alert-id=42`
	tests := []struct {
		name    string
		status  int
		header  http.Header
		body    string
		details bool
		want    string // the Proxy-Status field the client gets; with details, its upstream members
	}{
		{"replaced 502", 502, nil, "", false, redacted + `, gatehouse;received-status=502`},
		{"replaced 502, details", 502, nil, "", true, upstreamField},
		{"let-through 502", 502, http.Header{"Content-Type": {"application/json"}}, `{"error":"x"}`, false, redacted},
		{"let-through 200", 200, nil, "ok", false, redacted},
		{"let-through 200, details", 200, nil, "ok", true, upstreamField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Proxy-Status": {upstreamField}}
			for k, v := range tt.header {
				h[k] = v
			}
			s := faulttest.Status(t, tt.status, h, tt.body)
			gw := gateway(t, s.URL, Options{
				Transport:          s.Transport(),
				ProxyStatusDetails: func(*http.Request) bool { return tt.details },
			})
			resp, _ := get(t, nil, gw.URL, "")
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if !tt.details {
				if diff := cmp.Diff([]string{tt.want}, resp.Header.Values("Proxy-Status")); diff != "" {
					t.Errorf("Proxy-Status (-want +got):\n%s", diff)
				}
				return
			}
			// With details, the upstream's members reach the client whole.
			want, err := gatewayerr.ParseProxyStatus(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := gatewayerr.ParseProxyStatusHeader(resp.Header)
			if err != nil || len(got) < len(want) {
				t.Fatalf("Proxy-Status %q: %v", resp.Header.Values("Proxy-Status"), err)
			}
			if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
				t.Errorf("upstream Proxy-Status members (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReverseProxyDropsInvalidUpstreamProxyStatus(t *testing.T) {
	s := faulttest.Status(t, http.StatusOK, http.Header{"Proxy-Status": {`"10.0.0.5:8443";error=`}}, "ok")
	gw := gateway(t, s.URL, Options{Transport: s.Transport()})
	resp, _ := get(t, nil, gw.URL, "")
	if v := resp.Header.Values("Proxy-Status"); v != nil {
		t.Errorf("Proxy-Status %q, want none", v)
	}
}

// TestReverseProxyRedactsWhateverModifyResponse: the redaction holds when
// the user replaces or wraps the returned proxy's ModifyResponse, for a
// response let through and for an error response that the user's
// ModifyResponse no longer intercepts.
func TestReverseProxyRedactsWhateverModifyResponse(t *testing.T) {
	const field = `"10.0.0.5:8443";error=connection_refused;next-hop="10.1.2.3:5432";details="dial tcp 10.1.2.3:5432: connect: connection refused"`
	const redacted = `upstream-proxy;error=connection_refused`
	for _, status := range []int{http.StatusOK, http.StatusBadGateway} {
		for _, mode := range []string{"replaced", "wrapped"} {
			t.Run(fmt.Sprintf("%d %s", status, mode), func(t *testing.T) {
				s := faulttest.Status(t, status, http.Header{"Proxy-Status": {field}}, "from the upstream")
				rp := NewReverseProxy(mustParse(t, s.URL), Options{Transport: s.Transport()})
				var seen []string
				own := func(resp *http.Response) error {
					seen = resp.Header.Values("Proxy-Status")
					resp.Header.Set("X-Seen", "1")
					return nil
				}
				if mode == "wrapped" {
					ours := rp.ModifyResponse
					rp.ModifyResponse = func(resp *http.Response) error {
						if err := own(resp); err != nil {
							return err
						}
						return ours(resp)
					}
				} else {
					rp.ModifyResponse = own
				}
				gw := httptest.NewServer(rp)
				t.Cleanup(gw.Close)
				resp, _ := get(t, nil, gw.URL, "")
				// Chained with the proxy's, a 502 is replaced with the page.
				passed := mode == "replaced" || status == http.StatusOK
				if resp.StatusCode != status || (resp.Header.Get("X-Seen") == "1") != passed {
					t.Fatalf("status %d, X-Seen %q; want %d, passed through the user's ModifyResponse: %v", resp.StatusCode, resp.Header.Get("X-Seen"), status, passed)
				}
				if diff := cmp.Diff([]string{redacted}, seen); diff != "" {
					t.Errorf("Proxy-Status the user's ModifyResponse saw (-want +got):\n%s", diff)
				}
				got := resp.Header.Values("Proxy-Status")
				if len(got) == 0 || !strings.HasPrefix(got[0], redacted) {
					t.Errorf("Proxy-Status %q, want it to start with %q", got, redacted)
				}
				for _, v := range got {
					if strings.Contains(v, "10.") || strings.Contains(v, "dial") {
						t.Errorf("Proxy-Status %q names an upstream address", got)
					}
				}
			})
		}
	}
}

func TestReverseProxyBreakerOpenedByOwnRetries(t *testing.T) {
	tests := []struct {
		name     string
		start    func(testing.TB) *faulttest.Server
		kind     gatewayerr.Kind
		status   int
		attempts int
	}{
		{"timeouts", faulttest.StallHeaders, gatewayerr.HTTPResponseTimeout, http.StatusGatewayTimeout, 2},
		{"refused", faulttest.Refused, gatewayerr.ConnectionRefused, http.StatusBadGateway, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			var mu sync.Mutex
			var reported []string
			var log capturedLog
			gw := gateway(t, s.URL, Options{
				Transport: s.Transport(),
				Logger:    log.logger(),
				Retry:     &RetryPolicy{AttemptTimeout: 100 * time.Millisecond, BaseDelay: time.Millisecond},
				Breaker:   &BreakerPolicy{ConsecutiveFailures: 2, OpenFor: time.Minute},
				OnError: func(r *http.Request, e *gatewayerr.Error) {
					mu.Lock()
					defer mu.Unlock()
					reported = append(reported, fmt.Sprintf("%v attempts=%d", e.Kind, e.Attempts))
				},
			})
			// The request whose attempts open the breaker gets its own
			// failure; the next one, arriving while it is open, fails fast.
			resp, _ := get(t, nil, gw.URL, "")
			if resp.StatusCode != tt.status || lastProxyStatus(t, resp.Header).Kind != tt.kind {
				t.Errorf("first request: status %d, Proxy-Status %q; want %d %v", resp.StatusCode, resp.Header.Get("Proxy-Status"), tt.status, tt.kind)
			}
			resp, _ = get(t, nil, gw.URL, "")
			if resp.StatusCode != http.StatusServiceUnavailable || lastProxyStatus(t, resp.Header).Kind != gatewayerr.DestinationUnavailable {
				t.Errorf("second request: status %d, Proxy-Status %q; want 503 destination_unavailable", resp.StatusCode, resp.Header.Get("Proxy-Status"))
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{
				fmt.Sprintf("%v attempts=%d", tt.kind, tt.attempts),
				"destination_unavailable attempts=0",
			}
			if diff := cmp.Diff(want, reported); diff != "" {
				t.Errorf("OnError (-want +got):\n%s", diff)
			}
			var causes []string
			for _, r := range log.records(t, "gatehouse: upstream failure") {
				causes = append(causes, fmt.Sprint(r["kind"]))
			}
			if diff := cmp.Diff([]string{tt.kind.String(), "destination_unavailable"}, causes); diff != "" {
				t.Errorf("logged kinds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReverseProxyReportsAttemptsAndUpstream(t *testing.T) {
	type report struct {
		Kind     string
		Upstream string
		Attempts int
		Status   int
	}
	tests := []struct {
		name    string
		start   func(testing.TB) *faulttest.Server
		retry   *RetryPolicy
		upgrade bool
		want    report // Upstream "" stands for the server's host
	}{
		{"replaced 502", func(t testing.TB) *faulttest.Server { return faulttest.Status(t, 502, nil, "") }, nil, false,
			report{Kind: "unknown", Attempts: 1, Status: 502}},
		{"replaced 503 after retries", func(t testing.TB) *faulttest.Server { return faulttest.Status(t, 503, nil, "") },
			&RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond}, false,
			report{Kind: "destination_unavailable", Attempts: 3, Status: 503}},
		{"replaced text 502 after retries", func(t testing.TB) *faulttest.Server {
			return faulttest.Status(t, 502, http.Header{"Content-Type": {"text/plain"}}, "dial tcp 10.0.0.7:80: refused")
		}, &RetryPolicy{Attempts: 2, BaseDelay: time.Millisecond}, false,
			report{Kind: "unknown", Attempts: 2, Status: 502}},
		{"intercepted 500", func(t testing.TB) *faulttest.Server { return faulttest.Status(t, 500, nil, "boom") }, nil, false,
			report{Kind: "unknown", Attempts: 1, Status: 500}},
		{"bad upgrade", faulttest.BadUpgrade, nil, true,
			report{Kind: "http_upgrade_failed", Status: 502}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			var log capturedLog
			var reported []report
			gw := gateway(t, s.URL, Options{
				Transport: s.Transport(),
				Logger:    log.logger(),
				Retry:     tt.retry,
				Intercept: []int{500, 502, 503, 504},
				OnError: func(r *http.Request, e *gatewayerr.Error) {
					reported = append(reported, report{e.Kind.String(), e.Upstream, e.Attempts, e.StatusCode()})
				},
			})
			req := newRequest(t, http.MethodGet, gw.URL, nil)
			if tt.upgrade {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", "websocket")
			}
			resp, err := client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			want := tt.want
			want.Upstream = mustParse(t, s.URL).Host
			if diff := cmp.Diff([]report{want}, reported); diff != "" {
				t.Errorf("OnError (-want +got):\n%s", diff)
			}
			var logged []report
			for _, r := range log.records(t, "gatehouse: upstream failure") {
				attempts, _ := r["attempts"].(float64)
				status, _ := r["status"].(float64)
				logged = append(logged, report{fmt.Sprint(r["kind"]), fmt.Sprint(r["upstream"]), int(attempts), int(status)})
				// A replaced response is logged with the time its round
				// trip took, from the start the Transport reads because a
				// Logger is set (with no retry policy, nothing else needs
				// it). ReverseProxy's own failures have none, nor has an
				// empty body of a first attempt, which is not wrapped.
				d, timed := r["duration"].(float64)
				wantTimed := !tt.upgrade && tt.name != "replaced 502"
				if timed != wantTimed || d < 0 || d > float64(time.Minute) {
					t.Errorf("logged duration %v ns, want the round trip's: %v", r["duration"], wantTimed)
				}
			}
			if diff := cmp.Diff([]report{want}, logged); diff != "" {
				t.Errorf("logged (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReverseProxyIntercepted500BlamesService(t *testing.T) {
	s := faulttest.Status(t, http.StatusInternalServerError, nil, "panic: runtime error at /srv/app.go:12")
	gw := gateway(t, s.URL, Options{Transport: s.Transport(), Intercept: []int{500}})
	resp, body := get(t, nil, gw.URL, "text/plain")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.ReceivedStatus != 500 || ps.Error != "" {
		t.Errorf("Proxy-Status %q, want received-status=500 and no error of the gateway's", resp.Header.Get("Proxy-Status"))
	}
	if strings.Contains(body, "on our side") || strings.Contains(body, "app.go") ||
		!strings.Contains(body, "The service is having trouble") || !strings.Contains(body, "Gateway [OK] -> Service [X]") {
		t.Errorf("page %q, want the copy that blames the service, without the upstream's body", body)
	}
}

func TestReverseProxyMaxResponseBodyBytes(t *testing.T) {
	s := faulttest.Status(t, http.StatusOK, nil, strings.Repeat("x", 100))
	gw := gateway(t, s.URL, Options{Transport: s.Transport(), MaxResponseBodyBytes: 10})
	resp, body := get(t, nil, gw.URL, "text/plain")
	if resp.StatusCode != http.StatusBadGateway || lastProxyStatus(t, resp.Header).Kind != gatewayerr.HTTPResponseBodySize {
		t.Errorf("status %d, Proxy-Status %q, body %q; want 502 http_response_body_size", resp.StatusCode, resp.Header.Get("Proxy-Status"), body)
	}
}

func TestReverseProxyReplacesXForwardedFor(t *testing.T) {
	var xff, via string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		xff, via = r.Header.Get("X-Forwarded-For"), r.Header.Get("Via")
	}))
	defer up.Close()
	gw := gateway(t, up.URL, Options{})
	req := newRequest(t, http.MethodGet, gw.URL, nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if xff != "127.0.0.1" {
		t.Errorf("upstream's X-Forwarded-For %q, want the client's chain replaced by 127.0.0.1", xff)
	}
	if !strings.HasPrefix(via, "1.1 gatehouse-") || len(via) != len("1.1 gatehouse-")+8 {
		t.Errorf("upstream's Via %q, want 1.1 gatehouse- and 8 hex digits", via)
	}
	if v := resp.Header.Values("Via"); v != nil {
		t.Errorf("response Via %q, want none", v)
	}
}

// TestReverseProxyRequestIDFollowsPages checks that the ID a proxy's page
// quotes is the one logged and the one the OnError hook's request carries,
// whatever header the Pages read and whether the client's ID is valid.
func TestReverseProxyRequestIDFollowsPages(t *testing.T) {
	refused := faulttest.Refused(t)
	for _, tt := range []struct {
		name   string
		header string // errorpage.Config.RequestIDHeader
		sent   string // the client's value of that header
		keep   bool   // whether the client's value is the ID
	}{
		{"default header, none sent", "", "", false},
		{"default header, valid ID kept", "", "abc-123", true},
		{"default header, invalid ID replaced", "", "has space", false},
		{"custom header, valid ID kept", "X-Correlation-ID", "corr.42", true},
		{"custom header, none sent", "X-Correlation-ID", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := errorpage.New(errorpage.Config{RequestIDHeader: tt.header})
			if err != nil {
				t.Fatal(err)
			}
			header := tt.header
			if header == "" {
				header = "X-Request-ID"
			}
			var log capturedLog
			var hooked string
			gw := gateway(t, refused.URL, Options{
				Pages:  pages,
				Logger: log.logger(),
				OnError: func(r *http.Request, e *gatewayerr.Error) {
					hooked = r.Header.Get(header)
				},
			})
			req := newRequest(t, http.MethodGet, gw.URL+"/", nil)
			req.Header.Set("Accept", "text/plain")
			if tt.sent != "" {
				req.Header.Set(header, tt.sent)
			}
			_, body := send(t, nil, req)

			records := log.records(t, "gatehouse: upstream failure")
			if len(records) != 1 {
				t.Fatalf("%d failure records, want 1", len(records))
			}
			id, _ := records[0]["request_id"].(string)
			if !errorpage.ValidRequestID(id) {
				t.Fatalf("logged request_id %q is not a valid ID", id)
			}
			if tt.keep && id != tt.sent {
				t.Errorf("logged request_id %q, want the client's %q", id, tt.sent)
			}
			if !strings.Contains(body, "Request ID: "+id) {
				t.Errorf("the page does not quote the logged ID %q:\n%s", id, body)
			}
			if hooked != id {
				t.Errorf("OnError's request carries %q in %s, want %q", hooked, header, id)
			}
		})
	}
}

// TestReverseProxyRequestIDWithoutLog checks that a proxy that neither
// logs nor has hooks, which leaves the request ID to the page, still sets
// the one its page quotes: the client's own when valid.
func TestReverseProxyRequestIDWithoutLog(t *testing.T) {
	refused := faulttest.Refused(t)
	gw := gateway(t, refused.URL, Options{})
	for _, sent := range []string{"", "abc-123", "has space"} {
		req := newRequest(t, http.MethodGet, gw.URL+"/", nil)
		req.Header.Set("Accept", "text/plain")
		if sent != "" {
			req.Header.Set("X-Request-ID", sent)
		}
		resp, body := send(t, nil, req)
		id := resp.Header.Get("X-Request-ID")
		if !errorpage.ValidRequestID(id) || len(resp.Header.Values("X-Request-ID")) != 1 {
			t.Fatalf("sent %q: X-Request-ID %q, want one valid ID", sent, resp.Header.Values("X-Request-ID"))
		}
		if sent == "abc-123" && id != sent {
			t.Errorf("sent %q: X-Request-ID %q, want the client's", sent, id)
		}
		if !strings.Contains(body, "Request ID: "+id) {
			t.Errorf("sent %q: the page does not quote %q:\n%s", sent, id, body)
		}
	}
}

// TestReverseProxyRedactsUpstreamProxyStatusTrailer checks that a
// Proxy-Status trailer of a streamed upstream response, announced or not,
// reaches the client redacted, and whole with details.
func TestReverseProxyRedactsUpstreamProxyStatusTrailer(t *testing.T) {
	const upstreamField = `"10.0.0.5:8443";error=http_response_incomplete;details="read tcp 10.0.0.5:8443: reset"`
	const redacted = `upstream-proxy;error=http_response_incomplete`
	tests := []struct {
		name     string
		announce bool
		details  bool
		want     string
	}{
		{"announced", true, false, redacted},
		{"announced, details", true, true, upstreamField},
		{"not announced", false, false, redacted},
		{"not announced, details", false, true, upstreamField},
	}
	for _, tt := range tests {
		for _, h2 := range []bool{false, true} {
			name := tt.name + ", HTTP/1.1"
			if h2 {
				name = tt.name + ", HTTP/2"
			}
			t.Run(name, func(t *testing.T) {
				up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.announce {
						w.Header().Set("Trailer", "Proxy-Status")
					}
					io.WriteString(w, "partial answer")
					w.(http.Flusher).Flush() // chunked: the trailer can follow
					if tt.announce {
						w.Header().Set("Proxy-Status", upstreamField)
					} else {
						w.Header().Set(http.TrailerPrefix+"Proxy-Status", upstreamField)
					}
				}))
				if h2 {
					up.EnableHTTP2 = true
					up.StartTLS()
				} else {
					up.Start()
				}
				t.Cleanup(up.Close)
				gw := gateway(t, up.URL, Options{
					Transport:          up.Client().Transport,
					ProxyStatusDetails: func(*http.Request) bool { return tt.details },
				})
				resp, body := get(t, nil, gw.URL, "")
				if resp.StatusCode != http.StatusOK || body != "partial answer" {
					t.Fatalf("status %d, body %q; want 200 and the upstream's body", resp.StatusCode, body)
				}
				if diff := cmp.Diff([]string{tt.want}, resp.Trailer.Values("Proxy-Status")); diff != "" {
					t.Errorf("Proxy-Status trailer (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestReverseProxyLongUpstreamProxyStatus checks that an upstream's
// Proxy-Status is copied into the page's response only up to
// gatewayerr.MaxProxyStatusMembers members, and that a much longer one
// costs time in proportion to its size: 50,000 members (1.5 MB), which took
// minutes when each member was appended on its own, are ignored within the
// test's deadline.
func TestReverseProxyLongUpstreamProxyStatus(t *testing.T) {
	const member = "edge;error=connection_refused"
	field := func(n int) string { return strings.TrimSuffix(strings.Repeat(member+", ", n), ", ") }
	tests := []struct {
		name    string
		members int
		want    string
	}{
		{"longest kept", gatewayerr.MaxProxyStatusMembers, field(gatewayerr.MaxProxyStatusMembers) + ", gatehouse;received-status=502"},
		{"one more ignored", gatewayerr.MaxProxyStatusMembers + 1, "gatehouse;received-status=502"},
		{"far more ignored", 50_000, "gatehouse;received-status=502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := faulttest.Status(t, http.StatusBadGateway, http.Header{"Proxy-Status": {field(tt.members)}}, "")
			gw := gateway(t, s.URL, Options{Transport: s.Transport(), ProxyName: "gatehouse"})
			resp, _ := get(t, nil, gw.URL, "application/problem+json")
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
			if diff := cmp.Diff([]string{tt.want}, resp.Header.Values("Proxy-Status")); diff != "" {
				t.Errorf("Proxy-Status (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReverseProxyStalledUntypedErrorBody checks that an intercepted error
// response without Content-Type whose body never comes is replaced once
// sniffing its first bytes has waited long enough, not held until the
// client gives up: one second, or ResponseBodyReadTimeout if shorter.
func TestReverseProxyStalledUntypedErrorBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code    int
		timeout time.Duration
	}{{502, 0}, {503, 50 * time.Millisecond}, {504, 50 * time.Millisecond}} {
		t.Run(fmt.Sprintf("%d, ResponseBodyReadTimeout %v", tt.code, tt.timeout), func(t *testing.T) {
			t.Parallel()
			code := tt.code
			s := faulttest.StallErrorBody(t, code)
			logger, logs := newLogger()
			gw := gateway(t, s.URL, Options{Transport: s.Transport(), Logger: logger, ProxyName: "gatehouse", ResponseBodyReadTimeout: tt.timeout})
			resp, body := get(t, nil, gw.URL, "application/problem+json")
			if resp.StatusCode != code || !strings.Contains(body, `"status":`+strconv.Itoa(code)) {
				t.Fatalf("status %d, body %q; want the %d page", resp.StatusCode, body, code)
			}
			if got := resp.Header.Get("Proxy-Status"); got != "gatehouse;received-status="+strconv.Itoa(code) {
				t.Errorf("Proxy-Status %q", got)
			}
			rs := records(t, logs)
			if len(rs) != 1 || rs[0].Level != "WARN" {
				t.Errorf("log records %+v, want one warning", rs)
			}
		})
	}
}

// TestReverseProxyRedactsUpstreamProxyStatus1xx checks that the
// Proxy-Status of an upstream's 103 Early Hints reaches the client redacted,
// and whole with details, with and without retries (which trace a request
// on a copy of its own).
func TestReverseProxyRedactsUpstreamProxyStatus1xx(t *testing.T) {
	const upstreamField = `cdn;error=dns_error;next-hop="10.0.0.1:53";details="internal 10.0.0.1"`
	const redacted = `cdn;error=dns_error`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.Header().Set("Proxy-Status", upstreamField)
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Proxy-Status")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	tests := []struct {
		name    string
		details bool
		retry   *RetryPolicy
		want    string
	}{
		{"redacted", false, nil, redacted},
		{"redacted, with retries", false, &RetryPolicy{}, redacted},
		{"details", true, nil, upstreamField},
		{"details, with retries", true, &RetryPolicy{}, upstreamField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := gateway(t, up.URL, Options{
				Transport:          up.Client().Transport,
				Retry:              tt.retry,
				ProxyStatusDetails: func(*http.Request) bool { return tt.details },
			})
			var hints []string
			ctx := httptrace.WithClientTrace(testContext(t), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
					if code == http.StatusEarlyHints {
						hints = append(hints, h.Values("Proxy-Status")...)
					}
					return nil
				},
			})
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, _ := send(t, nil, req)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			if diff := cmp.Diff([]string{tt.want}, hints); diff != "" {
				t.Errorf("the 103's Proxy-Status (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReverseProxyUpstreamReportedKindLoggedAsWarning checks that an
// upstream's own error response is logged at warn level whatever kind its
// Proxy-Status names: a DNS or TLS failure beyond the gateway is not a
// matter of the gateway's configuration.
func TestReverseProxyUpstreamReportedKindLoggedAsWarning(t *testing.T) {
	for _, member := range []string{`edge;error=dns_error;rcode="NXDOMAIN"`, "edge;error=tls_certificate_error"} {
		t.Run(member, func(t *testing.T) {
			s := faulttest.Status(t, http.StatusBadGateway, http.Header{"Proxy-Status": {member}}, "")
			var log capturedLog
			gw := gateway(t, s.URL, Options{Transport: s.Transport(), Logger: log.logger()})
			if resp, _ := get(t, nil, gw.URL, ""); resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", resp.StatusCode)
			}
			records := log.records(t, "gatehouse: upstream failure")
			kind, _, _ := strings.Cut(strings.TrimPrefix(member, "edge;error="), ";")
			if len(records) != 1 || records[0]["level"] != "WARN" || records[0]["kind"] != kind || records[0]["received_status"] != 502.0 {
				t.Errorf("log records %v, want one warning of kind %s, received_status 502", records, kind)
			}
		})
	}
}

// TestErrorHandlerUnidentifiedError checks that an error whose cause
// nothing identifies, such as one from ModifyResponse, is the gateway's:
// proxy_internal_error in the page, the log, OnError and Proxy-Status
// alike, and that its text reaches only the log.
func TestErrorHandlerUnidentifiedError(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	target := mustParse(t, up.URL)
	var log capturedLog
	var reported []gatewayerr.Kind
	var mu sync.Mutex
	upTransport := &http.Transport{Proxy: nil}
	t.Cleanup(upTransport.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: upTransport,
		ModifyResponse: func(*http.Response) error {
			return errors.New("signature check failed for tenant 10.9.8.7")
		},
		ErrorHandler: ErrorHandler(Options{Logger: log.logger(), ProxyName: "gw", OnError: func(r *http.Request, e *gatewayerr.Error) {
			mu.Lock()
			reported = append(reported, e.Kind)
			mu.Unlock()
		}}),
	}
	gw := httptest.NewServer(rp)
	t.Cleanup(gw.Close)
	resp, body := get(t, nil, gw.URL, "application/problem+json")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, `"kind":"proxy_internal_error"`) {
		t.Errorf("got %d %s, want a 500 page of kind proxy_internal_error", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Proxy-Status"); got != "gw;error=proxy_internal_error" {
		t.Errorf("Proxy-Status %q, want gw;error=proxy_internal_error", got)
	}
	for _, secret := range []string{"signature", "10.9.8.7"} {
		if strings.Contains(body, secret) {
			t.Errorf("the page shows %q: %s", secret, body)
		}
	}
	gw.Close()
	records := log.records(t, "gatehouse: upstream failure")
	if len(records) != 1 || records[0]["kind"] != "proxy_internal_error" || records[0]["status"] != 500.0 ||
		!strings.Contains(fmt.Sprint(records[0]["error"]), "signature check failed") {
		t.Errorf("log records %v, want one proxy_internal_error, 500, with the error's text", records)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]gatewayerr.Kind{gatewayerr.ProxyInternalError}, reported); diff != "" {
		t.Errorf("OnError kinds (-want +got):\n%s", diff)
	}
}

// TestReverseProxyPageDescribesTheVisitorsRequest checks that the page, the
// log and OnError describe the request the visitor sent, not the one the
// proxy sent upstream: ReverseProxy hands its ErrorHandler the outgoing
// request, whose path has the target's base path in front and whose Host is
// the upstream's.
func TestReverseProxyPageDescribesTheVisitorsRequest(t *testing.T) {
	dead := faulttest.Refused(t)
	var log capturedLog
	var hosts, paths []string
	var mu sync.Mutex
	gw := gateway(t, dead.URL+"/internal/api/v1", Options{
		Transport: dead.Transport(),
		Logger:    log.logger(),
		OnError: func(r *http.Request, e *gatewayerr.Error) {
			mu.Lock()
			hosts, paths = append(hosts, r.Host), append(paths, r.URL.Path)
			mu.Unlock()
		},
	})
	for _, tt := range []struct {
		accept, ua string
		want       string // in the body
	}{
		{"application/problem+json", "", `"instance":"/products/42"`},
		{"*/*", "curl/8.5.0", "502 Bad Gateway"}, // curl gets text, not the JSON an /api/ path would
	} {
		req := newRequest(t, http.MethodGet, gw.URL+"/products/42", nil)
		req.Host = "shop.example"
		req.Header.Set("Accept", tt.accept)
		req.Header.Set("User-Agent", tt.ua)
		resp, body := send(t, nil, req)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, tt.want) {
			t.Errorf("Accept %s: got %d %s, want 502 with %s", tt.accept, resp.StatusCode, body, tt.want)
		}
		if strings.Contains(body, "internal") {
			t.Errorf("Accept %s: the page shows the upstream's path: %s", tt.accept, body)
		}
	}
	records := log.records(t, "gatehouse: upstream failure")
	for _, r := range records {
		if r["path"] != "/products/42" {
			t.Errorf("logged path %v, want /products/42", r["path"])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"shop.example", "shop.example"}, hosts); diff != "" {
		t.Errorf("OnError's request Host (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/products/42", "/products/42"}, paths); diff != "" {
		t.Errorf("OnError's request path (-want +got):\n%s", diff)
	}
}

// TestReverseProxyInterceptedUpstream499 checks that an upstream's own 499,
// when intercepted, reaches the visitor as the 499 page: the visitor is
// there, so writing nothing would send an empty 200.
func TestReverseProxyInterceptedUpstream499(t *testing.T) {
	s := faulttest.Status(t, gatewayerr.StatusClientClosedRequest, nil, "")
	gw := gateway(t, s.URL, Options{Transport: s.Transport(), Intercept: []int{gatewayerr.StatusClientClosedRequest}})
	resp, body := get(t, nil, gw.URL, "text/plain")
	if resp.StatusCode != gatewayerr.StatusClientClosedRequest || !strings.HasPrefix(body, "499 ") {
		t.Errorf("got %d %q, want the 499 page", resp.StatusCode, body)
	}
}

// TestHandlerAroundReverseProxyOwnPage checks that a Handler wrapping a
// NewReverseProxy lets the proxy's own page through, in every format and
// replace policy: the outer Handler must not replace it with a page that
// reads the proxy's own Proxy-Status member as an upstream's (a phantom
// hop, the wrong copy).
func TestHandlerAroundReverseProxyOwnPage(t *testing.T) {
	stall := faulttest.StallHeaders(t)
	base := stall.Transport()
	base.ResponseHeaderTimeout = 50 * time.Millisecond
	for _, policy := range []ReplacePolicy{ReplaceBare, ReplaceAlways} {
		var log capturedLog
		h := Handler(Options{Replace: policy, Logger: log.logger()})(NewReverseProxy(mustParse(t, stall.URL), Options{Transport: base, Logger: log.logger()}))
		gw := httptest.NewServer(h)
		for _, accept := range []string{"*/*", "text/html", "application/json"} {
			req := newRequest(t, http.MethodGet, gw.URL, nil)
			req.Header.Set("Accept", accept)
			req.Header.Set("User-Agent", "curl/8.5.0")
			resp, body := send(t, nil, req)
			if resp.StatusCode != http.StatusGatewayTimeout {
				t.Errorf("%v, Accept %s: status %d, want 504", policy, accept, resp.StatusCode)
			}
			if strings.Contains(body, "Proxy") || strings.Contains(body, "depends on") {
				t.Errorf("%v, Accept %s: the page blames a hop that does not exist:\n%s", policy, accept, body)
			}
			if got := resp.Header.Values("Proxy-Status"); len(got) != 1 || strings.Count(got[0], ",") != 0 {
				t.Errorf("%v, Accept %s: Proxy-Status %q, want the proxy's member alone", policy, accept, got)
			}
		}
		gw.Close()
		if n := len(log.records(t, "gatehouse: upstream failure")); n != 3 {
			t.Errorf("%v: %d failure records, want 3 (one per request)", policy, n)
		}
	}
}

// TestInterceptedStatusKept checks that a replaced response keeps its
// status, as Options.Intercept says, even when its Proxy-Status names an
// error whose own status differs.
func TestInterceptedStatusKept(t *testing.T) {
	h := http.Header{"Proxy-Status": {"inner;error=dns_error"}}
	t.Run("NewReverseProxy", func(t *testing.T) {
		s := faulttest.Status(t, http.StatusNotFound, h, "")
		gw := gateway(t, s.URL, Options{Transport: s.Transport(), Intercept: []int{404}})
		if resp, _ := get(t, nil, gw.URL, "text/plain"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want the upstream's 404", resp.StatusCode)
		}
	})
	t.Run("Handler", func(t *testing.T) {
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Proxy-Status", h.Get("Proxy-Status"))
			w.WriteHeader(http.StatusNotFound)
		})
		gw := httptest.NewServer(Handler(Options{Intercept: []int{404}})(app))
		t.Cleanup(gw.Close)
		if resp, _ := get(t, nil, gw.URL, "text/plain"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want the application's 404", resp.StatusCode)
		}
	})
}
