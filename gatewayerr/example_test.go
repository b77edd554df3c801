package gatewayerr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// closedPort returns a loopback address where nothing listens.
func closedPort() string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func ExampleClassify() {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	_, err := client.Get("http://" + closedPort() + "/")

	e := gatewayerr.Classify(err)
	fmt.Println(e.Kind, e.StatusCode(), e.Phase)
	fmt.Println("may have reached the upstream:", e.RequestSent())
	// Output:
	// connection_refused 502 dial
	// may have reached the upstream: false
}

func ExampleClassifyPhase() {
	// The same value means different things in different phases.
	fmt.Println(gatewayerr.Classify(io.EOF).Kind)
	fmt.Println(gatewayerr.ClassifyPhase(io.EOF, gatewayerr.PhaseTLS).Kind)
	fmt.Println(gatewayerr.ClassifyPhase(io.EOF, gatewayerr.PhaseReadBody).Kind)

	// A deadline the gateway set, and a visitor who went away.
	fmt.Println(gatewayerr.ClassifyPhase(context.DeadlineExceeded, gatewayerr.PhaseAwaitHeaders).StatusCode())
	fmt.Println(gatewayerr.Classify(fmt.Errorf("proxy: %w", context.Canceled)).StatusCode())
	// Output:
	// connection_terminated
	// tls_protocol_error
	// http_response_incomplete
	// 504
	// 499
}

func ExampleKind_errorsIs() {
	_, err := http.Get("http://" + closedPort() + "/")
	err = fmt.Errorf("fetching the catalogue: %w", gatewayerr.Classify(err))

	switch {
	case errors.Is(err, gatewayerr.ConnectionRefused):
		fmt.Println("the upstream is not listening")
	case errors.Is(err, gatewayerr.ConnectionTimeout):
		fmt.Println("the upstream is slow to accept")
	}
	// Output: the upstream is not listening
}

func ExampleClassifyResponse() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Proxy-Status", `origin-lb;error=connection_refused`)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer upstream.Close()

	resp, err := http.Get(upstream.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	e := gatewayerr.ClassifyResponse(resp)
	fmt.Println(e.Kind, e.StatusCode(), e.RetryAfter)
	fmt.Println(e.Chain[0].Proxy)
	// Output:
	// connection_refused 503 2m0s
	// origin-lb
}

func ExampleParseProxyStatus() {
	members, err := gatewayerr.ParseProxyStatus(
		`origin-lb; error=dns_error; rcode="NXDOMAIN", cdn; received-status=502; x-trace=abc`)
	if err != nil {
		panic(err)
	}
	for _, m := range members {
		fmt.Printf("%s error=%q kind=%v received-status=%d params=%v\n",
			m.Proxy, m.Error, m.Kind, m.ReceivedStatus, m.Params)
	}

	_, err = gatewayerr.ParseProxyStatus(`cdn; error="dns_error"`)
	fmt.Println(errors.Is(err, gatewayerr.ErrInvalidProxyStatus))
	fmt.Println(err)
	// Output:
	// origin-lb error="dns_error" kind=dns_error received-status=0 params=[{rcode NXDOMAIN}]
	// cdn error="" kind=unknown received-status=502 params=[{x-trace abc}]
	// true
	// gatewayerr: invalid Proxy-Status: member 1: "cdn": error parameter is a string, want a token
}

func ExampleError_ProxyStatus() {
	e := gatewayerr.ClassifyPhase(
		&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")},
		gatewayerr.PhaseReadBody)
	e.NextHop = "10.0.0.7:8080"

	// Production: the kind only.
	fmt.Println(e.ProxyStatus("gatehouse", false))
	// Debugging: next-hop and details too.
	fmt.Println(e.ProxyStatus("gatehouse", true))

	// Appending to what the upstream's response already carried.
	h := http.Header{"Proxy-Status": {"origin;received-status=200"}}
	gatewayerr.AppendProxyStatus(h, e.ProxyStatus("gatehouse", false))
	fmt.Println(h.Get("Proxy-Status"))
	// Output:
	// gatehouse;error=http_response_incomplete
	// gatehouse;error=http_response_incomplete;next-hop="10.0.0.7:8080";details="read tcp: connection reset by peer"
	// origin;received-status=200, gatehouse;error=http_response_incomplete
}

// ParseRetryAfter reads both forms of Retry-After; a caller caps the wait
// it accepts, and a value too large to hold exceeds any cap.
func ExampleParseRetryAfter() {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Mon, 23 Nov 2026 12:00:30 GMT", "99999999999999999999", "soon"} {
		d, ok := gatewayerr.ParseRetryAfter(v, now)
		fmt.Printf("%q: %v, over an hour: %v\n", v, ok, d > gatewayerr.MaxRetryAfter)
		if ok && d <= gatewayerr.MaxRetryAfter {
			fmt.Println("  wait", d)
		}
	}
	// Output:
	// "120": true, over an hour: false
	//   wait 2m0s
	// "Mon, 23 Nov 2026 12:00:30 GMT": true, over an hour: false
	//   wait 30s
	// "99999999999999999999": true, over an hour: true
	// "soon": false, over an hour: false
}

// An upstream's Proxy-Status members, as a visitor may see them without
// details: addresses, next hops and error text are gone.
func ExampleProxyStatus_Redacted() {
	members, _ := gatewayerr.ParseProxyStatus(`"10.0.0.5:8443";error=connection_refused;next-hop=db, cdn;received-status=502;details="dial tcp 10.0.0.5"`)
	for _, m := range members {
		fmt.Println(m.Redacted())
	}
	// Output:
	// upstream-proxy;error=connection_refused
	// cdn;received-status=502
}
