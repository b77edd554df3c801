package usertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// gatewayName names the gateway under test in its Proxy-Status members.
const gatewayName = "usertest-gw"

// TestGatewayAgainstCatalog puts a gateway (NewReverseProxy with its fault's
// transport) in front of every fault of the catalog and checks what a
// client of the gateway gets: a Proxy-Status field, in the header or, when
// the upstream's body broke after the gateway sent the header, in the
// trailer, whose last member is the gateway's and which names the fault's
// kind; and the kind's status, unless the header was already sent.
func TestGatewayAgainstCatalog(t *testing.T) {
	t.Parallel()
	for _, f := range faulttest.All() {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			target := f.Start(t)
			var reported []gatewayerr.Kind
			gw := httptest.NewServer(middleware.NewReverseProxy(target.URL, middleware.Options{
				Transport:          target.Transport,
				ProxyName:          gatewayName,
				ProxyStatusTrailer: true,
				OnError: func(r *http.Request, err *gatewayerr.Error) {
					reported = append(reported, err.Kind) // on the request's goroutine, read after Get
				},
			}))
			t.Cleanup(gw.Close)

			// No Accept-Encoding, so that the gateway's transport
			// decompresses and sees bad_gzip; see faulttest.All.
			tr := &http.Transport{DisableCompression: true}
			t.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			resp, err := client.Get(gw.URL + "/catalog/" + f.Name)
			if err != nil {
				t.Fatalf("GET through the gateway: %v", err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("reading the gateway's response: %v", err)
			}

			h, where := resp.Header, "header"
			if resp.Trailer.Get("Proxy-Status") != "" {
				h, where = resp.Trailer, "trailer"
			}
			members, err := gatewayerr.ParseProxyStatusHeader(h)
			if err != nil || len(members) == 0 {
				t.Fatalf("Proxy-Status %s %q: %v, want members", where, h.Values("Proxy-Status"), err)
			}
			if last := members[len(members)-1]; last.Proxy != gatewayName {
				t.Errorf("last Proxy-Status member %q, want the gateway's, %q", last.Proxy, gatewayName)
			}
			e := gatewayerr.ClassifyResponse(&http.Response{StatusCode: resp.StatusCode, Header: h})
			if e == nil || e.Kind != f.Kind {
				t.Errorf("Proxy-Status %s %q names %v, want %v", where, h.Values("Proxy-Status"), e, f.Kind)
			}
			wantStatus := f.Kind.StatusCode()
			if where == "trailer" {
				wantStatus = http.StatusOK // the upstream's, sent before its body broke
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, wantStatus)
			}
			gw.Close() // waits for the handler, and so for OnError
			if len(reported) != 1 || reported[0] != f.Kind {
				t.Errorf("OnError reported %v, want [%v]", reported, f.Kind)
			}
		})
	}
}
