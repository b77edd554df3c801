package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// get fetches url and prints the status, the Cache-Control header and
// whether the body mentions s.
func get(url, s string) {
	resp, err := http.Get(url)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d cache-control=%q mentions %q: %v\n",
		resp.StatusCode, resp.Header.Get("Cache-Control"), s, strings.Contains(string(body), s))
}

// Handler wraps a whole http.ServeMux: panics become the branded 500 page
// and the 502, 503 and 504 responses of every route are replaced by the
// branded page, while other responses pass untouched.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic("nil map in the billing code")
	})
	mux.HandleFunc("GET /upstream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "dial tcp 10.0.0.7:5432: connection refused", http.StatusServiceUnavailable)
	})

	srv := httptest.NewServer(middleware.Handler(middleware.Options{})(mux))
	defer srv.Close()

	get(srv.URL+"/hello", "hello")
	get(srv.URL+"/panic", "billing")
	get(srv.URL+"/upstream", "10.0.0.7")
	// Output:
	// 200 cache-control="" mentions "hello": true
	// 500 cache-control="no-store" mentions "billing": false
	// 503 cache-control="no-store" mentions "10.0.0.7": false
}

// Handler is a func(http.Handler) http.Handler, so it composes with other
// middleware of that shape, as in a chi or alice chain.
func ExampleHandler_chain() {
	// chain applies middleware in order, the first outermost, like
	// alice.New(m...).Then(h).
	chain := func(h http.Handler, m ...func(http.Handler) http.Handler) http.Handler {
		for i := len(m) - 1; i >= 0; i-- {
			h = m[i](h)
		}
		return h
	}
	securityHeaders := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000")
			next.ServeHTTP(w, r)
		})
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("unreachable state")
	})

	var reported []string
	gatehouse := middleware.Handler(middleware.Options{
		OnError: func(r *http.Request, err *gatewayerr.Error) {
			reported = append(reported, err.Kind.String())
		},
	})
	srv := httptest.NewServer(chain(app, securityHeaders, gatehouse))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	fmt.Println(reported)
	// Output:
	// 500 max-age=63072000
	// [proxy_internal_error]
}

// A handler that knows why it fails records the error with SetError before
// writing the status; the page then reports that error (here a timeout, so
// a 504) instead of the bare status.
func ExampleSetError() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := errors.New("inventory service: no answer in 2s")
		middleware.SetError(w, &gatewayerr.Error{Kind: gatewayerr.HTTPResponseTimeout, Err: err})
		w.WriteHeader(http.StatusBadGateway)
	})
	srv := httptest.NewServer(middleware.Handler(middleware.Options{})(app))
	defer srv.Close()

	get(srv.URL, "inventory")
	// Output:
	// 504 cache-control="no-store" mentions "inventory": false
}
