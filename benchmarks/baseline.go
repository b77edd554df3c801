// Package benchmarks compares Gatehouse with the code it competes with: see
// bench.sh for the Go benchmarks and e2e/run.sh for the end-to-end runs. It
// is a separate module so that the peers never enter the library's go.mod.
package benchmarks

import (
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

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
