package middleware

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestReplacedStatusReported: an upstream's 4xx that NewReverseProxy
// replaces with a page keeps its status for the visitor, and OnError,
// OnReplace and the log report that status, not a 502.
func TestReplacedStatusReported(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound) // bare: replaced
	}))
	t.Cleanup(up.Close)
	target, _ := url.Parse(up.URL)
	var (
		mu     sync.Mutex
		got    []int
		logBuf bytes.Buffer
	)
	record := func(_ *http.Request, e *gatewayerr.Error) {
		mu.Lock()
		got = append(got, e.StatusCode())
		mu.Unlock()
	}
	proxy := NewReverseProxy(target, Options{
		Intercept: []int{http.StatusNotFound},
		OnError:   record,
		OnReplace: record,
		Logger:    slog.New(slog.NewTextHandler(&logBuf, nil)),
	})
	gw := httptest.NewServer(proxy)
	t.Cleanup(gw.Close)
	resp, err := gw.Client().Get(gw.URL + "/missing")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("visitor got %d, want 404", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != http.StatusNotFound || got[1] != http.StatusNotFound {
		t.Errorf("OnError and OnReplace saw StatusCode() %v, want [404 404]", got)
	}
	if log := logBuf.String(); !strings.Contains(log, " status=404 ") {
		t.Errorf("log %q does not give the status the visitor got, 404", log)
	}
}
