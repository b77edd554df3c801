package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// deadAddress returns a loopback address where nothing listens.
func deadAddress() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func ExampleNewReverseProxy() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from upstream, via %q", r.Header.Get("Via"))
	}))
	defer upstream.Close()

	target, _ := url.Parse(upstream.URL)
	gateway := httptest.NewServer(middleware.NewReverseProxy(target, middleware.Options{
		ProxyName: "edge",
	}))
	defer gateway.Close()

	resp, err := http.Get(gateway.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	// The upstream goes away: the visitor gets the branded page, the status
	// and Proxy-Status say exactly what failed.
	upstream.Close()
	resp, err = http.Get(gateway.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Proxy-Status"))
	// Output:
	// 200 hello from upstream, via "1.1 edge"
	// 502 edge;error=connection_refused
}

// NewReverseProxy replaces a client's X-Forwarded-For; behind a trusted load
// balancer, wrap its Rewrite to keep the chain.
func ExampleNewReverseProxy_keepXForwardedFor() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "X-Forwarded-For: %s", r.Header.Get("X-Forwarded-For"))
	}))
	defer upstream.Close()

	target, _ := url.Parse(upstream.URL)
	proxy := middleware.NewReverseProxy(target, middleware.Options{})
	rewrite := proxy.Rewrite
	proxy.Rewrite = func(pr *httputil.ProxyRequest) {
		rewrite(pr) // URL, X-Forwarded-*, Via and loop detection
		if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			pr.Out.Header.Set("X-Forwarded-For", strings.Join(prior, ", ")+", "+pr.Out.Header.Get("X-Forwarded-For"))
		}
	}
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()

	req, _ := http.NewRequest(http.MethodGet, gateway.URL, nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output:
	// X-Forwarded-For: 203.0.113.7, 127.0.0.1
}

func ExampleErrorHandler() {
	target, _ := url.Parse("http://" + deadAddress())
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		// An existing proxy keeps its transport; its failures are
		// classified and answered with the branded page.
		ErrorHandler: middleware.ErrorHandler(middleware.Options{}),
	}
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()

	resp, err := http.Get(gateway.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Proxy-Status"))
	fmt.Println(resp.Header.Get("Cache-Control"))
	// Output:
	// 502 gatehouse;error=connection_refused
	// no-store
}

func ExampleTransport() {
	client := &http.Client{
		Transport: &middleware.Transport{
			// A refused connection never reached the upstream: it is
			// retried, even for a POST.
			Retry: &middleware.RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond},
		},
	}
	defer client.CloseIdleConnections()

	_, err := client.Post("http://"+deadAddress()+"/orders", "text/plain", nil)

	var ge *gatewayerr.Error
	if errors.As(err, &ge) {
		fmt.Println(ge.Kind.String(), ge.StatusCode(), ge.Phase, ge.Attempts, ge.RequestSent())
	}
	fmt.Println(errors.Is(err, gatewayerr.ConnectionRefused))
	// Output:
	// connection_refused 502 dial 3 false
	// true
}

// NewGatewayTransport returns the transport that the zero Options send
// through, to adjust: here a stalled upstream gets its 504 page after
// 100 ms instead of 60 s, while the transport keeps its other defaults
// (128 idle connections per host among them).
func ExampleNewGatewayTransport() {
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer stalled.Close()

	tr := middleware.NewGatewayTransport()
	tr.ResponseHeaderTimeout = 100 * time.Millisecond
	defer tr.CloseIdleConnections()
	target, _ := url.Parse(stalled.URL)
	gateway := httptest.NewServer(middleware.NewReverseProxy(target, middleware.Options{Transport: tr}))
	defer gateway.Close()

	resp, err := http.Get(gateway.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Proxy-Status"))
	fmt.Println(tr.MaxIdleConnsPerHost)
	// Output:
	// 504 gatehouse;error=http_response_timeout
	// 128
}
