package prometheus_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	gatehouseprom "github.com/gatehouse-go/gatehouse/contrib/prometheus"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// TestAllDownLabelsNoUpstream: the 503 of a pool of Upstreams all ejected
// went to no host: it is counted with an empty upstream label, and the
// request URL's host, never dialled, labels nothing.
func TestAllDownLabelsNoUpstream(t *testing.T) {
	var hosts []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, ln.Addr().String())
		ln.Close()
	}
	reg := prom.NewRegistry()
	m, err := gatehouseprom.Register(reg, gatehouseprom.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base := &http.Transport{Proxy: nil}
	defer base.CloseIdleConnections()
	tr := &middleware.Transport{
		Base:      base,
		Upstreams: hosts,
		Breaker:   &middleware.BreakerPolicy{ConsecutiveFailures: 1, OpenFor: time.Minute},
	}
	m.InstrumentTransport(tr)
	// The first request opens both breakers; the second finds none open.
	for range 2 {
		if _, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://svc.internal/", nil)); err == nil {
			t.Fatal("a request to refusing hosts succeeded")
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	allDown := false
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["upstream"] == "svc.internal" {
				t.Errorf("%s %v names the request's host, never dialled", mf.GetName(), labels)
			}
			if mf.GetName() == "gatehouse_upstream_failures_total" && labels["kind"] == "destination_unavailable" {
				allDown = true
				if labels["upstream"] != "" || labels["status"] != "503" || mt.GetCounter().GetValue() != 1 {
					t.Errorf("all-down failure counted as %v, %v; want upstream \"\", status 503, once", labels, mt.GetCounter().GetValue())
				}
			}
		}
	}
	if !allDown {
		t.Error("no destination_unavailable failure counted")
	}
}
