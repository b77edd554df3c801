package middleware

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// BenchmarkErrorHandler measures NewReverseProxy's ErrorHandler alone, on
// the failures of a refused upstream and of an open breaker, against
// "constant": an ErrorHandler that copies the headers and body of the same
// page, rendered once, as benchmarks.ConstantPageFor does; the floor for
// any page. The request is the outgoing one ReverseProxy hands its
// ErrorHandler, X-Forwarded fields and Via included.
func BenchmarkErrorHandler(b *testing.B) {
	target, _ := url.Parse("http://127.0.0.1:1")
	rp := NewReverseProxy(target, Options{})
	refused := gatewayerr.Classify(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	open := &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: ErrCircuitOpen, RetryAfter: 30 * time.Second, Upstream: "127.0.0.1:1", NextHop: "127.0.0.1:1"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, bc := range []struct {
		name, accept string
		e            *gatewayerr.Error
	}{
		{"html", "", refused},
		{"html-accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", refused},
		{"text", "text/plain", refused},
		{"open", "", open},
	} {
		out := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/app/page?id=1", nil)
		out.Host = "127.0.0.1:1"
		out.Header.Set("X-Forwarded-For", "127.0.0.1")
		out.Header.Set("X-Forwarded-Host", "gateway.test")
		out.Header.Set("X-Forwarded-Proto", "http")
		out.Header.Set("User-Agent", "wrk")
		out.Header["Via"] = []string{"1.1 gatehouse-0a1b2c3d"}
		if bc.accept != "" {
			out.Header.Set("Accept", bc.accept)
		}
		err := &transportError{e: bc.e, elapsed: time.Millisecond}

		rec := httptest.NewRecorder()
		rp.ErrorHandler(rec, out, err)
		hdr, body := rec.Header(), rec.Body.Bytes()
		constant := func(w http.ResponseWriter, _ *http.Request, _ error) {
			h := w.Header()
			for k, v := range hdr {
				h[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body)
		}

		for _, impl := range []struct {
			name string
			eh   func(http.ResponseWriter, *http.Request, error)
		}{
			{"constant", constant},
			{"gatehouse", rp.ErrorHandler},
		} {
			b.Run(bc.name+"/"+impl.name, func(b *testing.B) {
				w := &discardWriter{h: make(http.Header, 16)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					impl.eh(w, out, err)
				}
			})
		}
	}
}
