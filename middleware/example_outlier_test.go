package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// A replica with a bug answers every request with a 500, which its breaker
// counts as an answer: after 3 of them in a row it is ejected for a
// minute, and the other replica takes every request meanwhile.
func ExampleOutlierPolicy() {
	buggy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error", http.StatusInternalServerError)
	}))
	defer buggy.Close()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer healthy.Close()

	target, _ := url.Parse("http://replicas.internal")
	proxy := middleware.NewReverseProxy(target, middleware.Options{
		Upstreams: []string{buggy.Listener.Addr().String(), healthy.Listener.Addr().String()},
		Outlier:   &middleware.OutlierPolicy{Consecutive5xx: 3, BaseEjection: time.Minute},
	})
	gateway := httptest.NewServer(proxy)
	defer gateway.Close()

	statuses := map[int]int{}
	for range 40 {
		resp, err := http.Get(gateway.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	fmt.Println(statuses[http.StatusInternalServerError], "answered 500,", statuses[http.StatusOK], "answered 200")
	// Output: 3 answered 500, 37 answered 200
}
