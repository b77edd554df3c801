// Command e2eserver is one of the servers that benchmarks/e2e/run.sh puts
// under load with wrk:
//
//	e2eserver -mode upstream  -listen ADDR             a 200 with a small HTML page
//	e2eserver -mode plain     -listen ADDR -target URL an httputil.ReverseProxy
//	e2eserver -mode gatehouse -listen ADDR -target URL middleware.NewReverseProxy
//	e2eserver -mode plain-page -listen ADDR -target URL an httputil.ReverseProxy whose
//	                                                   ErrorHandler writes a constant copy
//	                                                   of Gatehouse's 502 page, headers and all
//
// Both proxies use the same http.Transport, with enough idle connections per
// host for the load (http.DefaultTransport keeps only 2), and log nothing,
// unless -log is given: then the plain proxy logs each failure to standard
// error as an httputil.ReverseProxy does by default, and Gatehouse logs its
// structured record there through a slog.TextHandler.
// plain-page (benchmarks.ConstantPage) is the floor for any branded page:
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
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/benchmarks"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func main() {
	mode := flag.String("mode", "upstream", "upstream, plain or gatehouse")
	listen := flag.String("listen", "127.0.0.1:18080", "address to listen on")
	target := flag.String("target", "", "upstream URL, for the proxies")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file on SIGINT or SIGTERM")
	logErrors := flag.Bool("log", false, "log each proxy failure to standard error")
	flag.Parse()

	var h http.Handler
	switch *mode {
	case "upstream":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>ok</title><p>hello from the upstream</p>\n")
		})
	case "plain", "plain-page", "gatehouse":
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
		if *mode != "gatehouse" {
			rp := &httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(u)
					pr.SetXForwarded()
				},
				Transport: tr,
				ErrorLog:  log.New(io.Discard, "", 0),
			}
			if *logErrors {
				rp.ErrorLog = nil // the log package's standard logger
			}
			if *mode == "plain-page" {
				rp.ErrorHandler = benchmarks.ConstantPage()
			}
			h = rp
		} else {
			opts := middleware.Options{Transport: tr}
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
