package faulttest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// exampleTB is the little of testing.TB that examples need, since they have
// no *testing.T: the constructors call only Helper, Cleanup and Fatalf.
// Tests pass their t instead.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (t *exampleTB) Helper()                        {}
func (t *exampleTB) Cleanup(f func())               { t.cleanups = append(t.cleanups, f) }
func (t *exampleTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// done runs the cleanups, as the testing package does at a test's end.
func (t *exampleTB) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func get(tr http.RoundTripper, url string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// Example tests a gateway, here this module's middleware.NewReverseProxy,
// against the whole catalog: each fault must come back with a Proxy-Status
// field that names its kind, in the header or, for a body that broke after
// the header was sent, in the trailer. In a test, t is the test's
// *testing.T, and each fault gets its own t.Run.
func Example() {
	t := &exampleTB{}
	defer t.done()

	// No Accept-Encoding: the gateway's transport decompresses, so it sees bad_gzip.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	wrong := 0
	for _, f := range faulttest.All() {
		target := f.Start(t)
		gw := httptest.NewServer(middleware.NewReverseProxy(target.URL, middleware.Options{
			Transport:          target.Transport,
			ProxyStatusTrailer: true,
		}))
		t.Cleanup(gw.Close)
		resp, err := client.Get(gw.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body) // the trailer comes after the body
		resp.Body.Close()
		if got := reportedKind(resp); got != f.Kind {
			fmt.Printf("%s: the gateway reported %v, want %v\n", f.Name, got, f.Kind)
			wrong++
		}
	}
	fmt.Println("faults reported with another kind:", wrong)
	// Output: faults reported with another kind: 0
}

// reportedKind returns the kind that the Proxy-Status field of resp, read
// in full, names: in its trailer when it has one, else in its header.
func reportedKind(resp *http.Response) gatewayerr.Kind {
	h := resp.Header
	if resp.Trailer.Get("Proxy-Status") != "" {
		h = resp.Trailer
	}
	e := gatewayerr.ClassifyResponse(&http.Response{StatusCode: resp.StatusCode, Header: h})
	if e == nil {
		return gatewayerr.Unknown
	}
	return e.Kind
}

func ExampleResetBeforeHeaders() {
	t := &exampleTB{} // in a test: the test's t
	defer t.done()

	s := faulttest.ResetBeforeHeaders(t)
	_, err := get(s.Transport(), s.URL)

	var opErr *net.OpError
	fmt.Println(errors.As(err, &opErr), opErr.Op, errors.Is(err, syscall.ECONNRESET))
	fmt.Println("requests received:", s.Requests())
	// Output:
	// true read true
	// requests received: 1
}

func ExampleStatus() {
	t := &exampleTB{}
	defer t.done()

	s := faulttest.Status(t, http.StatusServiceUnavailable, http.Header{"Retry-After": {"120"}}, "maintenance")
	resp, err := get(s.Transport(), s.URL)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"))
	// Output: 503 120
}

func ExampleH2RSTStream() {
	t := &exampleTB{}
	defer t.done()

	s := faulttest.H2RSTStream(t, http2.ErrCodeInternal)
	_, err := get(s.Transport(), s.URL)
	var se http2.StreamError
	fmt.Println(errors.As(err, &se), se.Code)
	// Output: true INTERNAL_ERROR
}

func ExampleDNS() {
	t := &exampleTB{}
	defer t.done()

	d := faulttest.DNS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := d.Resolver().LookupHost(ctx, "api.nxdomain.test")
	var dnsErr *net.DNSError
	fmt.Println(errors.As(err, &dnsErr), dnsErr.IsNotFound)

	// A registered name reaches a fault server through the resolver.
	s := faulttest.Status(t, http.StatusGatewayTimeout, nil, "")
	resp, err := get(d.Transport(), d.URL(s, "upstream.test"))
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode)
	// Output:
	// true true
	// 504
}
