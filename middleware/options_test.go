package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

// TestReplacePolicy checks that each ReplacePolicy value keeps and replaces
// the same intercepted responses in Handler (from the handler it wraps) and
// in NewReverseProxy (from its upstream).
func TestReplacePolicy(t *testing.T) {
	// respond answers 503 with the content type and body of the query; a
	// body without a type is sent without one, so that the receiver sniffs.
	respond := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if ct := q.Get("ct"); ct != "" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header()["Content-Type"] = nil // net/http must not add one
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, q.Get("body"))
	})
	upstream := httptest.NewServer(respond)
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}

	policies := []ReplacePolicy{ReplaceBare, ReplaceUnlessHTML, ReplaceUnlessStructured, ReplaceAlways, ReplaceNever}
	type server struct {
		via string
		url string
	}
	servers := make(map[ReplacePolicy][]server)
	for _, p := range policies {
		h := httptest.NewServer(Handler(Options{Replace: p})(respond))
		t.Cleanup(h.Close)
		rp := httptest.NewServer(NewReverseProxy(target, Options{Replace: p}))
		t.Cleanup(rp.Close)
		servers[p] = []server{{"Handler", h.URL}, {"NewReverseProxy", rp.URL}}
	}

	tests := []struct {
		name   string
		ct     string
		body   string
		keptBy []ReplacePolicy // every other policy replaces the response
	}{
		{"empty", "", "", []ReplacePolicy{ReplaceNever}},
		{"empty HTML", "text/html", "", []ReplacePolicy{ReplaceNever}},
		{"plain text", "text/plain; charset=utf-8", "panic: runtime error\n\ngoroutine 1 [running]:", []ReplacePolicy{ReplaceNever}},
		{"octet-stream", "application/octet-stream", "\x00\x01\x02", []ReplacePolicy{ReplaceNever}},
		{"sniffed text", "", "dial tcp 10.0.0.7:80: connect: connection refused", []ReplacePolicy{ReplaceNever}},
		{"HTML", "text/html; charset=utf-8", "<h1>Back soon</h1>", []ReplacePolicy{ReplaceBare, ReplaceUnlessHTML, ReplaceNever}},
		{"sniffed HTML", "", "<!DOCTYPE html><h1>Back soon</h1>", []ReplacePolicy{ReplaceBare, ReplaceUnlessHTML, ReplaceNever}},
		{"problem+json", "application/problem+json", `{"title":"Out of stock","status":503}`, []ReplacePolicy{ReplaceBare, ReplaceUnlessStructured, ReplaceNever}},
		{"XML", "application/xml", "<error>out of stock</error>", []ReplacePolicy{ReplaceBare, ReplaceUnlessStructured, ReplaceNever}},
		{"sniffed XML", "", `<?xml version="1.0"?><error>out of stock</error>`, []ReplacePolicy{ReplaceBare, ReplaceUnlessStructured, ReplaceNever}},
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	t.Cleanup(client.CloseIdleConnections)
	for _, tt := range tests {
		for _, p := range policies {
			for _, s := range servers[p] {
				t.Run(tt.name+"/"+p.String()+"/"+s.via, func(t *testing.T) {
					q := url.Values{"body": {tt.body}}
					if tt.ct != "" {
						q.Set("ct", tt.ct)
					}
					resp, body := get(t, client, s.url+"/?"+q.Encode(), "text/html")
					if resp.StatusCode != http.StatusServiceUnavailable {
						t.Errorf("status %d, want 503", resp.StatusCode)
					}
					wantReplaced := !slices.Contains(tt.keptBy, p)
					// The page is the only response with Cache-Control.
					replaced := resp.Header.Get("Cache-Control") == "no-store"
					if replaced != wantReplaced {
						t.Fatalf("replaced = %v, want %v; body %q", replaced, wantReplaced, body)
					}
					if !replaced && body != tt.body {
						t.Errorf("kept body %q, want %q", body, tt.body)
					}
					if replaced && (body == "" || body == tt.body) {
						t.Errorf("replaced body %q is not the page", body)
					}
				})
			}
		}
	}
}

func TestReplacePolicyString(t *testing.T) {
	for p, want := range map[ReplacePolicy]string{
		ReplaceBare:             "bare",
		ReplaceUnlessHTML:       "unless-html",
		ReplaceUnlessStructured: "unless-structured",
		ReplaceAlways:           "always",
		ReplaceNever:            "never",
		ReplacePolicy(9):        "ReplacePolicy(9)",
	} {
		if got := p.String(); got != want {
			t.Errorf("ReplacePolicy(%d).String() = %q, want %q", p, got, want)
		}
	}
	var zero Options
	if zero.Replace != ReplaceBare {
		t.Errorf("zero Replace = %v, want bare", zero.Replace)
	}
}
