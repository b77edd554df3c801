package prometheus_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	gatehouseprom "github.com/gatehouse-go/gatehouse/contrib/prometheus"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// TestReplacedPagesKind: a replaced 500 with no gateway failure behind it
// is a page served by its status, with an empty kind, whether Handler
// replaced the application's or NewReverseProxy the upstream's; and a
// replaced 404 counts its own status.
func TestReplacedPagesKind(t *testing.T) {
	reg := prom.NewRegistry()
	m, err := gatehouseprom.Register(reg, gatehouseprom.Config{})
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusInternalServerError
		if strings.HasSuffix(r.URL.Path, "/404") {
			code = http.StatusNotFound
		}
		http.Error(w, "boom", code) // plain text: replaced
	})
	up := httptest.NewServer(app)
	t.Cleanup(up.Close)
	target, _ := url.Parse(up.URL)
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	opts := m.Options(middleware.Options{Transport: tr, Intercept: []int{404, 500}})
	mux := http.NewServeMux()
	mux.Handle("/proxy/", middleware.NewReverseProxy(target, opts))
	mux.Handle("/", middleware.Handler(opts)(app))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	gw := httptest.NewServer(mux)
	t.Cleanup(gw.Close)

	c := gw.Client()
	for _, p := range []string{"/500", "/proxy/500", "/proxy/404"} {
		req, _ := http.NewRequest(http.MethodGet, gw.URL+p, nil)
		req.Header.Set("Accept", "text/plain")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := c.Get(gw.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "gatehouse_pages_total") ||
			strings.HasPrefix(line, "gatehouse_upstream_failures_total") {
			got = append(got, line)
		}
	}
	u := target.Host
	want := []string{
		`gatehouse_pages_total{format="text",kind="",status="404"} 1`,
		`gatehouse_pages_total{format="text",kind="",status="500"} 2`,
		`gatehouse_upstream_failures_total{kind="unknown",status="404",upstream="` + u + `"} 1`,
		`gatehouse_upstream_failures_total{kind="unknown",status="500",upstream="` + u + `"} 1`,
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scrape (-want +got):\n%s", diff)
	}
}
