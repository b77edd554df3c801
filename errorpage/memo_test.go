package errorpage

import (
	"net/http/httptest"
	"testing"
)

// TestMemoizedNegotiation serves a sequence of requests on one Pages, alike
// in their Accept or Accept-Language value but not in what else decides, and
// checks that each gets what Negotiate and the language matcher give it
// alone: a value memoized for one request never decides another's page
// beyond what the value itself decides.
func TestMemoizedNegotiation(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	requests := []struct{ path, accept, ua, lang string }{
		{"/api/orders", "*/*", "", "de"},
		{"/page", "*/*", "", "de"},                // the same Accept, which does not decide: HTML
		{"/page", "*/*", "curl/8.5.0", "de-AT"},   // text for curl
		{"/api/orders", "text/plain", "", "fr"},   // decided by Accept
		{"/page", "text/plain", "", "fr"},         // the same
		{"/page", "text/html;q=0.5, */*", "", ""}, // */* wins, so the default
		{"/api/orders", "text/html;q=0.5, */*", "", ""},
		{"/api/orders", "", "", "pt-BR,pt;q=0.9"},
		{"/page", "", "", "pt-BR,pt;q=0.9"},
		{"/page", "", "HTTPie/3.2", "xx"},
		{"/page", "application/problem+json", "", "ar"},
		{"/api/orders", "application/problem+json", "", "ar"},
	}
	for pass := range 2 {
		for i, rq := range requests {
			r := httptest.NewRequest("GET", rq.path, nil)
			if rq.accept != "" {
				r.Header.Set("Accept", rq.accept)
			}
			if rq.ua != "" {
				r.Header.Set("User-Agent", rq.ua)
			}
			if got, want := p.negotiate(r), Negotiate(r); got != want {
				t.Errorf("pass %d, request %d: format %v, want %v", pass, i, got, want)
			}
			if got, want := p.language(rq.lang), p.matchLanguage(rq.lang); got != want {
				t.Errorf("pass %d, request %d: locale %d (%s), want %d (%s)", pass, i, got, p.locales[got].tag, want, p.locales[want].tag)
			}
		}
	}
}
