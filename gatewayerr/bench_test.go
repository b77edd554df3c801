package gatewayerr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// realError returns the error that a GET of s's URL through rt fails with.
func realError(b *testing.B, rt http.RoundTripper, url string, timeout time.Duration) error {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err == nil {
		resp.Body.Close()
		b.Fatalf("GET %s: %s, want an error", url, resp.Status)
	}
	return err
}

// BenchmarkClassify classifies one error of each family, most of them as
// real transports return them.
func BenchmarkClassify(b *testing.B) {
	refused := faulttest.Refused(b)
	stall := faulttest.StallHeaders(b)
	stallTr := stall.Transport()
	stallTr.ResponseHeaderTimeout = 50 * time.Millisecond
	cert := faulttest.TLSSelfSigned(b)
	alert := faulttest.TLSClientCertRequired(b)
	rst := faulttest.H2RSTStream(b, http2.ErrCodeInternal)
	goAway := faulttest.H2GoAway(b, http2.ErrCodeInternal)
	garbage := faulttest.GarbageStatus(b)
	dns := faulttest.DNS(b)

	families := []struct {
		name string
		err  error
	}{
		{"refused", realError(b, refused.Transport(), refused.URL, 5*time.Second)},
		{"dns_nxdomain", realError(b, dns.Transport(), "http://api.nxdomain.test/", 5*time.Second)},
		{"response_header_timeout", realError(b, stallTr, stall.URL, 5*time.Second)},
		{"deadline", fmt.Errorf("proxy: %w", context.DeadlineExceeded)},
		{"client_canceled", &netURLError{context.Canceled}},
		{"eof", io.EOF},
		{"reset_in_body", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}},
		{"tls_certificate", realError(b, cert.Transport(), cert.URL, 5*time.Second)},
		{"tls_alert", realError(b, alert.Transport(), alert.URL, 5*time.Second)},
		{"h2_rst_stream_bundled", realError(b, rst.Transport(), rst.URL, 5*time.Second)},
		{"h2_rst_stream_xnet", realError(b, xnetTransport(b, rst), rst.URL, 5*time.Second)},
		{"h2_goaway_bundled_text", realError(b, goAway.Transport(), goAway.URL, 5*time.Second)},
		{"malformed_response_text", realError(b, garbage.Transport(), garbage.URL, 5*time.Second)},
		{"joined", errors.Join(errors.New("a"), fmt.Errorf("b: %w", io.ErrUnexpectedEOF))},
		{"unknown", errors.New("something odd")},
		{"already_classified", gatewayerr.Classify(io.EOF)},
	}
	for _, f := range families {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if gatewayerr.Classify(f.err) == nil {
					b.Fatal("nil")
				}
			}
		})
	}
	b.Run("phase/reset_in_body", func(b *testing.B) {
		err := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
		b.ReportAllocs()
		for b.Loop() {
			if gatewayerr.ClassifyPhase(err, gatewayerr.PhaseReadBody) == nil {
				b.Fatal("nil")
			}
		}
	})
}

// netURLError stands for *url.Error without the URL parsing cost.
type netURLError struct{ err error }

func (e *netURLError) Error() string { return "Get \"http://backend/\": " + e.err.Error() }
func (e *netURLError) Unwrap() error { return e.err }

// BenchmarkProxyStatus formats and parses Proxy-Status members.
func BenchmarkProxyStatus(b *testing.B) {
	e := &gatewayerr.Error{
		Kind: gatewayerr.ConnectionRefused, Err: errors.New("dial tcp 10.0.0.7:8080: connect: connection refused"),
		NextHop: "10.0.0.7:8080", DNSInfoCode: -1, TLSAlertID: -1, Size: -1,
	}
	b.Run("format", func(b *testing.B) {
		p := e.ProxyStatus("gatehouse", false)
		b.ReportAllocs()
		for b.Loop() {
			_ = p.String()
		}
	})
	b.Run("format_details", func(b *testing.B) {
		p := e.ProxyStatus("gatehouse", true)
		b.ReportAllocs()
		for b.Loop() {
			_ = p.String()
		}
	})
	b.Run("append_to_chain", func(b *testing.B) {
		p := e.ProxyStatus("gatehouse", false)
		b.ReportAllocs()
		for b.Loop() {
			h := http.Header{"Proxy-Status": {`origin-lb;error=dns_error;rcode="NXDOMAIN"`}}
			gatewayerr.AppendProxyStatus(h, p)
		}
	})
	b.Run("parse", func(b *testing.B) {
		const v = `origin-lb;error=dns_error;rcode="NXDOMAIN";next-hop=db.internal, cdn;received-status=502`
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gatewayerr.ParseProxyStatus(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
