package middleware

//lint:file-ignore SA1019 the tests serve HTTP/2 cleartext with x/net/http2 and h2c, and check http.CloseNotifier, on purpose

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/websocket"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

const secret = "dial tcp 10.1.2.3:8080: connect: connection refused"

func TestHandlerInterceptsErrorResponses(t *testing.T) {
	// app writes the status of its "status" query parameter, with the given
	// content type and body and a few headers of its own.
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("err") != "" {
			SetError(w, &gatewayerr.Error{Kind: gatewayerr.ConnectionTimeout, Err: errors.New(secret)})
		}
		h := w.Header()
		if q.Get("ps") != "" {
			h.Set("Proxy-Status", "upstream; error=connection_timeout")
		}
		h.Set("Retry-After", "30")
		h.Set("X-Request-Id", "abc")
		h.Set("Etag", `"v1"`)
		if ct := q.Get("ct"); ct != "" {
			h.Set("Content-Type", ct)
		}
		var status int
		fmt.Sscan(q.Get("status"), &status)
		w.WriteHeader(status)
		io.WriteString(w, q.Get("body"))
	})
	timeout := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithCancelCause(r.Context())
			cancel(&gatewayerr.Error{Kind: gatewayerr.HTTPResponseTimeout})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}

	tests := []struct {
		name       string
		opts       Options
		wrap       func(http.Handler) http.Handler
		method     string
		query      string
		wantStatus int
		wantPage   bool // the branded page replaced the body
		wantBody   string
	}{
		{name: "success untouched", query: "status=200&body=hello", wantStatus: 200, wantBody: "hello"},
		{name: "404 not intercepted by default", query: "status=404&body=nf", wantStatus: 404, wantBody: "nf"},
		{name: "500 not intercepted by default", query: "status=500&body=oops", wantStatus: 500, wantBody: "oops"},
		{name: "502 replaced", query: "status=502&body=" + secret, wantStatus: 502, wantPage: true},
		{name: "503 replaced", query: "status=503&body=" + secret, wantStatus: 503, wantPage: true},
		{name: "504 replaced", query: "status=504&body=" + secret, wantStatus: 504, wantPage: true},
		{name: "empty 502 replaced", query: "status=502", wantStatus: 502, wantPage: true},
		{name: "HEAD gets headers only", method: http.MethodHead, query: "status=502&body=" + secret, wantStatus: 502, wantPage: true},
		{name: "custom statuses", opts: Options{Intercept: []int{404, 200}}, query: "status=404&body=nf", wantStatus: 404, wantPage: true},
		{name: "custom statuses leave 502", opts: Options{Intercept: []int{404}}, query: "status=502&body=x", wantStatus: 502, wantBody: "x"},
		{name: "custom statuses ignore 200", opts: Options{Intercept: []int{404, 200}}, query: "status=200&body=ok", wantStatus: 200, wantBody: "ok"},
		{name: "empty list intercepts nothing", opts: Options{Intercept: []int{}}, query: "status=502&body=x", wantStatus: 502, wantBody: "x"},
		{name: "SetError decides the page", query: "status=502&err=1&body=x", wantStatus: 504, wantPage: true},
		{name: "Proxy-Status decides the page", query: "status=502&ps=1&body=x", wantStatus: 502, wantPage: true},
		{name: "context cause decides the page", wrap: timeout, query: "status=503&body=x", wantStatus: 504, wantPage: true},
		{
			name:  "HTML kept by default",
			query: "status=503&ct=text/html&body=<h1>Back soon</h1>", wantStatus: 503, wantBody: "<h1>Back soon</h1>",
		},
		{
			name: "unless HTML replaces JSON", opts: Options{Replace: ReplaceUnlessHTML},
			query: "status=503&ct=application/json&body={}", wantStatus: 503, wantPage: true,
		},
		{
			name: "empty HTML replaced", query: "status=503&ct=text/html", wantStatus: 503, wantPage: true,
		},
		{
			name: "always replaces HTML", opts: Options{Replace: ReplaceAlways},
			query: "status=503&ct=text/html&body=<h1>Back soon</h1>", wantStatus: 503, wantPage: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = Handler(tt.opts)(app)
			if tt.wrap != nil {
				h = tt.wrap(h)
			}
			url, c := serve(t, http1, h)
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			resp, body := do(t, c, method, url+"/?"+strings.ReplaceAll(tt.query, " ", "+"))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for _, k := range []string{"Retry-After", "X-Request-Id"} {
				if resp.Header.Get(k) == "" {
					t.Errorf("header %s was dropped", k)
				}
			}
			if !tt.wantPage {
				if body != tt.wantBody {
					t.Errorf("body = %q, want %q", body, tt.wantBody)
				}
				if got := resp.Header.Get("Etag"); got == "" {
					t.Error("Etag was dropped from a response that was not replaced")
				}
				return
			}
			if strings.Contains(body, "10.1.2.3") || strings.Contains(body, "refused") {
				t.Errorf("the page shows the replaced body or the cause:\n%s", body)
			}
			if method == http.MethodHead && body != "" {
				t.Errorf("HEAD response has a body: %q", body)
			}
			if method != http.MethodHead && body == "" {
				t.Error("the page is empty")
			}
			want := map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Etag": ""}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestHandlerRecoversPanicBeforeHeader(t *testing.T) {
	cause := errors.New("database is on fire")
	for _, tt := range []struct {
		name  string
		value any
	}{
		{"string", "boom: " + secret},
		{"error", fmt.Errorf("handler: %w", cause)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			var hk hook
			h := Handler(Options{Logger: logger, OnError: hk.onError})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadGateway) // held, never sent
				panic(tt.value)
			}))
			url, c := serve(t, http1, h)
			resp, body := do(t, c, http.MethodGet, url)
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", resp.StatusCode)
			}
			if strings.Contains(body, "boom") || strings.Contains(body, "fire") || strings.Contains(body, "goroutine") {
				t.Errorf("the page shows the panic:\n%s", body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want the page's no-store", got)
			}

			errs := hk.got()
			if len(errs) != 1 {
				t.Fatalf("hook called %d times, want 1", len(errs))
			}
			if !errors.Is(errs[0], gatewayerr.ProxyInternalError) {
				t.Errorf("hook got kind %v, want proxy_internal_error", errs[0].Kind)
			}
			var pe *PanicError
			if !errors.As(errs[0], &pe) {
				t.Fatalf("hook got %v, not a *PanicError", errs[0])
			}
			if pe.Value != tt.value {
				t.Errorf("PanicError.Value = %v, want %v", pe.Value, tt.value)
			}
			if err, ok := tt.value.(error); ok && !errors.Is(errs[0], cause) {
				t.Errorf("errors.Is(%v, cause) = false; want the panic's error in the chain (%v)", errs[0], err)
			}
			rs := records(t, logs)
			if len(rs) != 1 || rs[0].Level != "ERROR" || rs[0].ErrorType != "proxy_internal_error" {
				t.Fatalf("log records = %+v, want one ERROR of type proxy_internal_error", rs)
			}
			if !strings.Contains(rs[0].Stack, "TestHandlerRecoversPanicBeforeHeader") {
				t.Errorf("logged stack does not show the panicking function:\n%s", rs[0].Stack)
			}
		})
	}
}

func TestHandlerAbortsPanicAfterHeader(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			logger, logs := newLogger()
			var hk hook
			h := Handler(Options{Logger: logger, OnError: hk.onError})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				panic("late boom")
			}))
			url, c := serve(t, p, h)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want the 200 already sent", resp.StatusCode)
			}
			body, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Error("reading the aborted body succeeded; want an error")
			}
			if string(body) != "partial" {
				t.Errorf("body = %q, want only %q", body, "partial")
			}
			if errs := hk.got(); len(errs) != 1 || !errors.Is(errs[0], gatewayerr.ProxyInternalError) {
				t.Errorf("hook got %v, want one proxy_internal_error", errs)
			}
			if rs := records(t, logs); len(rs) != 1 || rs[0].Level != "ERROR" {
				t.Errorf("log records = %+v, want one ERROR", rs)
			}
		})
	}
}

func TestHandlerPassesErrAbortHandlerOn(t *testing.T) {
	cause := &gatewayerr.Error{Kind: gatewayerr.HTTPResponseIncomplete, Err: io.ErrUnexpectedEOF}
	for _, tt := range []struct {
		name      string
		cause     error
		wantLevel string
	}{
		{"cause unknown", nil, "DEBUG"},
		{"cause recorded", cause, "WARN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			var hk hook
			h := Handler(Options{Logger: logger, OnError: hk.onError})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "partial")
				if tt.cause != nil {
					SetError(w, tt.cause)
				}
				panic(http.ErrAbortHandler)
			}))
			var v any
			func() {
				defer func() { v = recover() }()
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			}()
			if v != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
			}
			rs := records(t, logs)
			if len(rs) != 1 || rs[0].Level != tt.wantLevel {
				t.Errorf("log records = %+v, want one at %s", rs, tt.wantLevel)
			}
			var want []*gatewayerr.Error
			if tt.cause != nil {
				want = []*gatewayerr.Error{cause}
			}
			if diff := cmp.Diff(want, hk.got(), cmp.Comparer(func(a, b *gatewayerr.Error) bool { return a == b })); diff != "" {
				t.Errorf("hook (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerSilentWithoutLogger(t *testing.T) {
	h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	url, c := serve(t, http1, h)
	if resp, _ := do(t, c, http.MethodGet, url); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	// serve fails the test if anything reached the server's log.
}

func TestHandlerNestedRendersOnce(t *testing.T) {
	var inner, outer hook
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := Handler(Options{OnError: outer.onError})(Handler(Options{OnError: inner.onError})(app))
	url, c := serve(t, http1, h)
	resp, body := do(t, c, http.MethodGet, url)
	if resp.StatusCode != http.StatusInternalServerError || body == "" {
		t.Errorf("got %d %q, want a 500 page", resp.StatusCode, body)
	}
	if len(inner.got()) != 1 || len(outer.got()) != 0 {
		t.Errorf("hooks called %d (inner) and %d (outer) times, want 1 and 0", len(inner.got()), len(outer.got()))
	}
}

// ifaceNames lists the optional interfaces of w.
func ifaceNames(w http.ResponseWriter) []string {
	var s []string
	if _, ok := w.(http.Flusher); ok {
		s = append(s, "Flusher")
	}
	if _, ok := w.(http.Hijacker); ok {
		s = append(s, "Hijacker")
	}
	if _, ok := w.(io.ReaderFrom); ok {
		s = append(s, "ReaderFrom")
	}
	if _, ok := w.(http.Pusher); ok {
		s = append(s, "Pusher")
	}
	if _, ok := w.(http.CloseNotifier); ok { //nolint:staticcheck // checking it is kept
		s = append(s, "CloseNotifier")
	}
	if _, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		s = append(s, "Unwrap")
	}
	return s
}

func TestHandlerKeepsInterfacesOverRealConnections(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			var raw, wrapped []string
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wrapped = ifaceNames(w) })
			mw := Handler(Options{})(app)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw = append(ifaceNames(w), "Unwrap")
				mw.ServeHTTP(w, r)
			})
			url, c := serve(t, p, h)
			resp, _ := do(t, c, http.MethodGet, url)
			if resp.ProtoMajor != map[proto]int{http1: 1, h2cProt: 2, h2TLS: 2}[p] {
				t.Errorf("served over %s", resp.Proto)
			}
			if diff := cmp.Diff(raw, wrapped); diff != "" {
				t.Errorf("interfaces (-net/http's +the wrapper's):\n%s", diff)
			}
		})
	}
}

func TestHandlerStreamsServerSentEvents(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			ack := make(chan struct{})
			h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				rc := http.NewResponseController(w)
				for i := range 3 {
					fmt.Fprintf(w, "data: %d\n\n", i)
					if err := rc.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
						return
					}
					// The client acknowledges each event before the next
					// is written: without a real flush, this deadlocks
					// until the request's deadline.
					select {
					case <-ack:
					case <-r.Context().Done():
						t.Errorf("event %d was not received", i)
						return
					}
				}
			}))
			url, c := serve(t, p, h)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for i := range 3 {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if want := fmt.Sprintf("data: %d\n", i); line != want {
					t.Fatalf("event %d = %q, want %q", i, line, want)
				}
				br.ReadString('\n')
				ack <- struct{}{}
			}
		})
	}
}

func TestHandlerUpgradesWebSocket(t *testing.T) {
	echo := websocket.Handler(func(ws *websocket.Conn) { io.Copy(ws, ws) })
	url, _ := serve(t, http1, Handler(Options{})(echo))
	cfg, err := websocket.NewConfig("ws"+strings.TrimPrefix(url, "http"), "http://127.0.0.1/")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, err := cfg.DialContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(10 * time.Second))
	for _, msg := range []string{"hello", "again"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Errorf("echo = %q, want %q", got, msg)
		}
	}
}

// readFromSpy counts the calls to ReadFrom of the net/http writer it wraps,
// which has Flusher, Hijacker, ReaderFrom and CloseNotifier (HTTP/1).
type readFromSpy struct {
	http.ResponseWriter
	calls *int
}

func (s readFromSpy) ReadFrom(src io.Reader) (int64, error) {
	*s.calls++
	return s.ResponseWriter.(io.ReaderFrom).ReadFrom(src)
}
func (s readFromSpy) Flush() { s.ResponseWriter.(http.Flusher).Flush() }
func (s readFromSpy) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return s.ResponseWriter.(http.Hijacker).Hijack()
}
func (s readFromSpy) CloseNotify() <-chan bool {
	return s.ResponseWriter.(http.CloseNotifier).CloseNotify() //nolint:staticcheck // forwarded
}

func TestHandlerServeFileUsesReadFrom(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	name := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(name, content, 0o600); err != nil {
		t.Fatal(err)
	}
	calls := 0
	mw := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, name)
	}))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw.ServeHTTP(readFromSpy{w, &calls}, r)
	})
	url, c := serve(t, http1, h)
	_, body := do(t, c, http.MethodGet, url)
	if body != string(content) {
		t.Errorf("body differs from the file (%d bytes, want %d)", len(body), len(content))
	}
	if calls != 1 {
		t.Errorf("net/http's ReadFrom was called %d times, want 1 (for sendfile)", calls)
	}
}

func TestHandlerResponseControllerDeadlines(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Errorf("SetReadDeadline: %v", err)
				}
				if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Errorf("SetWriteDeadline: %v", err)
				}
				io.WriteString(w, "ok")
			}))
			url, c := serve(t, p, h)
			if _, body := do(t, c, http.MethodGet, url); body != "ok" {
				t.Errorf("body = %q, want ok", body)
			}
		})
	}
	t.Run("past write deadline fails the flush", func(t *testing.T) {
		flushErr := make(chan error, 1)
		h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if err := rc.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
				t.Errorf("SetWriteDeadline: %v", err)
			}
			io.WriteString(w, "never sent")
			flushErr <- rc.Flush()
		}))
		url, c := serve(t, http1, h)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("the response arrived despite the past write deadline: %s", resp.Status)
		}
		if err := <-flushErr; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Flush = %v, want os.ErrDeadlineExceeded", err)
		}
	})
}

func TestHandlerFullDuplex(t *testing.T) {
	h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
			return
		}
		w.WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil { // the headers go before the body is read
			t.Errorf("Flush: %v", err)
			return
		}
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			fmt.Fprintf(w, "echo %s\n", sc.Text())
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
				return
			}
		}
	}))
	url, c := serve(t, http1, h)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i, msg := range []string{"one", "two", "three"} {
		// Each line is written only after the previous echo arrived.
		if _, err := io.WriteString(pw, msg+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading echo %d: %v", i, err)
		}
		if want := "echo " + msg + "\n"; line != want {
			t.Errorf("echo %d = %q, want %q", i, line, want)
		}
	}
	pw.Close()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the request body ended: %q, %v", rest, err)
	}
}

func TestHandlerPassesInformationalResponses(t *testing.T) {
	h := Handler(Options{Intercept: []int{502}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, secret)
	}))
	url, c := serve(t, http1, h)
	var got []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
		got = append(got, code)
		return nil
	}}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(t.Context(), trace), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if diff := cmp.Diff([]int{http.StatusEarlyHints}, got); diff != "" {
		t.Errorf("1xx responses (-want +got):\n%s", diff)
	}
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "10.1.2.3") {
		t.Errorf("final response %d %q, want the 502 page", resp.StatusCode, body)
	}
}

// discardWriter is a ResponseWriter with the interfaces of net/http's
// HTTP/1 writer that allocates nothing, so that benchmarks measure only the
// middleware.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}
func (d *discardWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("not a connection")
}
func (d *discardWriter) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }
func (d *discardWriter) CloseNotify() <-chan bool            { return nil }

func BenchmarkHandler(b *testing.B) {
	hello := []byte("hello, world")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write(hello)
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &discardWriter{h: http.Header{}}
	for _, bm := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", app},
		{"Handler", Handler(Options{})(app)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bm.h.ServeHTTP(w, req)
			}
		})
	}
	b.Run("Handler/parallel", func(b *testing.B) {
		h := Handler(Options{})(app)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				h.ServeHTTP(w, req)
			}
		})
	})
}

func TestHandlerSuccessPathAllocatesOnce(t *testing.T) {
	body := []byte("hello")
	src := strings.NewReader("")
	// app uses every method of the wrapper without allocating itself.
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = w.Header().Get("Content-Type")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		w.(http.Flusher).Flush()
		src.Reset("world")
		w.(io.ReaderFrom).ReadFrom(src)
		http.NewResponseController(w).Flush() // through FlushError
	})
	h := Handler(Options{})(app)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &discardWriter{h: http.Header{}}
	if bare := testing.AllocsPerRun(1000, func() { app.ServeHTTP(w, req) }); bare != 0 {
		t.Fatalf("the bare handler allocates %v times; the test is broken", bare)
	}
	// One allocation: the request's own respwriter.Writer, which is never
	// pooled so that a view used after Handler returned cannot reach
	// another request's response (TestHandlerWriterAfterReturn).
	if allocs := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) }); allocs != 1 {
		t.Errorf("Handler allocates %v times per request on the success path, want 1", allocs)
	}
}

func TestHandlerNeverWritesAfterHijackOrTwice(t *testing.T) {
	tests := []struct {
		name      string
		app       http.HandlerFunc
		wantBody  string
		wantPanic bool
	}{
		{
			name: "status after hijack",
			app: func(w http.ResponseWriter, r *http.Request) {
				conn, brw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
				brw.Flush()
				conn.Close()
				w.WriteHeader(http.StatusBadGateway)
				if _, err := w.Write([]byte("late")); !errors.Is(err, http.ErrHijacked) {
					t.Errorf("Write after Hijack = %v, want http.ErrHijacked", err)
				}
			},
			wantBody: "hi",
		},
		{
			name: "panic after hijack",
			app: func(w http.ResponseWriter, r *http.Request) {
				conn, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
				brw.Flush()
				conn.Close()
				panic("after hijack")
			},
			wantBody:  "hi",
			wantPanic: true, // reported after the client has its response
		},
		{
			name: "second status",
			app: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, "fine")
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantBody: "fine",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hk hook
			url, c := serve(t, http1, Handler(Options{OnError: hk.onError})(tt.app))
			resp, body := do(t, c, http.MethodGet, url)
			if resp.StatusCode != http.StatusOK || body != tt.wantBody {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, tt.wantBody)
			}
			if tt.wantPanic {
				select {
				case <-hk.wait():
				case <-time.After(10 * time.Second):
					t.Error("the panic was not reported")
				}
			} else if got := len(hk.got()); got != 0 {
				t.Errorf("hook called %d times", got)
			}
			// serve fails the test on any server log line, such as
			// "http: response.WriteHeader on hijacked connection" or
			// "http: superfluous response.WriteHeader call".
		})
	}
}

func TestOptionsIntercepted(t *testing.T) {
	tests := []struct {
		name      string
		intercept []int
		want      []int // of 100..999
	}{
		{"nil: gateway statuses", nil, []int{502, 503, 504}},
		{"empty: none", []int{}, nil},
		{"only 4xx and 5xx", []int{101, 200, 302, 404, 500, 599, 600, -1}, []int{404, 500, 599}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Intercept: tt.intercept}
			s := o.intercepted()
			var got []int
			for c := 100; c < 1000; c++ {
				if s.Has(c) {
					got = append(got, c)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("intercepted statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPanicError(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		value     any
		wantMsg   string
		wantCause error
	}{
		{"boom", "middleware: panic: boom", nil},
		{cause, "middleware: panic: cause", cause},
		{42, "middleware: panic: 42", nil},
	}
	for _, tt := range tests {
		e := &PanicError{Value: tt.value}
		if got := e.Error(); got != tt.wantMsg {
			t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
		}
		if got := e.Unwrap(); got != tt.wantCause {
			t.Errorf("Unwrap() = %v, want %v", got, tt.wantCause)
		}
	}
}

func TestHandlerAroundReverseProxy(t *testing.T) {
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/truncated":
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // hang up mid-body
			}
		case "/bad":
			w.Header().Set("Proxy-Status", "db; error=connection_refused")
			w.Header().Set("Retry-After", "5")
			http.Error(w, secret, http.StatusBadGateway)
		default:
			io.WriteString(w, "hello")
		}
	})
	upURL, _ := serve(t, http1, upstream)
	target, err := url.Parse(upURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // it reports the copy error itself
	rp.FlushInterval = -1                    // the visitor gets the partial body before the abort
	logger, logs := newLogger()
	var hk hook
	url, c := serve(t, http1, Handler(Options{Logger: logger, OnError: hk.onError})(rp))

	if resp, body := do(t, c, http.MethodGet, url+"/"); resp.StatusCode != 200 || body != "hello" {
		t.Errorf("/: got %d %q", resp.StatusCode, body)
	}

	resp, body := do(t, c, http.MethodGet, url+"/bad")
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "10.1.2.3") {
		t.Errorf("/bad: got %d %q, want the 502 page", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Retry-After"); got != "5" {
		t.Errorf("/bad: Retry-After = %q, want the upstream's 5", got)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/truncated", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || string(b) != "partial" {
		t.Errorf("/truncated: read %q, %v; want %q and an error", b, err, "partial")
	}
	if errs := hk.got(); len(errs) != 0 {
		t.Errorf("hook got %v; an abort with no recorded cause is not reported", errs)
	}
	for _, r := range records(t, logs) {
		if r.Level != "DEBUG" {
			t.Errorf("logged %+v; an abort is not an error", r)
		}
	}
}

// bodyQuotes reports whether a page's body quotes the request ID id.
func bodyQuotes(body, id string) bool { return id != "" && strings.Contains(body, id) }

func TestHandlerLogsThePageRequestID(t *testing.T) {
	tests := []struct {
		name     string
		reqID    string // the request's X-Request-ID, if any
		appID    string // the X-Request-Id the application sets on its response, if any
		late     bool   // panic after the status was sent: no page
		abort    bool   // panic with http.ErrAbortHandler
		cause    bool   // SetError before the panic
		noHook   bool   // OnError is not called
		wantID   string // "" for a generated one
		wantPage bool
	}{
		{name: "request's ID", reqID: "req-123", wantID: "req-123", wantPage: true},
		{name: "generated ID", wantPage: true},
		{name: "invalid ID replaced", reqID: "bad id<script>", wantPage: true},
		{name: "application's response ID", appID: "app.456", wantID: "app.456", wantPage: true},
		{name: "application's ID over request's", reqID: "req-789", appID: "app.456", wantID: "app.456", wantPage: true},
		{name: "aborted response", reqID: "req-abc", late: true, wantID: "req-abc"},
		{name: "aborted response generated ID", late: true},
		{name: "ErrAbortHandler with a cause", reqID: "req-def", late: true, abort: true, cause: true, wantID: "req-def"},
		{name: "ErrAbortHandler without a cause", reqID: "req-ghi", late: true, abort: true, wantID: "req-ghi", noHook: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			hookIDs := make(chan string, 1)
			onError := func(r *http.Request, err *gatewayerr.Error) { hookIDs <- r.Header.Get("X-Request-Id") }
			h := Handler(Options{Logger: logger, OnError: onError})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.appID != "" {
					w.Header().Set("X-Request-Id", tt.appID)
				}
				if tt.late {
					io.WriteString(w, "partial")
					w.(http.Flusher).Flush()
				}
				if tt.cause {
					SetError(w, &gatewayerr.Error{Kind: gatewayerr.HTTPResponseIncomplete, Err: io.ErrUnexpectedEOF})
				}
				if tt.abort {
					panic(http.ErrAbortHandler)
				}
				panic("boom")
			}))
			url, c := serve(t, http1, h)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if tt.reqID != "" {
				req.Header.Set("X-Request-ID", tt.reqID)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			rs := records(t, logs)
			if len(rs) != 1 {
				t.Fatalf("log records = %+v, want one", rs)
			}
			logged := rs[0].RequestID
			if logged == "" {
				t.Fatalf("the record %q has no request_id", rs[0].Msg)
			}
			if tt.wantID != "" && logged != tt.wantID {
				t.Errorf("request_id = %q, want %q", logged, tt.wantID)
			}
			if tt.reqID != "" && tt.wantID == "" && logged == tt.reqID {
				t.Errorf("request_id = %q, the invalid ID of the request", logged)
			}
			select {
			case got := <-hookIDs:
				if tt.noHook {
					t.Error("OnError was called")
				} else if got != logged {
					t.Errorf("OnError's request has X-Request-Id %q, want the logged %q", got, logged)
				}
			default:
				if !tt.noHook {
					t.Error("OnError was not called")
				}
			}
			if !tt.wantPage {
				return
			}
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", resp.StatusCode)
			}
			if got := resp.Header.Get("X-Request-Id"); got != logged {
				t.Errorf("response X-Request-Id = %q, want the logged %q", got, logged)
			}
			if !bodyQuotes(string(body), logged) {
				t.Errorf("the page does not quote the logged request_id %q:\n%s", logged, body)
			}
		})
	}
}

// TestHandlerFollowsPagesRequestIDHeader checks that with Pages reading
// their request ID from another header, the log, the hook, the response
// header of that name and the page agree on its ID.
func TestHandlerFollowsPagesRequestIDHeader(t *testing.T) {
	pages, err := errorpage.New(errorpage.Config{RequestIDHeader: "X-Correlation-ID"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		hdr    map[string]string // the request's headers
		app    map[string]string // the headers the application sets on its response
		wantID string            // "" for a generated one
	}{
		{name: "its header", hdr: map[string]string{"X-Correlation-ID": "corr-1", "X-Request-ID": "req-1"}, wantID: "corr-1"},
		{name: "X-Request-ID is not its header", hdr: map[string]string{"X-Request-ID": "req-2"}},
		{name: "invalid", hdr: map[string]string{"X-Correlation-ID": "bad id"}},
		{name: "application's response ID", hdr: map[string]string{"X-Correlation-ID": "corr-3"}, app: map[string]string{"X-Correlation-ID": "app-3"}, wantID: "app-3"},
		{name: "invalid application's response ID", app: map[string]string{"X-Correlation-ID": "app 4"}},
		{name: "application's X-Request-Id is not its header", hdr: map[string]string{"X-Correlation-ID": "corr-5"}, app: map[string]string{"X-Request-ID": "app-5"}, wantID: "corr-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			hookIDs := make(chan string, 1)
			onError := func(r *http.Request, err *gatewayerr.Error) { hookIDs <- r.Header.Get("X-Correlation-ID") }
			h := Handler(Options{Pages: pages, Logger: logger, OnError: onError})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.app {
					w.Header().Set(k, v)
				}
				panic("boom")
			}))
			url, c := serve(t, http1, h)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			rs := records(t, logs)
			if len(rs) != 1 {
				t.Fatalf("log records = %+v, want one", rs)
			}
			logged := rs[0].RequestID
			if !errorpage.ValidRequestID(logged) {
				t.Fatalf("request_id = %q, want a valid ID", logged)
			}
			if tt.wantID != "" && logged != tt.wantID {
				t.Errorf("request_id = %q, want %q", logged, tt.wantID)
			}
			for _, v := range tt.hdr {
				if tt.wantID == "" && logged == v {
					t.Errorf("request_id = %q, a header the Pages do not quote", logged)
				}
			}
			if got := <-hookIDs; got != logged {
				t.Errorf("OnError's request has X-Correlation-ID %q, want the logged %q", got, logged)
			}
			if got := resp.Header.Get("X-Correlation-ID"); got != logged {
				t.Errorf("response X-Correlation-ID = %q, want the logged %q", got, logged)
			}
			if got, want := resp.Header.Get("X-Request-Id"), tt.app["X-Request-ID"]; got != want {
				t.Errorf("response X-Request-Id = %q, want %q: not the Pages' field, left alone", got, want)
			}
			if !bodyQuotes(string(body), logged) {
				t.Errorf("the page does not quote the logged request_id %q:\n%s", logged, body)
			}
		})
	}
}

func TestHandlerInterceptedPageQuotesItsHeaderID(t *testing.T) {
	// The application sets its own response X-Request-Id, as a request-ID
	// middleware inside Handler would: the page quotes that one.
	h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "app-42")
		w.WriteHeader(http.StatusBadGateway)
	}))
	url, c := serve(t, http1, h)
	resp, body := do(t, c, http.MethodGet, url)
	if got := resp.Header.Get("X-Request-Id"); got != "app-42" {
		t.Errorf("X-Request-Id = %q, want app-42", got)
	}
	if !bodyQuotes(body, "app-42") {
		t.Errorf("the page does not quote app-42:\n%s", body)
	}
}

func TestHandlerFlushBeforeBodyGETAndHEADAgree(t *testing.T) {
	const leak = "dial tcp 10.1.2.3:5432: connection refused"
	tests := []struct {
		name     string
		ctBefore string // Content-Type set before WriteHeader
		ctAfter  string // Content-Type set after WriteHeader, before the flush
		body     string
		rc       bool // flush through http.ResponseController
		wantPage bool
	}{
		{name: "no type", body: leak, wantPage: true},
		{name: "no type, ResponseController", body: leak, rc: true, wantPage: true},
		{name: "text/plain after the status", ctAfter: "text/plain; charset=utf-8", body: leak, wantPage: true},
		{name: "text/plain", ctBefore: "text/plain; charset=utf-8", body: leak, wantPage: true},
		{name: "own HTML page streamed", ctBefore: "text/html; charset=utf-8", body: "<h1>Back soon</h1>"},
		{name: "own problem streamed", ctBefore: "application/problem+json", body: `{"title":"down"}`},
	}
	for _, p := range []proto{http1, h2TLS} {
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tt.ctBefore != "" {
						w.Header().Set("Content-Type", tt.ctBefore)
					}
					w.WriteHeader(http.StatusServiceUnavailable)
					if tt.ctAfter != "" {
						w.Header().Set("Content-Type", tt.ctAfter)
					}
					if tt.rc {
						if err := http.NewResponseController(w).Flush(); err != nil {
							t.Errorf("Flush: %v", err)
						}
					} else {
						w.(http.Flusher).Flush()
					}
					io.WriteString(w, tt.body)
				}))
				url, c := serve(t, p, h)
				get, body := do(t, c, http.MethodGet, url)
				head, _ := do(t, c, http.MethodHead, url)
				if get.StatusCode != http.StatusServiceUnavailable || head.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("status GET %d, HEAD %d; want 503 for both", get.StatusCode, head.StatusCode)
				}
				for _, k := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Vary", "Content-Security-Policy"} {
					if g, h := get.Header.Get(k), head.Header.Get(k); g != h {
						t.Errorf("%s: GET %q, HEAD %q", k, g, h)
					}
				}
				if strings.Contains(body, "10.1.2.3") {
					t.Errorf("GET shows the Go error text:\n%s", body)
				}
				isPage := get.Header.Get("Cache-Control") == "no-store"
				if isPage != tt.wantPage {
					t.Errorf("GET replaced = %v, want %v (body %q)", isPage, tt.wantPage, body)
				}
				if !tt.wantPage && body != tt.body {
					t.Errorf("GET body = %q, want %q", body, tt.body)
				}
			})
		}
	}
}

// varyTokens returns the tokens of every Vary line of h, in order.
func varyTokens(h http.Header) []string {
	var ts []string
	for _, v := range h.Values("Vary") {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

func TestHandlerMergesVary(t *testing.T) {
	tests := []struct {
		name  string
		vary  []string // the application's Vary lines
		panic bool
		want  []string
	}{
		{name: "none", want: []string{"Accept", "Accept-Language"}},
		{name: "kept and extended", vary: []string{"Origin, Accept-Encoding"}, want: []string{"Origin", "Accept-Encoding", "Accept", "Accept-Language"}},
		{name: "after a panic", vary: []string{"Origin"}, panic: true, want: []string{"Origin", "Accept", "Accept-Language"}},
		{name: "no duplicates", vary: []string{"accept-language", "Origin,accept"}, want: []string{"accept-language", "Origin", "accept"}},
		{name: "star", vary: []string{"*"}, want: []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, v := range tt.vary {
					w.Header().Add("Vary", v)
				}
				w.Header().Set("Access-Control-Allow-Origin", "https://app.example")
				if tt.panic {
					panic("boom")
				}
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusBadGateway)
				io.WriteString(w, secret)
			}))
			url, c := serve(t, http1, h)
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				resp, _ := do(t, c, method, url)
				if resp.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("%s: the response was not replaced", method)
				}
				if diff := cmp.Diff(tt.want, varyTokens(resp.Header)); diff != "" {
					t.Errorf("%s: Vary (-want +got):\n%s", method, diff)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
					t.Errorf("%s: Access-Control-Allow-Origin = %q, want it kept", method, got)
				}
			}
		})
	}
}
