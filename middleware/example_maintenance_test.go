package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"time"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// A Maintenance switch turns planned downtime on and off while the
// gateway runs: visitors get the 503 maintenance page, with Retry-After
// when the end is known, and the upstream sees none of their requests;
// addresses in Allow, such as the team's, pass.
func ExampleMaintenance() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)

	maint := &middleware.Maintenance{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	gw := httptest.NewServer(middleware.NewReverseProxy(target, middleware.Options{Maintenance: maint}))
	defer gw.Close()

	show := func() {
		resp, err := http.Get(gw.URL)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Proxy-Status"), resp.Header.Get("Retry-After") != "")
	}
	show()
	maint.On(time.Now().Add(30 * time.Minute)) // back in half an hour
	show()
	maint.Off()
	show()
	// Output:
	// 200  false
	// 503 gatehouse;error=destination_unavailable true
	// 200  false
}
