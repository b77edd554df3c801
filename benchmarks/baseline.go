// Package benchmarks compares Gatehouse with the code it competes with: see
// bench.sh for the Go benchmarks and e2e/run.sh for the end-to-end runs. It
// is a separate module so that the peers never enter the library's go.mod.
package benchmarks

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// PlainProxy is the baseline: an httputil.ReverseProxy configured as
// NewReverseProxy's, without Gatehouse, sending through tr and logging
// nothing. With via, it adds a Via entry to each forwarded request, of the
// length of the one NewReverseProxy adds by default (RFC 9110, Section
// 7.6.3, requires one of a proxy), shared by every request as
// NewReverseProxy shares its own.
func PlainProxy(target *url.URL, tr http.RoundTripper, via bool) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			if via {
				pr.Out.Header["Via"] = viaEntry
			}
		},
		Transport: tr,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
}

var viaEntry = []string{"1.1 gatehouse-00000000"}

// ConstantPage returns a ReverseProxy ErrorHandler that answers every
// failure with the headers and body of Gatehouse's default 502 page for a
// browser, as NewReverseProxy serves it for a refused connection, rendered
// once. It is the floor for any branded page: the cost of sending its
// bytes, with nothing computed per request.
func ConstantPage() func(http.ResponseWriter, *http.Request, error) {
	return ConstantPageFor("text/html")
}

// ConstantPageFor is [ConstantPage] for the page that a client sending
// the given Accept field gets: "text/html" (or "") for the HTML page,
// "text/plain" for the text page, "application/json" for JSON.
func ConstantPageFor(accept string) func(http.ResponseWriter, *http.Request, error) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Proxy-Status", "gatehouse;error=connection_refused")
	errorpage.Default().ServeError(rec, req, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
	hdr, body := rec.Header(), rec.Body.Bytes()
	return func(w http.ResponseWriter, _ *http.Request, _ error) {
		h := w.Header()
		for k, v := range hdr {
			h[k] = v
		}
		w.WriteHeader(http.StatusBadGateway)
		w.Write(body) //nolint:errcheck // the client may be gone
	}
}
