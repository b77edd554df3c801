package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// Counting attempts, retries and replaced responses: an upstream that
// answers 503 once, then 200.
func ExampleAttempt() {
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer upstream.Close()

	target, _ := url.Parse(upstream.URL)
	gateway := httptest.NewServer(middleware.NewReverseProxy(target, middleware.Options{
		Retry: &middleware.RetryPolicy{BaseDelay: time.Millisecond},
		OnAttempt: func(a middleware.Attempt) {
			kind := "-"
			if a.Err != nil {
				kind = a.Err.Kind.String()
			}
			fmt.Printf("attempt %d: status %d, kind %s, retry %t\n", a.Number, a.Status, kind, a.Retry)
		},
		OnReplace: func(r *http.Request, err *gatewayerr.Error) {
			fmt.Printf("replaced a %d\n", err.ReceivedStatus)
		},
	}))
	defer gateway.Close()

	resp, err := http.Get(gateway.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// attempt 1: status 503, kind destination_unavailable, retry true
	// attempt 2: status 200, kind -, retry false
	// 200 OK
}

// A Handler reports the responses it replaces to OnReplace, apart from
// the panics it recovers (OnError).
func ExampleOptions_onReplace() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("a bug")
		}
		w.WriteHeader(http.StatusBadGateway) // a bare 502, replaced
	})
	h := middleware.Handler(middleware.Options{
		OnError: func(r *http.Request, err *gatewayerr.Error) {
			fmt.Println("failure:", err.Kind)
		},
		OnReplace: func(r *http.Request, err *gatewayerr.Error) {
			fmt.Println("replaced:", err.ReceivedStatus, err.Kind)
		},
	})(app)
	for _, path := range []string{"/bare", "/panic"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	// Output:
	// replaced: 502 unknown
	// failure: proxy_internal_error
}
