// Command api is a JSON API gateway built with Gatehouse: every failure it
// answers itself, and every upstream 500, 502, 503 and 504 that is not
// already a structured document, becomes an RFC 9457 problem document
// (application/problem+json), with the failure's RFC 9209 type in the
// Proxy-Status header, whatever the client's Accept header says. An
// upstream's other statuses (a 404 of its own, say) pass through as the
// upstream wrote them.
//
//	go run ./examples/api
//
// It starts three small upstreams of its own and routes to them by path:
//
//	/v1/users/    a healthy service
//	/v1/orders/   a service with its own errors: a problem document of its own
//	              (passed through untouched), a plain-text stack trace and an
//	              HTML error page (both replaced: clients never see them)
//	/v1/payments/ a service that is down; after 5 failures in a row its
//	              circuit breaker opens and the gateway answers 503 at once,
//	              with Retry-After, without trying
//
// Try, with curl -i: /v1/users/42, /v1/orders/conflict, /v1/orders/crash and
// /v1/payments/7 (six times).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: api\n\nServes a JSON API gateway in front of three embedded upstreams on 127.0.0.1:8080 (or a free port).\n")
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, logger, os.Stdout); err != nil {
		logger.Error("api gateway", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, stdout io.Writer) error {
	ups, err := startUpstreams()
	if err != nil {
		return err
	}
	defer ups.Close()
	gateway, err := newGateway(ups, logger)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // 8080 is taken: any free port
	}
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "listening on %s\n\ntry:\n", base)
	for _, p := range []string{"/v1/users/42", "/v1/orders/conflict", "/v1/orders/crash", "/v1/payments/7"} {
		fmt.Fprintf(stdout, "  curl -i %s%s\n", base, p)
	}

	srv := &http.Server{Handler: gateway, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// upstreams are the base URLs of the services behind the gateway.
type upstreams struct {
	Users, Orders, Payments string
	servers                 []*http.Server
}

// newGateway routes /v1/{users,orders,payments}/ to their upstreams.
func newGateway(ups *upstreams, logger *slog.Logger) (http.Handler, error) {
	pages, err := errorpage.New(errorpage.Config{
		Brand: errorpage.Brand{Name: "Example API"},
		// Each problem's "type" is this base plus the failure's kind,
		// such as https://api.example.com/problems/connection_refused:
		// a place to document what a client should do about it.
		ProblemTypeBase: "https://api.example.com/problems/",
	})
	if err != nil {
		return nil, err
	}
	opts := middleware.Options{
		Pages:  pages,
		Logger: logger,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			ResponseHeaderTimeout: 5 * time.Second,
		},
		// Safe retries: only requests that never reached the upstream, or
		// idempotent ones, within a budget (see middleware.RetryPolicy).
		Retry: &middleware.RetryPolicy{Attempts: 2},
		// One circuit breaker per upstream host: after 5 failures in a
		// row, fail fast for 10 seconds.
		Breaker: &middleware.BreakerPolicy{OpenFor: 10 * time.Second},
		// Replace upstream 500s too, not only 502, 503 and 504: a stack
		// trace in text/plain never reaches a client.
		Intercept: []int{500, 502, 503, 504},
		// An API answers JSON, never HTML: replace an upstream's HTML
		// error page as well as a bare or plain-text one (the default
		// lets HTML through). An upstream's own JSON error, such as a
		// problem document, still passes through untouched.
		Replace: middleware.ReplaceUnlessStructured,
	}

	mux := http.NewServeMux()
	for prefix, target := range map[string]string{
		"/v1/users/":    ups.Users,
		"/v1/orders/":   ups.Orders,
		"/v1/payments/": ups.Payments,
	} {
		u, err := url.Parse(target)
		if err != nil {
			return nil, err
		}
		proxy := middleware.NewReverseProxy(u, opts)
		proxy.ErrorHandler = problemsOnly(proxy.ErrorHandler)
		mux.Handle(prefix, proxy)
	}
	// Anything else is a 404 problem, not an HTML page.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		pages.ServeStatus(w, problemRequest(r), http.StatusNotFound)
	})
	return mux, nil
}

// problemsOnly makes an ErrorHandler answer every client with a problem
// document: an API never serves HTML, even to a client that sent no Accept
// header or "Accept: */*", which would otherwise get the HTML page.
func problemsOnly(next func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		next(w, problemRequest(r), err)
	}
}

// problemRequest returns a shallow copy of r that asks for a problem
// document; r itself, which may be on its way upstream, is not changed.
func problemRequest(r *http.Request) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	r2.Header.Set("Accept", "application/problem+json")
	return r2
}

// startUpstreams starts the example's services on free local ports.
func startUpstreams() (*upstreams, error) {
	ups := new(upstreams)
	serve := func(h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		ups.servers = append(ups.servers, srv)
		go srv.Serve(ln)
		return "http://" + ln.Addr().String(), nil
	}

	users := http.NewServeMux()
	users.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"id\": %q, \"name\": \"Ada\"}\n", r.PathValue("id"))
	})

	orders := http.NewServeMux()
	orders.HandleFunc("/v1/orders/conflict", func(w http.ResponseWriter, r *http.Request) {
		// The upstream's own, designed error: it reaches the client as is.
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"type":"https://api.example.com/problems/order-locked","title":"Order is being edited","status":409}`+"\n")
	})
	orders.HandleFunc("/v1/orders/crash", func(w http.ResponseWriter, r *http.Request) {
		// An upstream bug: the gateway replaces this with a problem
		// document, so clients never see the stack trace.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "panic: runtime error: invalid memory address or nil pointer dereference\n\ngoroutine 42 [running]:\nmain.loadOrder(...)\n\t/srv/orders/db.go:113\n")
	})

	orders.HandleFunc("/v1/orders/html", func(w http.ResponseWriter, r *http.Request) {
		// A framework's HTML error page: meant for browsers, not for
		// API clients; the gateway replaces it.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<!doctype html><title>502</title><h1>Bad Gateway</h1><p>nginx</p>\n")
	})

	var err error
	if ups.Users, err = serve(users); err != nil {
		ups.Close()
		return nil, err
	}
	if ups.Orders, err = serve(orders); err != nil {
		ups.Close()
		return nil, err
	}
	// Payments is down: a port on which nothing listens any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ups.Close()
		return nil, err
	}
	ups.Payments = "http://" + ln.Addr().String()
	ln.Close()
	return ups, nil
}

// Close stops the upstreams.
func (u *upstreams) Close() {
	for _, s := range u.servers {
		s.Close()
	}
}
