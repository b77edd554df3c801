package main

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"text/tabwriter"
)

// A demoRoute is one entry of the demo's menu: a path on the gateway and
// what a visitor sees there.
type demoRoute struct {
	Path   string // on the gateway, such as "/refused"
	Shows  string // what happens upstream
	Result string // what the visitor gets: a status and the Proxy-Status error type
}

// demoRoutes is the menu, printed at start and served as the index page.
var demoRoutes = []demoRoute{
	{"/ok", "the upstream answers; the gateway stays out of the way", "200"},
	{"/sse", "server-sent events, one a second, unbuffered", "200, a stream"},
	{"/ws", "a WebSocket echo page, upgraded through the gateway", "200, then 101"},
	{"/stall-headers", "the upstream never answers; 2s timeout, retried once", "504 http_response_timeout"},
	{"/stall-body", "half a body, then silence; aborted after 3s", "200, then aborted"},
	{"/reset", "the upstream resets the connection", "502 connection_terminated"},
	{"/refused", "nothing listens on the upstream's port; retried once; a breaker opens for 10s after 3 visits", "502 connection_refused, then 503"},
	{"/garbage", "the upstream answers with an SSH banner", "502 http_protocol_error"},
	{"/bad-cert", "the upstream's certificate is self-signed", "502 tls_certificate_error"},
	{"/unavailable", "the upstream answers 503 with Retry-After: 120", "503, Retry-After kept"},
	{"/maintenance/on", "the gateway's maintenance mode, on for 2 minutes (from this machine only); then /ok", "503 maintenance page that reloads itself"},
	{"/maintenance/off", "maintenance mode off again (from this machine only)", "303 to /ok"},
	{"/replicas", "three replicas: one down, one resets every other request, one healthy", "200, every time"},
	{"/loop", "the gateway is its own upstream", "502 proxy_loop_detected"},
	{"/panic", "a handler in the gateway panics", "500 proxy_internal_error"},
	{"/metrics", "Prometheus metrics: failures by kind, attempts, retries, breaker states, pages", "200, text"},
}

// printMenu writes the menu for a gateway at base, such as
// "http://127.0.0.1:8080".
func printMenu(w io.Writer, base string) {
	fmt.Fprintf(w, "\nOpen %s/ in a browser for the menu, or try these with curl -i\n", base)
	fmt.Fprintf(w, "(curl gets the plain-text page; add -H 'Accept: application/problem+json'\n")
	fmt.Fprintf(w, "for the API format, -H 'Accept-Language: de' for German):\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range demoRoutes {
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\n", base, r.Path, r.Result, r.Shows)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEvery failure is logged to stderr and counted in %s/metrics. Ctrl-C stops the gateway.\n", base)
}

// indexHandler serves the menu as a page. It is the demo's own page, not an
// error page.
func indexHandler(brand string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexPage.Execute(w, struct {
			Brand  string
			Host   string
			Routes []demoRoute
		}{brand, r.Host, demoRoutes})
	})
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Brand}}</title>
<style>
:root{color-scheme:light dark}
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid #8884}
code{font-size:.9em;overflow-wrap:anywhere}
@media(max-width:40rem){
thead{display:none}
tr,td{display:block}
tr{padding:.5rem 0;border-bottom:1px solid #8884}
td{border:0;padding:.1rem 0}
td:first-child{font-weight:600}
}
</style>
<h1>{{.Brand}}</h1>
<p>This Gatehouse gateway stands in front of a deliberately flaky upstream. Each link
below makes the upstream fail in its own way; the gateway answers with a
branded page and reports the failure in the <code>Proxy-Status</code> header
and in its log.</p>
<table>
<thead><tr><th>Try</th><th>What the upstream does</th><th>What you get</th></tr></thead>
{{range .Routes}}<tr><td><a href="{{.Path}}">{{.Path}}</a></td><td>{{.Shows}}</td><td>{{.Result}}</td></tr>
{{end}}</table>
<p>The pages follow your browser's language (fifteen of them, Arabic right
to left, among others) and its light or dark mode. An API client gets the
same failure as a problem document:
<code>curl -i -H 'Accept: application/problem+json' http://{{.Host}}/refused</code>.</p>
</html>
`))
