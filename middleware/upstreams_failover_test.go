package middleware

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
