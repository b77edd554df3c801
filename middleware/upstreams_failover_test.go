package middleware

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// TestUpstreamsMovePastBadCertificate: a replica whose certificate does
// not verify was never reached, so a request, a POST included and without
// Retry, moves past it to a good replica, as Transport.Upstreams says.
func TestUpstreamsMovePastBadCertificate(t *testing.T) {
	t.Parallel()
	good := faulttest.TLS(t)
	bad := faulttest.TLSSelfSigned(t)
	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: good.RootCAs}}
	t.Cleanup(base.CloseIdleConnections)
	tr := &Transport{Base: base, Upstreams: []string{bad.Addr, good.Addr}}
	for i := range 20 {
		method := http.MethodGet
		var body io.Reader
		if i%2 == 1 {
			method, body = http.MethodPost, strings.NewReader("order")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req := newRequest(t, method, "https://pool.test/", body).WithContext(ctx)
		req.GetBody = nil // as in a ReverseProxy: the body is read once
		resp, err := tr.RoundTrip(req)
		if err != nil {
			cancel()
			t.Fatalf("%s %d: %v, want the good replica's answer", method, i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK || string(b) != "ok" {
			t.Fatalf("%s %d: %d %q, want 200 \"ok\"", method, i, resp.StatusCode, b)
		}
	}
}

// TestBreakerCountsTruncatedBodies: an upstream that sends its headers and
// then cuts every body short fails every request; its breaker counts each
// as one failure (not a success at the headers, then a failure) and opens,
// with one host as with a pool of them.
func TestBreakerCountsTruncatedBodies(t *testing.T) {
	t.Parallel()
	for _, pool := range []bool{false, true} {
		name := "one host"
		if pool {
			name = "pool"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := faulttest.ShortBody(t)
			tr := &Transport{Base: newDialCounter(t), Breaker: &BreakerPolicy{ConsecutiveFailures: 3, OpenFor: time.Minute}}
			target := "http://" + a.Addr + "/"
			if pool {
				b := faulttest.ShortBody(t)
				tr.Upstreams = []string{a.Addr, b.Addr}
				target = "http://pool.test/"
			}
			var fast error
			for range 10 {
				resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, target, nil))
				if err != nil {
					fast = err
					break
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				wantError(t, err, gatewayerr.HTTPResponseIncomplete)
			}
			if fast == nil {
				t.Fatalf("10 truncated bodies in a row, and the breaker still lets requests through")
			}
			wantError(t, fast, gatewayerr.DestinationUnavailable)
		})
	}
}
