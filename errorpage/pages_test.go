package errorpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestServeErrorHeaders(t *testing.T) {
	p := newPages(t, Config{})
	rec := httptest.NewRecorder()
	rec.Header().Set("Proxy-Status", "gatehouse; error=connection_refused")
	rec.Header().Set("Via", "1.1 gatehouse")
	rec.Header().Set("Cache-Control", "public, max-age=600")
	rec.Header().Set("Content-Type", "application/octet-stream")
	rec.Header().Set("Content-Encoding", "gzip")
	r := request(http.MethodGet, "/", "Accept", "text/html", "Accept-Language", "fr-CA", "X-Request-ID", "abc-123")
	p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, RetryAfter: 1500 * time.Millisecond})

	if rec.Code != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", rec.Code)
	}
	got := map[string]string{}
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Language", "Cache-Control", "Vary", "X-Content-Type-Options", "Content-Security-Policy", "Retry-After", "Proxy-Status", "Via", "X-Request-Id", "Content-Encoding"} {
		got[k] = strings.Join(rec.Header().Values(k), "|")
	}
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Length":          strconv.Itoa(rec.Body.Len()),
		"Content-Language":        "fr",
		"Cache-Control":           "no-store",
		"Vary":                    "Accept, Accept-Language",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none';style-src 'unsafe-inline';img-src data:;base-uri 'none';form-action 'none';frame-ancestors 'none'",
		"Retry-After":             "2",
		"Proxy-Status":            "gatehouse; error=connection_refused",
		"Via":                     "1.1 gatehouse",
		"X-Request-Id":            "abc-123",
		"Content-Encoding":        "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(rec.Body.String(), "abc-123") {
		t.Errorf("body does not quote the request ID")
	}
}

func TestServeKeepsRetryAfter(t *testing.T) {
	p := newPages(t, Config{})
	rec := httptest.NewRecorder()
	rec.Header().Set("Retry-After", "120")
	p.ServeError(rec, request("GET", "/", "Accept", "text/plain"), &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: 5 * time.Second})
	if got := rec.Header().Values("Retry-After"); !cmp.Equal(got, []string{"120"}) {
		t.Errorf("Retry-After = %q, want the middleware's [120]", got)
	}
	// The page still says when to retry, from the error.
	if !strings.Contains(rec.Body.String(), "05:06:12 UTC") {
		t.Errorf("text page lacks the retry time:\n%s", rec.Body)
	}

	// A Retry-After set by the middleware alone is shown on a status page.
	rec = httptest.NewRecorder()
	rec.Header().Set("Retry-After", "60")
	p.ServeStatus(rec, request("GET", "/", "Accept", "text/plain"), http.StatusServiceUnavailable)
	if !strings.Contains(rec.Body.String(), "05:07:07 UTC") {
		t.Errorf("maintenance page lacks the retry time from Retry-After:\n%s", rec.Body)
	}
}

// TestServeStatesLongRetryAfter: a Retry-After longer than
// gatewayerr.MaxRetryAfter, which caps scheduled retries only, is stated as
// it is in the header and the JSON documents; only nonsense (beyond
// gatewayerr.MaxStatedRetryAfter) is bounded.
func TestServeStatesLongRetryAfter(t *testing.T) {
	year := int64(gatewayerr.MaxStatedRetryAfter / time.Second)
	tests := []struct {
		name       string
		header     string        // a Retry-After already set on the response
		retryAfter time.Duration // the error's; zero: a status page
		wantHeader string
		wantJSON   int64
	}{
		{"a day, from the error", "", 24 * time.Hour, "86400", 86400},
		{"a day, from the header", "86400", 0, "86400", 86400},
		{"a week, from the error", "", 7 * 24 * time.Hour, "604800", 604800},
		{"nonsense, from the error", "", 100 * 365 * 24 * time.Hour, strconv.FormatInt(year, 10), year},
		{"nonsense, from the header", "99999999999", 0, "99999999999", year}, // the operator's header is theirs
	}
	p := newPages(t, Config{})
	for _, tt := range tests {
		for _, accept := range []string{"application/json", "application/problem+json"} {
			t.Run(tt.name+"/"+accept, func(t *testing.T) {
				rec := httptest.NewRecorder()
				if tt.header != "" {
					rec.Header().Set("Retry-After", tt.header)
				}
				r := request("GET", "/", "Accept", accept)
				if tt.retryAfter > 0 {
					p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: tt.retryAfter})
				} else {
					p.ServeStatus(rec, r, http.StatusServiceUnavailable)
				}
				if got := rec.Header().Values("Retry-After"); !cmp.Equal(got, []string{tt.wantHeader}) {
					t.Errorf("Retry-After = %q, want [%s]", got, tt.wantHeader)
				}
				var doc struct {
					RetryAfter int64 `json:"retry_after"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
					t.Fatalf("%v in %s", err, rec.Body)
				}
				if doc.RetryAfter != tt.wantJSON {
					t.Errorf("retry_after = %d, want %d", doc.RetryAfter, tt.wantJSON)
				}
			})
		}
	}
}

func TestServeHEAD(t *testing.T) {
	p := newPages(t, Config{})
	get, head := httptest.NewRecorder(), httptest.NewRecorder()
	p.ServeStatus(get, request(http.MethodGet, "/", "X-Request-ID", "r1"), http.StatusGatewayTimeout)
	p.ServeStatus(head, request(http.MethodHead, "/", "X-Request-ID", "r1"), http.StatusGatewayTimeout)
	if head.Code != http.StatusGatewayTimeout || head.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 504 and none", head.Code, head.Body.Len())
	}
	if g, h := get.Header().Get("Content-Length"), head.Header().Get("Content-Length"); g != h || g == "0" {
		t.Errorf("Content-Length: GET %s, HEAD %s; want equal and non-zero", g, h)
	}
}

// goneRequest returns a GET whose client went away: its context is done.
func goneRequest(t *testing.T) *http.Request {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return request("GET", "/").WithContext(ctx)
}

// TestClientClosedRequestWritesNothing checks that ServeError writes nothing
// for a client that went away, and the 499 page for one still there.
func TestClientClosedRequestWritesNothing(t *testing.T) {
	p := newPages(t, Config{})
	for _, err := range []error{
		&gatewayerr.Error{Kind: gatewayerr.ClientClosedRequest},
		fmt.Errorf("proxy: %w", gatewayerr.ClientClosedRequest),
		fmt.Errorf("read request body: %w", context.Canceled),
	} {
		rec := httptest.NewRecorder()
		p.ServeError(rec, goneRequest(t), err)
		if rec.Code != 200 || rec.Body.Len() != 0 || len(rec.Header()) != 0 || rec.Flushed {
			t.Errorf("ServeError(%v), client gone: wrote status %d, %d bytes, headers %v; want nothing", err, rec.Code, rec.Body.Len(), rec.Header())
		}
		rec = httptest.NewRecorder()
		p.ServeError(rec, request("GET", "/", "Accept", "text/plain"), err)
		if rec.Code != gatewayerr.StatusClientClosedRequest || !strings.HasPrefix(rec.Body.String(), "499 ") {
			t.Errorf("ServeError(%v), client there: %d %q, want the 499 page", err, rec.Code, rec.Body)
		}
	}
}

func TestNilPagesAndDefault(t *testing.T) {
	var p *Pages
	rec := httptest.NewRecorder()
	p.ServeError(rec, request("GET", "/", "Accept", "text/html"), errors.New("boom"))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "<!doctype html>") {
		t.Errorf("nil Pages: status %d, body %.80q", rec.Code, rec.Body)
	}
	//lint:ignore SA4000 Default is called twice on purpose: it must return the same Pages
	if Default() != Default() {
		t.Error("Default returns different Pages")
	}
	rec = httptest.NewRecorder()
	p.ServeError(rec, request("GET", "/"), nil)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("nil error: status %d, want 500", rec.Code)
	}
}

func TestServeStatusOutOfRange(t *testing.T) {
	p := newPages(t, Config{})
	for _, s := range []int{0, 200, 302, 600, -1} {
		rec := httptest.NewRecorder()
		p.ServeStatus(rec, request("GET", "/"), s)
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("ServeStatus(%d): status %d, want 500", s, rec.Code)
		}
	}
}

// TestServeStatus499WritesNothing checks that ServeStatus, like ServeError
// for ClientClosedRequest, writes nothing for 499 when the client is gone,
// and the 499 page, not an empty 200, when it is still there.
func TestServeStatus499WritesNothing(t *testing.T) {
	p := newPages(t, Config{})
	rec := httptest.NewRecorder()
	p.ServeStatus(rec, goneRequest(t), gatewayerr.StatusClientClosedRequest)
	if rec.Code != 200 || rec.Body.Len() != 0 || len(rec.Header()) != 0 || rec.Flushed {
		t.Errorf("ServeStatus(499), client gone: wrote status %d, %d bytes, headers %v; want nothing", rec.Code, rec.Body.Len(), rec.Header())
	}
	rec = httptest.NewRecorder()
	p.ServeStatus(rec, request("GET", "/", "Accept", "text/plain"), gatewayerr.StatusClientClosedRequest)
	if rec.Code != gatewayerr.StatusClientClosedRequest || !strings.HasPrefix(rec.Body.String(), "499 ") {
		t.Errorf("ServeStatus(499), client there: %d %q, want the 499 page", rec.Code, rec.Body)
	}
}

// TestCopy checks that the copy follows the kind or the status, and that
// a handler's failure reads as the service's, not the upstream's.
func TestCopy(t *testing.T) {
	p := newPages(t, Config{})
	tests := []struct {
		name   string
		serve  func(w http.ResponseWriter, r *http.Request)
		status int
		title  string
		failed string // the failed hop's label, or "" for no strip
	}{
		{"panic page", func(w http.ResponseWriter, r *http.Request) { p.ServeStatus(w, r, 500) }, 500, "Something went wrong on our side", "Gateway"},
		{"proxy internal error", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ProxyInternalError})
		}, 500, "Something went wrong on our side", "Gateway"},
		{"refused", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
		}, 502, "The service is not accepting connections", "Service"},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, gatewayerr.HTTPResponseTimeout)
		}, 504, "The service took too long to answer", "Service"},
		{"open circuit", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable})
		}, 503, "The service is temporarily unavailable", "Service"},
		{"broken answer", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.HTTPResponseIncomplete})
		}, 502, "The service sent a broken answer", "Service"},
		{"tls", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.TLSCertificateError})
		}, 502, "A secure connection could not be made", "Service"},
		{"dns", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.DNSError})
		}, 502, "The service could not be reached", "Service"},
		{"upstream 503", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: 503})
		}, 503, "The service is temporarily unavailable", "Service"},
		{"upstream 504", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.HTTPResponseTimeout, ReceivedStatus: 504})
		}, 504, "The service could not answer in time", "Service"},
		{"upstream 502", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: 502})
		}, 502, "The service is having trouble", "Service"},
		{"upstream 500", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: 500})
		}, 500, "The service is having trouble", "Service"},
		{"maintenance", func(w http.ResponseWriter, r *http.Request) { p.ServeStatus(w, r, 503) }, 503, "Down for maintenance", "Service"},
		{"maintenance mode", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: ErrMaintenance})
		}, 503, "Down for maintenance", "Service"},
		{"loop", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ProxyLoopDetected})
		}, 502, "Your request went round in a loop", "Gateway"},
		{"configuration", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ProxyConfigurationError})
		}, 500, "This site is not set up correctly", "Gateway"},
		{"reset", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionTerminated})
		}, 502, "The connection to the service dropped", "Service"},
		{"not found", func(w http.ResponseWriter, r *http.Request) { p.ServeStatus(w, r, 404) }, 404, "Page not found", ""},
		{"teapot", func(w http.ResponseWriter, r *http.Request) { p.ServeStatus(w, r, 418) }, 418, "The request could not be completed", ""},
		{"denied", func(w http.ResponseWriter, r *http.Request) {
			p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.HTTPRequestDenied})
		}, 403, "Access denied", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.serve(rec, request("GET", "/", "Accept", "text/html"))
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if !strings.Contains(body, "<h1>"+tt.title+"</h1>") {
				t.Errorf("page lacks <h1>%s</h1>:\n%s", tt.title, body)
			}
			if strings.Contains(body, "upstream") && tt.status == 500 {
				t.Errorf("a 500 page talks of the upstream")
			}
			hasStrip := strings.Contains(body, `class=hops`)
			if hasStrip != (tt.failed != "") {
				t.Fatalf("strip shown: %v, want %v", hasStrip, tt.failed != "")
			}
			state, mark := "failed", "✕"
			if tt.title == "Down for maintenance" {
				state, mark = "maintenance", "‖" // not a failure
			}
			if tt.failed != "" && !strings.Contains(body, `<li class=`+state+`><span class=dot aria-hidden=true>`+mark+`</span><b>`+tt.failed+`</b>`) {
				t.Errorf("the failed hop is not %q:\n%s", tt.failed, body)
			}
		})
	}
}

// TestCopyTellsGatewayFromUpstream checks, in every language, that what
// the gateway found and what the upstream said read differently: an open
// circuit and the upstream's own 503, the gateway's timeout and the
// upstream's own 504, a failure without a response and the upstream's own
// 502. Each pair is served by one Pages, one after the other, so that a
// cached page of one cannot stand in for the other.
func TestCopyTellsGatewayFromUpstream(t *testing.T) {
	upstream := func(k gatewayerr.Kind, status int) *gatewayerr.Error {
		return &gatewayerr.Error{Kind: k, ReceivedStatus: status}
	}
	pairs := []struct {
		name              string
		gateway, upstream *gatewayerr.Error
		gatewayDetail     string // English
		upstreamDetail    string // English
	}{
		{"503", &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable}, upstream(gatewayerr.DestinationUnavailable, 503),
			"our gateway is giving it a short time to recover", "says it is temporarily unavailable. It may be overloaded or down for maintenance."},
		{"504", &gatewayerr.Error{Kind: gatewayerr.HTTPResponseTimeout}, upstream(gatewayerr.HTTPResponseTimeout, 504),
			"Our gateway waited for the service", "a system it depends on took too long to respond"},
		{"502", &gatewayerr.Error{Kind: gatewayerr.Unknown}, upstream(gatewayerr.Unknown, 502),
			"Our gateway is working, but the service behind it could not complete your request.", "a system it depends on failed"},
		{"proxy's timeout", &gatewayerr.Error{Kind: gatewayerr.ConnectionTimeout}, &gatewayerr.Error{Kind: gatewayerr.ConnectionTimeout, ReceivedStatus: 502,
			Chain: []gatewayerr.ProxyStatus{{Proxy: "edge", Kind: gatewayerr.ConnectionTimeout, Error: "connection_timeout"}}},
			"Our gateway waited for the service", "a system it depends on took too long to respond"},
	}
	for _, pair := range pairs {
		t.Run(pair.name, func(t *testing.T) {
			p := newPages(t, Config{})
			for _, lang := range Languages() {
				var details [2]string
				for i, ge := range []*gatewayerr.Error{pair.gateway, pair.upstream, pair.gateway} {
					rec := httptest.NewRecorder()
					p.ServeError(rec, request("GET", "/", "Accept", "text/html", "Accept-Language", lang), ge)
					_, lead, _ := strings.Cut(rec.Body.String(), `<p class=lead>`)
					lead, _, ok := strings.Cut(lead, "</p>")
					if !ok {
						t.Fatalf("%s: no lead paragraph:\n%s", lang, rec.Body.String())
					}
					if i == 2 && lead != details[0] {
						t.Errorf("%s: the gateway's page changed after the upstream's was served: %q, then %q", lang, details[0], lead)
					}
					details[i%2] = lead
				}
				if details[0] == details[1] {
					t.Errorf("%s: the gateway's and the upstream's failure read the same: %q", lang, details[0])
				}
				if lang != "en" {
					continue
				}
				for i, want := range []string{pair.gatewayDetail, pair.upstreamDetail} {
					if !strings.Contains(details[i], want) {
						t.Errorf("detail %q lacks %q", details[i], want)
					}
				}
			}
		})
	}
}

func TestHopsFromProxyStatusChain(t *testing.T) {
	p := newPages(t, Config{})
	l := p.locales[0]
	chain := []gatewayerr.ProxyStatus{
		{Proxy: "origin-lb"},
		{Proxy: "edge", Kind: gatewayerr.ConnectionTimeout, Error: "connection_timeout"},
	}
	type hop struct{ Label, State string }
	flat := func(hs []Hop) []hop {
		var out []hop
		for _, h := range hs {
			out = append(out, hop{h.Label, h.State})
		}
		return out
	}
	tests := []struct {
		name  string
		g     group
		chain []gatewayerr.ProxyStatus
		want  []hop
	}{
		{"no chain", gRefused, nil, []hop{{"Your browser", HopOK}, {"Gateway", HopOK}, {"Service", HopFailed}}},
		{"gateway's own failure", gInternal, nil, []hop{{"Your browser", HopOK}, {"Gateway", HopFailed}, {"Service", HopSkipped}}},
		{"edge's next hop timed out", gTimeout, chain, []hop{{"Your browser", HopOK}, {"Gateway", HopOK}, {"Proxy", HopOK}, {"Proxy", HopFailed}, {"Service", HopSkipped}}},
		{"proxy's own error", gUpstream, []gatewayerr.ProxyStatus{{Proxy: "mid", Kind: gatewayerr.ProxyInternalError, Error: "proxy_internal_error"}}, []hop{{"Your browser", HopOK}, {"Gateway", HopOK}, {"Proxy", HopFailed}, {"Service", HopSkipped}}},
		{"chain without errors", gUpstream, []gatewayerr.ProxyStatus{{Proxy: "a"}}, []hop{{"Your browser", HopOK}, {"Gateway", HopOK}, {"Proxy", HopOK}, {"Service", HopFailed}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := hops(l, tt.g, tt.chain, false)
			if diff := cmp.Diff(tt.want, flat(hs)); diff != "" {
				t.Errorf("hops mismatch (-want +got):\n%s", diff)
			}
			// Each hop's state is in words too, not only in colour.
			want := map[string]string{HopOK: "Working", HopFailed: "Error", HopSkipped: "Not reached"}
			for _, h := range hs {
				if h.StatusText != want[h.State] {
					t.Errorf("%s hop %q: StatusText %q, want %q", h.State, h.Label, h.StatusText, want[h.State])
				}
			}
		})
	}
	long := make([]gatewayerr.ProxyStatus, 50)
	if n := len(hops(l, gUpstream, long, false)); n != 3+maxChainHops {
		t.Errorf("a 50-proxy chain gives %d hops, want %d", n, 3+maxChainHops)
	}
	// Proxy names are internal: shown only with debug details.
	for _, debug := range []bool{false, true} {
		hs := hops(l, gTimeout, chain, debug)
		if named := hs[2].Name != ""; named != debug {
			t.Errorf("debug %v: proxy named %q", debug, hs[2].Name)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name string
		hdr  []string
		path string
		want Format
	}{
		{"browser", []string{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, "/", HTML},
		{"no accept", nil, "/", HTML},
		{"star", []string{"Accept", "*/*"}, "/", HTML},
		{"curl", []string{"Accept", "*/*", "User-Agent", "curl/8.5.0"}, "/", Text},
		{"api path", []string{"Accept", "*/*"}, "/api/v1/orders", ProblemJSON},
		{"fetch", []string{"Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"}, "/", ProblemJSON},
		{"xhr", []string{"X-Requested-With", "XMLHttpRequest"}, "/", ProblemJSON},
		{"json body", []string{"Content-Type", "application/json"}, "/", ProblemJSON},
		{"json", []string{"Accept", "application/json"}, "/", JSON},
		{"problem", []string{"Accept", "application/problem+json"}, "/", ProblemJSON},
		{"application star", []string{"Accept", "application/*"}, "/", ProblemJSON},
		{"json over html by q", []string{"Accept", "text/html;q=0.5, application/json"}, "/", JSON},
		{"text", []string{"Accept", "text/plain"}, "/", Text},
		{"text star", []string{"Accept", "text/*"}, "/", HTML},
		{"html refused", []string{"Accept", "text/html;q=0, */*"}, "/", ProblemJSON},
		{"explicit beats api heuristics", []string{"Accept", "text/html"}, "/api/x", HTML},
		{"unacceptable", []string{"Accept", "image/png"}, "/", HTML},
		{"unacceptable api", []string{"Accept", "image/png"}, "/api/x", ProblemJSON},
		{"malformed", []string{"Accept", ";;;,,,/,"}, "/", HTML},
		{"star beats low q", []string{"Accept", "application/json;q=0.1, */*"}, "/", HTML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(request("GET", tt.path, tt.hdr...)); got != tt.want {
				t.Errorf("Negotiate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLanguages(t *testing.T) {
	p := newPages(t, Config{})
	tests := []struct {
		accept, lang, dir, title string
	}{
		{"", "en", "ltr", "The service is not accepting connections"},
		{"pt-BR,pt;q=0.9", "pt", "ltr", "O serviço não está aceitando conexões"},
		{"de-AT", "de", "ltr", "Der Dienst nimmt keine Verbindungen an"},
		{"ar-EG", "ar", "rtl", "الخدمة لا تقبل الاتصالات"},
		{"zh-CN", "zh-Hans", "ltr", "服务拒绝了连接"},
		{"sw, ja;q=0.5", "ja", "ltr", "サービスが接続を受け付けていません"},
		{"uk", "uk", "ltr", "Сервіс не приймає з’єднання"},
		{"hi-IN", "hi", "ltr", "सेवा कनेक्शन स्वीकार नहीं कर रही है"},
		{"tlh", "en", "ltr", "The service is not accepting connections"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			rec := httptest.NewRecorder()
			p.ServeError(rec, request("GET", "/", "Accept", "text/html", "Accept-Language", tt.accept), gatewayerr.ConnectionRefused)
			body := rec.Body.String()
			if cl := rec.Header().Get("Content-Language"); cl != tt.lang {
				t.Errorf("Content-Language = %q, want %q", cl, tt.lang)
			}
			if want := fmt.Sprintf(`<html lang=%s dir=%s>`, tt.lang, tt.dir); !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
			if !strings.Contains(body, "<h1>"+tt.title+"</h1>") {
				t.Errorf("page lacks title %q:\n%.600s", tt.title, body)
			}
		})
	}
}

// TestMatrix serves every status that matters in every format and language
// and checks each response's shape.
func TestMatrix(t *testing.T) {
	p := newPages(t, Config{Brand: Brand{Name: "Acme", StatusURL: "https://status.example.com", SupportURL: "mailto:help@example.com", HomeURL: "https://example.com/"}})
	type serve struct {
		name   string
		status int
		err    error
	}
	var cases []serve
	for _, s := range []int{400, 401, 403, 404, 405, 408, 410, 413, 418, 429, 451, 500, 501, 502, 503, 504, 599} {
		cases = append(cases, serve{fmt.Sprint(s), s, nil})
	}
	for _, k := range gatewayerr.Kinds() {
		if k == gatewayerr.ClientClosedRequest {
			continue
		}
		cases = append(cases, serve{k.String(), k.StatusCode(), &gatewayerr.Error{Kind: k, Upstream: "10.1.2.3:8080", Err: errors.New("secret cause")}})
	}
	accepts := map[Format]string{HTML: "text/html", ProblemJSON: "application/problem+json", JSON: "application/json", Text: "text/plain"}
	for _, c := range cases {
		for f, accept := range accepts {
			for _, lang := range Languages() {
				r := request("GET", "/x", "Accept", accept, "Accept-Language", lang)
				rec := httptest.NewRecorder()
				if c.err != nil {
					p.ServeError(rec, r, c.err)
				} else {
					p.ServeStatus(rec, r, c.status)
				}
				where := fmt.Sprintf("%s/%v/%s", c.name, f, lang)
				body := rec.Body.Bytes()
				if rec.Code != c.status {
					t.Fatalf("%s: status %d, want %d", where, rec.Code, c.status)
				}
				if ct := rec.Header().Get("Content-Type"); ct != f.ContentType() {
					t.Fatalf("%s: Content-Type %q", where, ct)
				}
				if cl := rec.Header().Get("Content-Language"); cl != lang {
					t.Fatalf("%s: Content-Language %q", where, cl)
				}
				if bytes.Contains(body, []byte("10.1.2.3")) || bytes.Contains(body, []byte("secret cause")) {
					t.Fatalf("%s: internal details leak without debug:\n%s", where, body)
				}
				switch f {
				case ProblemJSON, JSON:
					var m map[string]any
					if err := json.Unmarshal(body, &m); err != nil {
						t.Fatalf("%s: invalid JSON: %v\n%s", where, err, body)
					}
					if m["status"] != float64(c.status) || m["request_id"] == "" {
						t.Fatalf("%s: members %v", where, m)
					}
				case HTML:
					if !bytes.HasPrefix(body, []byte("<!doctype html>")) || !bytes.HasSuffix(body, []byte("</main>")) {
						t.Fatalf("%s: not a whole HTML page", where)
					}
					if len(body) > 12<<10 {
						t.Fatalf("%s: %d bytes, over 12 KB", where, len(body))
					}
				case Text:
					if !bytes.HasPrefix(body, []byte(strconv.Itoa(c.status)+" ")) {
						t.Fatalf("%s: text page starts %.40q", where, body)
					}
				}
			}
		}
	}
}

func TestDebugDetails(t *testing.T) {
	trusted := func(r *http.Request) bool { return r.Header.Get("X-Trusted") == "yes" }
	p := newPages(t, Config{Debug: trusted})
	ge := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Upstream: "10.9.8.7:9000", Phase: gatewayerr.PhaseDial, Attempts: 3, Err: errors.New("dial tcp 10.9.8.7:9000: connect: connection refused")}
	for _, accept := range []string{"text/html", "text/plain", "application/json", "application/problem+json"} {
		for _, trustedReq := range []bool{false, true} {
			hdr := []string{"Accept", accept}
			if trustedReq {
				hdr = append(hdr, "X-Trusted", "yes")
			}
			rec := httptest.NewRecorder()
			p.ServeError(rec, request("GET", "/", hdr...), ge)
			body := rec.Body.String()
			for _, secret := range []string{"10.9.8.7", "connect: connection refused", "dial"} {
				if strings.Contains(body, secret) != trustedReq {
					t.Errorf("%s, debug %v: body contains %q: %v", accept, trustedReq, secret, !trustedReq)
				}
			}
		}
	}
}

func TestMultiLineHeaders(t *testing.T) {
	r := request("GET", "/")
	r.Header["Accept"] = []string{"image/png", "application/json"}
	if got := Negotiate(r); got != JSON {
		t.Errorf("Negotiate with two Accept lines = %v, want json", got)
	}
	r.Header["Accept-Language"] = []string{"tlh", "ko"}
	rec := httptest.NewRecorder()
	newPages(t, Config{}).ServeStatus(rec, r, 502)
	if cl := rec.Header().Get("Content-Language"); cl != "ko" {
		t.Errorf("Content-Language with two Accept-Language lines = %q, want ko", cl)
	}
}

// TestPageSize checks that the largest default HTML pages, with every
// Brand link and a long Proxy-Status chain, stay under 12 KB in every
// language.
func TestPageSize(t *testing.T) {
	p := newPages(t, Config{Brand: Brand{
		Name: "Acme Cloud Platform", HomeURL: "https://acme.example/", SupportURL: "https://acme.example/support",
		StatusURL: "https://status.acme.example/", Footer: "© 2026 Acme Cloud Platform Ltd. All rights reserved.",
	}})
	chain := make([]gatewayerr.ProxyStatus, 10)
	for _, lang := range Languages() {
		for _, s := range []Sample{
			{Err: &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, RetryAfter: time.Hour, Chain: chain}},
			{Status: 503, RetryAfter: 48 * time.Hour},
			{Err: &gatewayerr.Error{Kind: gatewayerr.ProxyInternalError}},
		} {
			s.Language = lang
			var b bytes.Buffer
			if err := p.Render(&b, s); err != nil {
				t.Fatal(err)
			}
			if b.Len() >= 12<<10 {
				t.Errorf("%s %d: %d bytes, want under 12 KB", lang, s.Status, b.Len())
			}
		}
	}
}

// TestServeContentLengthAlternating serves pages of different lengths in
// turn, so that the Content-Length value kept for the last length is
// replaced and reused: each response must state its own body's length.
func TestServeContentLengthAlternating(t *testing.T) {
	p := Default()
	reqs := []*http.Request{
		request(http.MethodGet, "/", "Accept", "text/html"),
		request(http.MethodGet, "/", "Accept", "text/plain"),
		request(http.MethodGet, "/", "Accept", "application/problem+json"),
	}
	for i := range 9 {
		r := reqs[i%len(reqs)]
		rec := httptest.NewRecorder()
		p.ServeStatus(rec, r, http.StatusBadGateway)
		if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
			t.Fatalf("response %d (Accept %s): Content-Length %s, want %s", i, r.Header.Get("Accept"), got, want)
		}
	}
}

// TestVaryManyTokens checks that merging a Vary field of many tokens keeps
// each once (case-insensitively) and in order. The merge is linear; it once
// compared each token with all the others, and this test took seconds.
func TestVaryManyTokens(t *testing.T) {
	var in, want []string
	for i := range 20_000 {
		tok := fmt.Sprintf("X-Token-%d", i)
		in = append(in, tok, strings.ToLower(tok))
		want = append(want, tok)
	}
	want = append(want, "Accept", "Accept-Language")
	got := vary([]string{strings.Join(in, ", ")})
	if len(got) != 1 {
		t.Fatalf("vary returned %d lines, want 1", len(got))
	}
	if diff := cmp.Diff(want, strings.Split(got[0], ", ")); diff != "" {
		t.Errorf("vary (-want +got):\n%s", diff)
	}
}
