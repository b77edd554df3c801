package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a log destination safe for the server's goroutines.
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

func TestChain(t *testing.T) {
	var logs syncBuffer
	srv := httptest.NewServer(newHandler(slog.New(slog.NewTextHandler(&logs, nil))))
	defer srv.Close()

	tests := []struct {
		path       string
		status     int
		want       string // in the body
		notWant    string // never in the body
		retryAfter string
	}{
		{path: "/hello", status: 200, want: "passes through every middleware untouched"},
		{path: "/panic", status: 500, notWant: "nil map"},
		{path: "/report", status: 502, want: "refused the connection", notWant: "reports-db"},
		{path: "/legacy", status: 503, notWant: "maintenance window", retryAfter: "300"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			req.Header.Set("Accept", "text/html")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			body := string(b)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.want != "" && !strings.Contains(body, tt.want) {
				t.Errorf("body lacks %q:\n%s", tt.want, body)
			}
			if tt.notWant != "" && strings.Contains(body, tt.notWant) {
				t.Errorf("body shows %q:\n%s", tt.notWant, body)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			// The request ID set by the outermost middleware is in the
			// response, on error pages and in the access log.
			id := resp.Header.Get("X-Request-ID")
			if id == "" {
				t.Fatal("no X-Request-ID")
			}
			if tt.status >= 400 && !strings.Contains(body, id) {
				t.Errorf("error page does not quote request ID %q", id)
			}
			if !strings.Contains(logs.String(), "request_id="+id) {
				t.Errorf("access log has no record for request ID %q:\n%s", id, logs.String())
			}
		})
	}
	// The access log, outside Handler, saw the status the visitor got.
	if !strings.Contains(logs.String(), "path=/panic status=500") {
		t.Errorf("access log lacks the recovered panic's 500:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "nil map") {
		t.Errorf("the panic is not logged for operators:\n%s", logs.String())
	}
}
