// Command e2eserver is one of the servers that benchmarks/e2e/run.sh puts
// under load with wrk:
//
//	e2eserver -mode upstream  -listen ADDR             a 200 with a small HTML page
//	e2eserver -mode plain     -listen ADDR -target URL an httputil.ReverseProxy
//	e2eserver -mode gatehouse -listen ADDR -target URL middleware.NewReverseProxy
//
// Both proxies use the same http.Transport, with enough idle connections per
// host for the load (http.DefaultTransport keeps only 2), and log nothing.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
)

func main() {
	mode := flag.String("mode", "upstream", "upstream, plain or gatehouse")
	listen := flag.String("listen", "127.0.0.1:18080", "address to listen on")
	target := flag.String("target", "", "upstream URL, for the proxies")
	flag.Parse()

	var h http.Handler
	switch *mode {
	case "upstream":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>ok</title><p>hello from the upstream</p>\n")
		})
	case "plain", "gatehouse":
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
		if *mode == "plain" {
			h = &httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(u)
					pr.SetXForwarded()
				},
				Transport: tr,
				ErrorLog:  log.New(io.Discard, "", 0),
			}
		} else {
			h = middleware.NewReverseProxy(u, middleware.Options{Transport: tr})
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
	log.Fatal(srv.ListenAndServe())
}
