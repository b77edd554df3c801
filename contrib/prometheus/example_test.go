package prometheus_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	gatehouseprom "github.com/gatehouse-go/gatehouse/contrib/prometheus"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func Example() {
	// Metrics in a registry of their own; prom.DefaultRegisterer works too.
	reg := prom.NewRegistry()
	m, err := gatehouseprom.Register(reg, gatehouseprom.Config{})
	if err != nil {
		panic(err)
	}

	// An upstream where nothing listens, behind a gateway whose Options
	// carry the metrics' hooks, and the registry served on /metrics.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	mux := http.NewServeMux()
	mux.Handle("/", middleware.NewReverseProxy(dead, m.Options(middleware.Options{})))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	gateway := httptest.NewServer(mux)
	defer gateway.Close()

	resp, err := http.Get(gateway.URL + "/orders")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("GET /orders:", resp.Status)

	resp, err = http.Get(gateway.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := strings.ReplaceAll(sc.Text(), dead.Host, "UPSTREAM")
		if strings.HasPrefix(line, "gatehouse_upstream_failures_total") || strings.HasPrefix(line, "gatehouse_pages_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// GET /orders: 502 Bad Gateway
	// gatehouse_pages_total{format="html",kind="connection_refused",status="502"} 1
	// gatehouse_upstream_failures_total{kind="connection_refused",status="502",upstream="UPSTREAM"} 1
}
