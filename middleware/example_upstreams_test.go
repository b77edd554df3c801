package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// Three replicas behind one gateway: one down, one that resets every
// connection, one healthy. Every visitor gets the healthy replica's answer;
// each failed attempt is reported with the host it went to.
func ExampleNewReverseProxy_upstreams() {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from a healthy replica")
	}))
	defer healthy.Close()
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler) // the connection is closed without an answer
	}))
	defer flaky.Close()

	hosts := []string{deadAddress(), flaky.Listener.Addr().String(), healthy.Listener.Addr().String()}
	var mu sync.Mutex
	failed := map[string]bool{} // kinds of the failed attempts
	target, _ := url.Parse("http://replicas.internal")
	proxy := middleware.NewReverseProxy(target, middleware.Options{
		Upstreams: hosts,
		Retry:     &middleware.RetryPolicy{},
		OnAttempt: func(a middleware.Attempt) {
			if a.Err != nil {
				mu.Lock()
				failed[a.Err.Kind.String()] = true
				mu.Unlock()
			}
		},
	})
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()

	ok := 0
	for range 30 {
		resp, err := http.Get(gateway.URL)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.HasPrefix(string(body), "hello") {
			ok++
		}
	}
	fmt.Println(ok, "of 30 answered")
	mu.Lock()
	fmt.Println("refused:", failed["connection_refused"], "terminated:", failed["connection_terminated"])
	mu.Unlock()
	// Output:
	// 30 of 30 answered
	// refused: true terminated: true
}

// With every replica down, the gateway answers at once with a 503 and the
// time until the first may be tried again, without dialling.
func ExampleNewReverseProxy_upstreamsAllDown() {
	target, _ := url.Parse("http://replicas.internal")
	proxy := middleware.NewReverseProxy(target, middleware.Options{
		Upstreams: []string{deadAddress(), deadAddress()},
		Breaker:   &middleware.BreakerPolicy{ConsecutiveFailures: 1, OpenFor: 30 * time.Second},
	})
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()

	for range 2 {
		resp, err := http.Get(gateway.URL)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Proxy-Status"), resp.Header.Get("Retry-After") != "")
	}
	// Output:
	// 502 gatehouse;error=connection_refused false
	// 503 gatehouse;error=destination_unavailable true
}

// The set of upstreams changes at run time, from service discovery or a
// deploy: the hosts that stay keep their breakers and budgets.
func ExampleTransport_SetUpstreams() {
	blue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "blue")
	}))
	defer blue.Close()
	green := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "green")
	}))
	defer green.Close()

	target, _ := url.Parse("http://app.internal")
	proxy := middleware.NewReverseProxy(target, middleware.Options{
		Upstreams: []string{blue.Listener.Addr().String()},
	})
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()
	get := func() string {
		resp, err := http.Get(gateway.URL)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	fmt.Println(get())
	if err := middleware.ProxyTransport(proxy).SetUpstreams([]string{green.Listener.Addr().String()}); err != nil {
		panic(err)
	}
	fmt.Println(get())
	// Output:
	// blue
	// green
}

// Active health checks take a replica out before requests fail on it, and
// bring it back gradually once it passes again. The checks run from the
// first request until Close.
func ExampleHealthCheck() {
	replica := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok")
			return
		}
		io.WriteString(w, "hello")
	}))
	defer replica.Close()

	target, _ := url.Parse("http://app.internal")
	proxy := middleware.NewReverseProxy(target, middleware.Options{
		Upstreams: []string{replica.Listener.Addr().String()},
		HealthCheck: &middleware.HealthCheck{
			Path:     "/healthz",
			Interval: 5 * time.Second,
		},
	})
	defer middleware.ProxyTransport(proxy).Close() // stops the checks
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()

	resp, err := http.Get(gateway.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200
}
