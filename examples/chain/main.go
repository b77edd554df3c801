// Command chain shows [middleware.Handler] in a chain of ordinary net/http
// middleware around a std [http.ServeMux]: a request-ID middleware, an
// access log, then Gatehouse's Handler, then the application's routes.
//
//	go run ./examples/chain
//
// Handler recovers the application's panics and replaces its error
// responses (a 503 in plain text, a 502 from a failed dependency) with the
// branded page, while successful responses pass through untouched. Because
// it sits inside the access log, the log sees the status the visitor got
// (500 after a recovered panic). Because the request-ID middleware sits
// outside both, the log records and the error pages quote the same ID.
//
// Every piece is func(http.Handler) http.Handler, so the same chain works
// with any router that accepts such middleware (chi, gorilla/mux, ...).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/felixge/httpsnoop"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: chain\n\nServes middleware.Handler in a chain of ordinary middleware on 127.0.0.1:8080 (or a free port).\n")
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // 8080 is taken: any free port
	}
	if err != nil {
		logger.Error("listen", "error", err)
		os.Exit(1)
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("listening on %s\n\ntry:\n", base)
	for _, p := range []string{"/hello", "/panic", "/report", "/legacy"} {
		fmt.Printf("  curl -i %s%s\n", base, p)
	}

	srv := &http.Server{Handler: newHandler(logger), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "error", err)
		os.Exit(1)
	}
}

// newHandler builds the chain, outermost first: requestID, accessLog,
// middleware.Handler, the mux.
func newHandler(logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello; this response passes through every middleware untouched")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]int
		//lint:ignore SA5000 the nil map is the deliberate bug whose panic Handler recovers
		m["boom"]++ // a bug: assignment to a nil map panics
	})
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		// A dependency failed. SetError tells the page why, so the visitor
		// reads "the service refused the connection" rather than a
		// generic 502; the plain-text body below is never shown.
		err := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Err: errors.New("reports-db:5432: connection refused")}
		middleware.SetError(w, err)
		http.Error(w, err.Error(), http.StatusBadGateway)
	})
	mux.HandleFunc("GET /legacy", func(w http.ResponseWriter, r *http.Request) {
		// An old handler that answers 503 in plain text; Handler
		// replaces it with the branded maintenance page and keeps its
		// Retry-After.
		w.Header().Set("Retry-After", "300")
		http.Error(w, "legacy backend: maintenance window", http.StatusServiceUnavailable)
	})

	var h http.Handler = mux
	h = middleware.Handler(middleware.Options{Logger: logger})(h)
	h = accessLog(logger)(h)
	h = requestID(h)
	return h
}

// requestID gives every request an X-Request-ID, unless it has one, and
// returns it in the response. The error pages quote it (see
// errorpage.Config.RequestIDHeader), so a visitor can report it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" {
			id = rand.Text()[:16]
			r.Header.Set("X-Request-ID", id)
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r)
	})
}

// accessLog logs every request with the status the client got. It wraps
// the ResponseWriter with httpsnoop, which keeps http.Flusher,
// http.Hijacker and the other optional interfaces visible, as any wrapper
// in front of streaming or WebSocket handlers must.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m := httpsnoop.CaptureMetrics(next, w, r)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", m.Code),
				slog.Int64("bytes", m.Written),
				slog.Duration("duration", m.Duration),
				slog.String("request_id", r.Header.Get("X-Request-ID")),
			)
		})
	}
}
