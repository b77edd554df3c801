package middleware

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestUpstreamsAllDownNamesNoHost: when every host of the pool is ejected,
// the failure that OnError, the log and the proxy's hooks get names no
// upstream: the target's host is a placeholder never dialled.
func TestUpstreamsAllDownNamesNoHost(t *testing.T) {
	t.Parallel()
	var log capturedLog
	var mu sync.Mutex
	var reported []*gatewayerr.Error
	gw := gateway(t, "http://svc.internal", Options{
		Transport: newDialCounter(t),
		Upstreams: []string{refusedAddr(t), refusedAddr(t)},
		Breaker:   &BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
		Logger:    log.logger(),
		OnError: func(r *http.Request, e *gatewayerr.Error) {
			mu.Lock()
			reported = append(reported, e)
			mu.Unlock()
		},
	})
	c := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()
	// The first request opens both breakers; the second finds none open.
	for range 2 {
		send(t, c, newRequest(t, http.MethodGet, gw.URL, nil))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 2 {
		t.Fatalf("%d failures reported, want 2", len(reported))
	}
	e := reported[1]
	if !errors.Is(e, ErrNoUpstream) || e.Upstream != "" || strings.Contains(e.Error(), "svc.internal") {
		t.Errorf("all-down failure %v with Upstream %q, want ErrNoUpstream naming no host", e, e.Upstream)
	}
	recs := log.records(t, "gatehouse: upstream failure")
	if len(recs) != 2 {
		t.Fatalf("%d failure records, want 2", len(recs))
	}
	if up := recs[1]["upstream"]; up != "" {
		t.Errorf("all-down record's upstream %q, want empty", up)
	}
	if k := recs[1]["kind"]; k != gatewayerr.DestinationUnavailable.String() {
		t.Errorf("all-down record's kind %v, want destination_unavailable", k)
	}
}
