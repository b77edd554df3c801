package faulttest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
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

func Example() {
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
	for _, tr := range []http.RoundTripper{s.Transport(), s.HTTP2Transport()} {
		_, err := get(tr, s.URL)
		var se http2.StreamError
		fmt.Println(errors.As(err, &se), se.Code)
	}
	// Output:
	// true INTERNAL_ERROR
	// true INTERNAL_ERROR
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
