package middleware

//lint:file-ignore SA1019 the helpers serve HTTP/2 cleartext with x/net/http2 and h2c, on purpose

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
	"go.uber.org/goleak"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// refusedAddr returns a loopback host:port where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proto is a way of serving over a real loopback connection.
type proto string

const (
	http1   proto = "HTTP/1.1"
	h2cProt proto = "h2c"
	h2TLS   proto = "h2"
)

var protos = []proto{http1, h2cProt, h2TLS}

// serve starts a server for h speaking p on 127.0.0.1 and returns its URL
// and a client for it. When the test ends, it stops both and fails the test
// if the server logged anything (such as a superfluous WriteHeader).
func serve(t *testing.T, p proto, h http.Handler) (string, *http.Client) {
	t.Helper()
	var errLog syncBuffer
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(&errLog, "", 0)
	t.Cleanup(func() {
		if got := errLog.String(); got != "" {
			t.Errorf("server log is not empty:\n%s", got)
		}
	})
	var c *http.Client
	switch p {
	case http1:
		s.Start()
		c = s.Client()
	case h2cProt:
		s.Config.Handler = h2c.NewHandler(h, &http2.Server{})
		s.Start()
		c = &http.Client{Transport: &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}}
	case h2TLS:
		s.EnableHTTP2 = true
		s.StartTLS()
		c = s.Client()
	}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		s.Close()
	})
	return s.URL, c
}

// get sends a request and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// logRecord is one line of a JSON slog handler's output.
type logRecord struct {
	Level     string `json:"level"`
	Msg       string `json:"msg"`
	ErrorType string `json:"kind"`
	Error     string `json:"error"`
	Stack     string `json:"stack"`
	RequestID string `json:"request_id"`
}

// newLogger returns a logger that records everything from debug up.
func newLogger() (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func records(t *testing.T, buf *syncBuffer) []logRecord {
	t.Helper()
	var rs []logRecord
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r logRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad log line %q: %v", sc.Text(), err)
		}
		rs = append(rs, r)
	}
	return rs
}

// hook records the errors reported to Options.OnError.
type hook struct {
	mu     sync.Mutex
	errs   []*gatewayerr.Error
	called chan struct{} // closed on the first call
}

func (h *hook) onError(r *http.Request, err *gatewayerr.Error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err)
	if h.called == nil {
		h.called = make(chan struct{})
	}
	if len(h.errs) == 1 {
		close(h.called)
	}
}

// wait returns a channel closed once the hook has been called.
func (h *hook) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.called == nil {
		h.called = make(chan struct{})
	}
	return h.called
}

func (h *hook) got() []*gatewayerr.Error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.errs
}

// gateway starts a loopback server running NewReverseProxy to target with
// opts, and returns its URL.
func gateway(t *testing.T, target string, opts Options) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewReverseProxy(u, opts))
	t.Cleanup(srv.Close)
	return srv
}

// get sends a GET to url with the given Accept header and returns the
// response with its body read.
func get(t *testing.T, c *http.Client, target, accept string) (*http.Response, string) {
	t.Helper()
	req := newRequest(t, http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return send(t, c, req)
}

// send sends req with c, or a client of its own when c is nil, and returns
// the response with its body read.
func send(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	if c == nil {
		c = &http.Client{Transport: &http.Transport{Proxy: nil}}
		defer c.CloseIdleConnections()
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

// lastProxyStatus parses the response's Proxy-Status and returns its last
// member, the one this gateway added.
func lastProxyStatus(t *testing.T, h http.Header) gatewayerr.ProxyStatus {
	t.Helper()
	members, err := gatewayerr.ParseProxyStatusHeader(h)
	if err != nil || len(members) == 0 {
		t.Fatalf("Proxy-Status %q: %v, %d members", h.Values("Proxy-Status"), err, len(members))
	}
	return members[len(members)-1]
}

// capturedLog is a slog handler's output, one JSON object a line.
type capturedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capturedLog) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *capturedLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records whose message is msg.
func (c *capturedLog) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(c.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// testTimeout bounds every request a test makes.
const testTimeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// router is a test Base that sends each request to the loopback server
// currently chosen for it, so that one upstream name ("upstream.test", never
// resolved) can misbehave and then recover. Its errors are the real errors of
// the servers' sockets.
type router struct {
	rt      *http.Transport
	mu      sync.Mutex
	targets []string // base URLs, used in turn; the last one stays
	calls   atomic.Int32
}

func newRouter(t *testing.T, targets ...*faulttest.Server) *router {
	rt := &http.Transport{Proxy: nil}
	t.Cleanup(rt.CloseIdleConnections)
	r := &router{rt: rt}
	r.set(targets...)
	return r
}

func (r *router) set(targets ...*faulttest.Server) {
	urls := make([]string, len(targets))
	for i, s := range targets {
		urls[i] = s.URL
	}
	r.setURLs(urls...)
}

func (r *router) setURLs(urls ...string) {
	r.mu.Lock()
	r.targets = urls
	r.mu.Unlock()
}

func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	r.calls.Add(1)
	r.mu.Lock()
	target := r.targets[0]
	if len(r.targets) > 1 {
		r.targets = r.targets[1:]
	}
	r.mu.Unlock()
	out := req.Clone(req.Context())
	out.Body = req.Body
	u, _ := url.Parse(target)
	out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
	return r.rt.RoundTrip(out)
}

// client returns an HTTP client for the test, on its own transport.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func newRequest(t *testing.T, method, target string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// wantError checks that err is a *gatewayerr.Error of the given kind and
// returns it.
func wantError(t *testing.T, err error, kind gatewayerr.Kind) *gatewayerr.Error {
	t.Helper()
	var e *gatewayerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *gatewayerr.Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error kind = %v, want %v (%v)", e.Kind, kind, err)
	}
	return e
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// clientFrom returns a client whose connections come from the loopback
// address local.
func clientFrom(t *testing.T, local string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}
