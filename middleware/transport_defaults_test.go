package middleware

import (
	"bufio"
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestGatewayTransportDefaults pins the settings documented on
// Transport.Base and Options.Transport.
func TestGatewayTransportDefaults(t *testing.T) {
	var zero Transport
	g, ok := zero.base().(*http.Transport)
	if !ok {
		t.Fatalf("base() of the zero Transport is %T, want *http.Transport", zero.base())
	}
	checkGatewaySettings(t, "the transport made for a gateway", g)
	if defaultDialTimeout != 10*time.Second || defaultKeepAlive != 30*time.Second {
		t.Errorf("dial timeout %v, keep-alive %v; want 10s and 30s", defaultDialTimeout, defaultKeepAlive)
	}

	// Built once per Transport, never shared, and never used when Base is
	// set.
	if again := zero.base(); again != g {
		t.Error("a second base() built another transport")
	}
	var other Transport
	if other.base() == g {
		t.Error("two Transports share their transport made for a gateway")
	}
	set := &http.Transport{}
	if tr := (&Transport{Base: set}); tr.base() != set || tr.gateway.Load() != nil {
		t.Error("a Transport with a Base built a transport of its own")
	}
	rp := NewReverseProxy(mustParse(t, "http://127.0.0.1:1"), Options{})
	if g, ok := rp.Transport.(*Transport).base().(*http.Transport); !ok || g.ResponseHeaderTimeout != defaultResponseHeaderTimeout {
		t.Errorf("NewReverseProxy with zero Options sends through %T, want the transport made for a gateway", rp.Transport.(*Transport).base())
	}

	// NewGatewayTransport returns the same settings, in a new transport
	// each time.
	a, b := NewGatewayTransport(), NewGatewayTransport()
	checkGatewaySettings(t, "NewGatewayTransport", a)
	if a == b || a == g {
		t.Error("NewGatewayTransport returned a transport already in use")
	}
}

// checkGatewaySettings checks g's settings against those documented on
// Transport.Base.
func checkGatewaySettings(t *testing.T, what string, g *http.Transport) {
	t.Helper()
	type settings struct {
		Proxy                  bool
		TLSHandshakeTimeout    time.Duration
		ResponseHeaderTimeout  time.Duration
		ExpectContinueTimeout  time.Duration
		MaxIdleConns           int
		MaxIdleConnsPerHost    int
		IdleConnTimeout        time.Duration
		MaxResponseHeaderBytes int64
		DisableCompression     bool
		ForceAttemptHTTP2      bool
		DialContext            bool
	}
	got := settings{
		Proxy:                  g.Proxy != nil,
		TLSHandshakeTimeout:    g.TLSHandshakeTimeout,
		ResponseHeaderTimeout:  g.ResponseHeaderTimeout,
		ExpectContinueTimeout:  g.ExpectContinueTimeout,
		MaxIdleConns:           g.MaxIdleConns,
		MaxIdleConnsPerHost:    g.MaxIdleConnsPerHost,
		IdleConnTimeout:        g.IdleConnTimeout,
		MaxResponseHeaderBytes: g.MaxResponseHeaderBytes,
		DisableCompression:     g.DisableCompression,
		ForceAttemptHTTP2:      g.ForceAttemptHTTP2,
		DialContext:            g.DialContext != nil,
	}
	want := settings{
		Proxy:                  true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    128,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
		DialContext:            true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// TestGatewayTransportBuiltOnceConcurrently checks that concurrent first
// uses agree on one transport.
func TestGatewayTransportBuiltOnceConcurrently(t *testing.T) {
	var tr Transport
	var wg sync.WaitGroup
	got := make([]http.RoundTripper, 8)
	for i := range got {
		wg.Go(func() { got[i] = tr.base() })
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("first uses got different transports")
		}
	}
}

// TestReverseProxyZeroOptionsStalledUpstream: an upstream that accepts the
// request and never answers gets the http_response_timeout page (504) with
// one WARN record, within the response-header timeout (shortened here from
// its 60 s default).
func TestReverseProxyZeroOptionsStalledUpstream(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) })

	var log capturedLog
	rp := NewReverseProxy(mustParse(t, up.URL), Options{Logger: log.logger()})
	tr := rp.Transport.(*Transport)
	tr.responseHeaderTimeout = 200 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	gw := httptest.NewServer(rp)
	t.Cleanup(gw.Close)

	start := time.Now()
	resp, _ := get(t, nil, gw.URL, "application/json")
	elapsed := time.Since(start)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", resp.StatusCode)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Kind != gatewayerr.HTTPResponseTimeout {
		t.Errorf("Proxy-Status error %q, want http_response_timeout", ps.Error)
	}
	if elapsed > 5*time.Second {
		t.Errorf("answered after %v: the response-header timeout did not apply", elapsed)
	}
	var warns []map[string]any
	for _, rec := range log.records(t, "gatehouse: upstream failure") {
		if rec["level"] == slog.LevelWarn.String() {
			warns = append(warns, rec)
		}
	}
	if len(warns) != 1 || warns[0]["kind"] != "http_response_timeout" {
		t.Errorf("WARN records %v, want one of kind http_response_timeout", warns)
	}
}

// TestNewGatewayTransportAdjusted: a NewGatewayTransport with a shorter
// response-header timeout, given as Options.Transport, answers a stalled
// upstream with the http_response_timeout page within that timeout, and
// keeps the transport's other settings.
func TestNewGatewayTransportAdjusted(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			w.Write([]byte("ok"))
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) })

	tr := NewGatewayTransport()
	tr.ResponseHeaderTimeout = 200 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	gw := httptest.NewServer(NewReverseProxy(mustParse(t, up.URL), Options{Transport: tr}))
	t.Cleanup(gw.Close)

	if resp, body := get(t, nil, gw.URL+"/ok", ""); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("/ok: status %d, body %q", resp.StatusCode, body)
	}
	start := time.Now()
	resp, _ := get(t, nil, gw.URL+"/stall", "text/html")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("answered after %v: the shortened response-header timeout did not apply", elapsed)
	}
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", resp.StatusCode)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Kind != gatewayerr.HTTPResponseTimeout {
		t.Errorf("Proxy-Status error %q, want http_response_timeout", ps.Error)
	}
	if tr.MaxIdleConnsPerHost != defaultMaxIdleConnsPerHost || !tr.DisableCompression {
		t.Errorf("MaxIdleConnsPerHost %d, DisableCompression %v: the other settings changed", tr.MaxIdleConnsPerHost, tr.DisableCompression)
	}
}

// TestReverseProxyZeroOptionsReusesConnections: concurrent requests through
// the zero Options keep their upstream connections for the next ones, where
// http.DefaultTransport would keep 2.
func TestReverseProxyZeroOptionsReusesConnections(t *testing.T) {
	const n = 64
	var conns atomic.Int32
	var arrived sync.WaitGroup
	var mu sync.Mutex
	wave := make(chan struct{})
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Take this wave's channel before counting in: once the last of
		// the wave is counted, the test closes it and starts the next.
		mu.Lock()
		c := wave
		mu.Unlock()
		arrived.Done()
		select { // hold each request until all n are in, so that n connections are open at once
		case <-c:
		case <-r.Context().Done():
		}
		w.Write([]byte("ok"))
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	rp := NewReverseProxy(mustParse(t, up.URL), Options{})
	t.Cleanup(rp.Transport.(*Transport).CloseIdleConnections)
	gw := httptest.NewServer(rp)
	t.Cleanup(gw.Close)
	c := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: n}}
	t.Cleanup(c.CloseIdleConnections)

	run := func() {
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		arrived.Add(n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL, nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d", resp.StatusCode)
				}
			})
		}
		done := make(chan struct{})
		go func() { arrived.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			t.Error("the requests never all reached the upstream")
		}
		mu.Lock()
		close(wave)
		wave = make(chan struct{})
		mu.Unlock()
		wg.Wait()
	}
	run()
	first := conns.Load()
	run()
	// A connection goes back to the pool just after its response ends, so
	// a few of the second wave may dial before it is back; with 2 idle
	// connections per host, as http.DefaultTransport keeps, 62 would.
	if again := conns.Load() - first; first < n || again > n/2 {
		t.Errorf("%d connections for the first %d concurrent requests, %d more for the next %d; want %d, then few", first, n, again, n, n)
	}
}

func TestReverseProxyBufferPool(t *testing.T) {
	rp := NewReverseProxy(mustParse(t, "http://127.0.0.1:1"), Options{})
	bp := rp.BufferPool
	if bp == nil {
		t.Fatal("no BufferPool")
	}
	b := bp.Get()
	if len(b) != copyBufferSize || cap(b) != copyBufferSize {
		t.Fatalf("Get: len %d, cap %d; want %d", len(b), cap(b), copyBufferSize)
	}
	bp.Put(b)
	// Slices of another length or capacity are refused: Get always hands
	// out a whole buffer of its own size.
	bp.Put(make([]byte, 10))
	bp.Put(make([]byte, copyBufferSize, 2*copyBufferSize))
	bp.Put(make([]byte, 2*copyBufferSize))
	bp.Put(nil)
	for range 4 {
		if b := bp.Get(); len(b) != copyBufferSize || cap(b) != copyBufferSize {
			t.Fatalf("Get after odd Puts: len %d, cap %d", len(b), cap(b))
		}
	}
	if n := testing.AllocsPerRun(100, func() { bp.Put(bp.Get()) }); n > 0 {
		t.Errorf("Get and Put allocate %v times, want 0", n)
	}
}

// TestNilHTTPTransportIsNilBase: a nil *http.Transport in Options.Transport
// or Transport.Base (as README's faulttest loop copies a Target's nil
// Transport) stands for the gateway transport, where the *http.Transport
// itself would panic on every request ("transport is nil").
func TestNilHTTPTransportIsNilBase(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	var nilTransport *http.Transport
	tests := []struct {
		name    string
		handler func() (http.Handler, *Transport)
	}{
		{"Options.Transport", func() (http.Handler, *Transport) {
			rp := NewReverseProxy(mustParse(t, up.URL), Options{Transport: nilTransport})
			return rp, rp.Transport.(*Transport)
		}},
		{"Transport.Base", func() (http.Handler, *Transport) {
			tr := &Transport{Base: nilTransport}
			return &httputil.ReverseProxy{
				Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(mustParse(t, up.URL)) },
				Transport: tr,
				ErrorLog:  log.New(io.Discard, "", 0),
			}, tr
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, tr := tt.handler()
			gw := httptest.NewServer(h)
			t.Cleanup(gw.Close)
			t.Cleanup(tr.CloseIdleConnections)
			resp, body := get(t, nil, gw.URL, "text/plain")
			if resp.StatusCode != http.StatusOK || body != "ok" {
				t.Errorf("got %d %q, want 200 \"ok\" from the upstream", resp.StatusCode, body)
			}
			if tr.gateway.Load() == nil {
				t.Error("the gateway transport was not built")
			}
		})
	}
}

// TestReverseProxyZeroOptionsUpstreamStopsReading: an upstream that accepts
// a request and never reads its body cannot hold it: behind the zero
// Options, the write that no longer completes fails the exchange with
// connection_write_timeout (504), where ResponseHeaderTimeout, which starts
// once the request is written, never would.
func TestReverseProxyZeroOptionsUpstreamStopsReading(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // never read
			mu.Unlock()
		}
	})
	var stop sync.Once
	stopUpstream := func() {
		stop.Do(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
	}
	t.Cleanup(stopUpstream)

	var log capturedLog
	rp := NewReverseProxy(mustParse(t, "http://"+ln.Addr().String()), Options{Logger: log.logger()})
	tr := rp.Transport.(*Transport)
	tr.writeTimeout = 300 * time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	gw := httptest.NewServer(rp)
	t.Cleanup(gw.Close)
	// Before gw.Close, which waits for the handler: were the write never
	// bounded, closing the upstream's connections ends it.
	t.Cleanup(stopUpstream)

	// A raw client, so that its upload, which the proxy stops reading,
	// does not keep it from reading the answer.
	c, err := net.Dial("tcp4", gw.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	const size = 256 << 20 // far beyond the socket buffers of both legs
	var uploads sync.WaitGroup
	defer uploads.Wait()
	defer c.Close()
	uploads.Go(func() {
		io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: gw\r\nAccept: application/json\r\nContent-Length: "+
			strconv.Itoa(size)+"\r\n\r\n")
		io.Copy(c, io.LimitReader(zeros{}, size))
	})
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer after %v: %v", time.Since(start), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", resp.StatusCode)
	}
	if ps := lastProxyStatus(t, resp.Header); ps.Kind != gatewayerr.ConnectionWriteTimeout {
		t.Errorf("Proxy-Status error %q, want connection_write_timeout", ps.Error)
	}
	var warns int
	for _, rec := range log.records(t, "gatehouse: upstream failure") {
		if rec["level"] == slog.LevelWarn.String() && rec["kind"] == "connection_write_timeout" {
			warns++
		}
	}
	if warns != 1 {
		t.Errorf("%d WARN records of kind connection_write_timeout, want 1", warns)
	}
}
