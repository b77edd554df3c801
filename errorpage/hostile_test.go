package errorpage

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

const xss = `"><script>alert('x')</script><img src=x onerror=alert(1)>`

// TestHostileInput feeds markup, quotes and CR/LF through everything a
// page reflects, in every format, with debug details on so that the cause
// and the upstream are shown too.
func TestHostileInput(t *testing.T) {
	p := newPages(t, Config{Debug: Always, Brand: Brand{Name: xss, Footer: xss}})
	ge := &gatewayerr.Error{
		Kind:     gatewayerr.ConnectionRefused,
		Upstream: "up\r\nSet-Cookie: a=b" + xss,
		Err:      errors.New("bad \x1b[31m\u2028 " + xss),
		Chain:    []gatewayerr.ProxyStatus{{Proxy: xss, Error: "x", Kind: gatewayerr.ConnectionTimeout}},
	}
	for _, accept := range []string{"text/html", "application/problem+json", "application/json", "text/plain"} {
		t.Run(accept, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.URL.Path = "/" + xss
			r.Host = xss
			r.Header.Set("Accept", accept)
			r.Header["X-Request-Id"] = []string{"id\r\nSet-Cookie: evil=1"}
			r.Header["Accept-Language"] = []string{"en;q=1\r\n" + xss}
			rec := httptest.NewRecorder()
			p.ServeError(rec, r, ge)
			body := rec.Body.String()
			for k, vs := range rec.Header() {
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n") {
						t.Errorf("header %s carries CR or LF: %q", k, v)
					}
				}
			}
			if rec.Header().Get("Set-Cookie") != "" {
				t.Error("a header was injected")
			}
			if rid := rec.Header().Get("X-Request-Id"); !ValidRequestID(rid) || strings.Contains(rid, "Set-Cookie") {
				t.Errorf("X-Request-ID = %q: the invalid one was not replaced", rid)
			}
			if strings.Contains(body, "evil=1") {
				t.Error("the invalid request ID is reflected")
			}
			switch accept {
			case "text/html":
				if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
					t.Errorf("markup reflected unescaped:\n%s", body)
				}
			case "text/plain":
				if strings.ContainsAny(body, "\x1b\r\u2028") {
					t.Errorf("control characters reflected in text:\n%q", body)
				}
			default:
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatalf("invalid JSON: %v\n%s", err, body)
				}
				if strings.Contains(body, "<script") {
					t.Errorf("markup not escaped in JSON:\n%s", body)
				}
			}
		})
	}
}

// TestHugeAndMalformedHeaders checks that negotiation survives megabytes
// of header and nonsense, and still answers with a whole page.
func TestHugeAndMalformedHeaders(t *testing.T) {
	p := newPages(t, Config{})
	tests := map[string][2]string{
		"huge accept":           {strings.Repeat("text/html;q=0.1;level=1;a=\"b,c\",", 200000), ""},
		"huge accept-language":  {"", strings.Repeat("x-very-long-tag;q=0.5,", 200000)},
		"malformed":             {";;,,q=,*/;q=2,,text/", "-;;q=,zh-,*-*,123"},
		"nul and unicode":       {"text/html\x00;q=\u00ff", "de\x00,ü"},
		"q out of range":        {"text/html;q=1.5, application/json;q=-1", "de;q=9, fr;q=0.0001"},
		"quoted never closed":   {`text/html;x="abc, application/json`, `"de`},
		"thousands of wildcard": {strings.Repeat("*/*;q=0.5,", 10000) + "application/json", strings.Repeat("*,", 10000) + "ja"},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			r := request("GET", "/", "Accept", h[0], "Accept-Language", h[1])
			rec := httptest.NewRecorder()
			p.ServeStatus(rec, r, http.StatusBadGateway)
			if rec.Code != http.StatusBadGateway || rec.Body.Len() == 0 {
				t.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		keep bool
	}{
		{"abc-123", true},
		{"01HZX3:trace.span_1", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a b", false},
		{"<x>", false},
		{"é", false},
		{"a\nb", false},
	} {
		got := requestID(tt.in)
		if (got == tt.in) != tt.keep || !ValidRequestID(got) {
			t.Errorf("requestID(%q) = %q; keep %v", tt.in, got, tt.keep)
		}
	}
	if a, b := requestID(""), requestID(""); a == b || len(a) != 24 {
		t.Errorf("generated IDs %q and %q: want two different 24-digit IDs", a, b)
	}
}
