// Command e2eserver is one of the servers that benchmarks/e2e/run.sh puts
// under load with wrk:
//
//	e2eserver -mode upstream       -listen ADDR             a 200 with a small HTML page (-size bytes)
//	e2eserver -mode plain          -listen ADDR -target URL an httputil.ReverseProxy over a tuned transport
//	e2eserver -mode plain-default  -listen ADDR -target URL httputil.NewSingleHostReverseProxy, nothing else set
//	                                                        (http.DefaultTransport, no BufferPool)
//	e2eserver -mode plain-page     -listen ADDR -target URL the tuned plain proxy whose ErrorHandler writes a
//	                                                        constant copy of Gatehouse's 502 page (-page html|text)
//	e2eserver -mode gatehouse      -listen ADDR -target URL middleware.NewReverseProxy over the tuned transport
//	e2eserver -mode gatehouse-zero -listen ADDR -target URL middleware.NewReverseProxy(target, Options{}):
//	                                                        the README's quick start, every default
//
// The tuned transport keeps enough idle connections per host for the load
// (http.DefaultTransport keeps only 2). Nothing is logged unless -log is
// given: then the plain proxies log each failure to standard error as an
// httputil.ReverseProxy does by default, and Gatehouse logs its structured
// record there through a slog.TextHandler. -breaker gives Gatehouse a
// circuit breaker per upstream (the breaker-open path, to a dead target).
// -via makes a plain proxy add a Via entry to each request it forwards, as
// NewReverseProxy does.
// plain-page (benchmarks.ConstantPageFor) is the floor for any branded page:
// the cost of sending the bytes of Gatehouse's page, with nothing computed
// per request.
// With -cpuprofile FILE, the server writes a CPU profile when it receives
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/benchmarks"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func main() {
	mode := flag.String("mode", "upstream", "upstream, plain, plain-default, plain-page, gatehouse or gatehouse-zero")
	listen := flag.String("listen", "127.0.0.1:18080", "address to listen on")
	target := flag.String("target", "", "upstream URL, for the proxies")
	size := flag.Int("size", 1024, "the upstream's body size in bytes")
	page := flag.String("page", "html", "plain-page: the constant page's format, html or text")
	breaker := flag.Bool("breaker", false, "gatehouse: a circuit breaker per upstream")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file on SIGINT or SIGTERM")
	logErrors := flag.Bool("log", false, "log each proxy failure to standard error")
	via := flag.Bool("via", false, "plain: add a Via entry to each forwarded request, as NewReverseProxy does")
	flag.Parse()

	var h http.Handler
	switch *mode {
	case "upstream":
		body := upstreamBody(*size)
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(body) //nolint:errcheck // the client may be gone
		})
	case "plain", "plain-default", "plain-page", "gatehouse", "gatehouse-zero":
		u, err := url.Parse(*target)
		if err != nil || u.Host == "" {
			log.Fatalf("e2eserver: -target %q: want an absolute URL", *target)
		}
		tr := &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
		}
		switch *mode {
		case "plain-default":
			rp := httputil.NewSingleHostReverseProxy(u)
			rp.ErrorLog = log.New(io.Discard, "", 0)
			if *logErrors {
				rp.ErrorLog = nil // the log package's standard logger
			}
			h = rp
		case "plain", "plain-page":
			rp := benchmarks.PlainProxy(u, tr, *via)
			rp.BufferPool = newBufferPool()
			if *logErrors {
				rp.ErrorLog = nil // the log package's standard logger
			}
			if *mode == "plain-page" {
				accept := map[string]string{"html": "text/html", "text": "text/plain"}[*page]
				if accept == "" {
					log.Fatalf("e2eserver: -page %q: want html or text", *page)
				}
				rp.ErrorHandler = benchmarks.ConstantPageFor(accept)
			}
			h = rp
		default: // gatehouse, gatehouse-zero
			var opts middleware.Options
			if *mode == "gatehouse" {
				opts.Transport = tr
			}
			if *breaker {
				opts.Breaker = &middleware.BreakerPolicy{}
			}
			if *logErrors {
				opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
			}
			h = middleware.NewReverseProxy(u, opts)
		}
	default:
		log.Fatalf("e2eserver: unknown -mode %q", *mode)
	}
	srv := &http.Server{
		Addr:              *listen,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
}

// upstreamBody returns an HTML page of n bytes.
func upstreamBody(n int) []byte {
	const head = "<!doctype html><title>ok</title><p>hello from the upstream</p>\n"
	b := make([]byte, 0, max(n, len(head)))
	b = append(b, head...)
	for len(b) < n-1 {
		b = append(b, 'x')
	}
	if len(b) < n {
		b = append(b, '\n')
	}
	return b
}

// bufferPool is the httputil.BufferPool a tuned plain proxy uses. It pools
// array pointers, so that neither Get nor Put allocates.
type bufferPool struct{ p sync.Pool }

type buffer = [32 * 1024]byte

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new(buffer) }}}
}

func (p *bufferPool) Get() []byte { return p.p.Get().(*buffer)[:] }

func (p *bufferPool) Put(b []byte) {
	if cap(b) >= len(buffer{}) {
		p.p.Put((*buffer)(b[:len(buffer{})]))
	}
}
