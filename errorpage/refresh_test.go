package errorpage

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestRefresh checks when a page refreshes itself: an HTML page for GET or
// HEAD whose retry time is known and within the limit, and no other.
func TestRefresh(t *testing.T) {
	now := time.Date(2026, 5, 6, 21, 30, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	def := newPages(t, Config{Now: clock})
	short := newPages(t, Config{Now: clock, RefreshLimit: 10 * time.Second})
	off := newPages(t, Config{Now: clock, RefreshLimit: -1})
	tests := []struct {
		name   string
		p      *Pages
		method string
		accept string
		retry  time.Duration // on the error; 0 for none
		header string        // Retry-After already set, for a page by status
		want   string        // the content of the meta refresh, or "" for none
	}{
		{"GET", def, "GET", "text/html", 30 * time.Second, "", "30"},
		{"GET, rounded up", def, "GET", "text/html", 1500 * time.Millisecond, "", "2"},
		{"under a second", def, "GET", "text/html", time.Millisecond, "", "1"},
		{"HEAD", def, "HEAD", "text/html", 30 * time.Second, "", "30"},
		{"at the limit", def, "GET", "text/html", DefaultRefreshLimit, "", "300"},
		{"beyond the limit", def, "GET", "text/html", DefaultRefreshLimit + time.Second, "", ""},
		{"POST", def, "POST", "text/html", 30 * time.Second, "", ""},
		{"PUT", def, "PUT", "text/html", 30 * time.Second, "", ""},
		{"DELETE", def, "DELETE", "text/html", 30 * time.Second, "", ""},
		{"no retry time", def, "GET", "text/html", 0, "", ""},
		{"text", def, "GET", "text/plain", 30 * time.Second, "", ""},
		{"configured limit", short, "GET", "text/html", 10 * time.Second, "", "10"},
		{"beyond the configured limit", short, "GET", "text/html", 11 * time.Second, "", ""},
		{"turned off", off, "GET", "text/html", 30 * time.Second, "", ""},
		{"Retry-After of the middleware", def, "GET", "text/html", 0, "120", "120"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := request(tt.method, "/", "Accept", tt.accept)
			if tt.header != "" {
				rec.Header().Set("Retry-After", tt.header)
				tt.p.ServeStatus(rec, r, http.StatusServiceUnavailable)
			} else {
				tt.p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: tt.retry})
			}
			body := rec.Body.String()
			if tt.method == "HEAD" {
				// No body: render what GET's page would be and check
				// the headers are the same page's.
				if rec.Header().Get("Content-Length") == "" {
					t.Fatal("HEAD without Content-Length")
				}
				rec2 := httptest.NewRecorder()
				tt.p.ServeError(rec2, request("GET", "/", "Accept", tt.accept), &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: tt.retry})
				if got, want := rec.Header().Get("Content-Length"), rec2.Header().Get("Content-Length"); got != want {
					t.Errorf("HEAD's Content-Length %s, GET's %s", got, want)
				}
				return
			}
			meta := `<meta http-equiv=refresh content="` + tt.want + `">`
			has := strings.Contains(body, "http-equiv=refresh")
			if tt.want == "" && has {
				t.Errorf("page refreshes:\n%s", body)
			}
			if tt.want != "" && !strings.Contains(body, meta) {
				t.Errorf("page lacks %s:\n%s", meta, body)
			}
			says := strings.Contains(body, "will try again by itself at")
			if says != (tt.want != "") {
				t.Errorf("page says it will try again: %v, want %v", says, tt.want != "")
			}
			if csp := rec.Header().Get("Content-Security-Policy"); tt.accept == "text/html" && !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
				t.Errorf("Content-Security-Policy = %q, want scripts forbidden", csp)
			}
			if strings.Contains(body, "<script") {
				t.Error("page has a script")
			}
		})
	}
}

// TestRefreshAtStatedTime checks that the refresh delay and the time the
// page states agree, cached or not, in every language.
func TestRefreshAtStatedTime(t *testing.T) {
	now := time.Date(2026, 5, 6, 21, 35, 30, 250e6, time.UTC)
	p := newPages(t, Config{Now: func() time.Time { return now }})
	for _, lang := range Languages() {
		for range 2 { // rendered, then cached
			rec := httptest.NewRecorder()
			p.ServeError(rec, request("GET", "/", "Accept", "text/html", "Accept-Language", lang), &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: 35 * time.Second})
			body := rec.Body.String()
			// 21:35:30.25 + 35 s is 21:36:05.25: the page says 21:36:06,
			// and refreshes no earlier: after 35.75 s, rounded up to 36 s.
			if !strings.Contains(body, `content="36"`) || !strings.Contains(body, "21:36:06 UTC") {
				t.Errorf("%s: want a refresh after 36 s, at 21:36:06", lang)
			}
		}
	}
}

func TestRetryAtFormat(t *testing.T) {
	p := newPages(t, Config{})
	loc := func(tag string) *locale { return p.locales[p.language(tag)] }
	now := time.Date(2026, 5, 6, 21, 30, 15, 0, time.UTC)
	tests := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 30 * time.Second, "21:30:45 UTC"},
		{"en", 30*time.Second + time.Millisecond, "21:30:46 UTC"}, // rounded up, never too early
		{"en", 90 * time.Minute, "23:01 UTC"},                     // to the minute, rounded up
		{"en", 3 * time.Hour, "7 May 2026, 00:31 UTC"},            // tomorrow: with its date
		{"en", 2 * time.Hour, "23:31 UTC"},
		{"de", 26 * time.Hour, "07.05.2026, 23:31 UTC"},
		{"fr", 26 * time.Hour, "07/05/2026 à 23:31 UTC"},
		{"nl", 26 * time.Hour, "07-05-2026, 23:31 UTC"},
		{"ja", 26 * time.Hour, "2026年5月7日 23:31 UTC"},
		{"zh-Hans", 26 * time.Hour, "2026年5月7日 23:31 UTC"},
		{"ko", 26 * time.Hour, "2026년 5월 7일 23:31 UTC"},
		{"ar", 26 * time.Hour, "07/05/2026، 23:31 UTC"},
		{"hi", 40 * 24 * time.Hour, "15/06/2026, 21:31 UTC"},
		{"en", 86400 * time.Second, "7 May 2026, 21:31 UTC"},
	}
	for _, tt := range tests {
		if got := string(appendRetryAt(nil, loc(tt.lang), now, tt.d)); got != tt.want {
			t.Errorf("%s, in %v: %q, want %q", tt.lang, tt.d, got, tt.want)
		}
	}
	// Every language writes a date that differs from the time alone and
	// holds the day, the month and the year.
	for _, l := range p.locales {
		got := string(appendRetryAt(nil, l, now, 30*24*time.Hour))
		if !strings.Contains(got, "2026") || !strings.Contains(got, "5") || !strings.Contains(got, "21:31 UTC") {
			t.Errorf("%s: %q lacks the date or the time", l.tag, got)
		}
	}
}

// TestRetryAfterToldAsItIs checks that a Retry-After already set on the
// response is shown as it is, with its date when it is not today, and not
// capped to an hour; only beyond gatewayerr.MaxStatedRetryAfter, to that.
func TestRetryAfterToldAsItIs(t *testing.T) {
	now := time.Date(2026, 5, 6, 21, 30, 0, 0, time.UTC)
	p := newPages(t, Config{Now: func() time.Time { return now }})
	// Twice each, so that the second is served from the cache.
	for _, tt := range []struct {
		header, lang, want string
	}{
		{"86400", "en", "7 May 2026, 21:30 UTC"},
		{"86400", "de", "07.05.2026, 21:30 UTC"},
		{"Thu, 07 May 2026 09:00:00 GMT", "ja", "2026年5月7日 09:00 UTC"},
		{"600", "en", "21:40:00 UTC"},
		{"600", "es", "Puedes volver a intentarlo después de las 21:40:00 UTC."},
		{"86400", "es", "Puedes volver a intentarlo a partir del 07/05/2026, 21:30 UTC."},
		{"86400", "fr", "Vous pourrez réessayer après le 07/05/2026 à 21:30 UTC."},
		{strconv.Itoa(int(gatewayerr.MaxStatedRetryAfter/time.Second) + 1), "en", "6 May 2027, 21:30 UTC"}, // a year at most
	} {
		for _, accept := range []string{"text/plain", "text/plain", "application/json"} {
			rec := httptest.NewRecorder()
			rec.Header().Set("Retry-After", tt.header)
			p.ServeStatus(rec, request("GET", "/", "Accept", accept, "Accept-Language", tt.lang), http.StatusServiceUnavailable)
			body := rec.Body.String()
			if got := rec.Header().Get("Retry-After"); got != tt.header {
				t.Errorf("Retry-After %q became %q", tt.header, got)
			}
			switch {
			case accept == "application/json" && tt.want != "":
				if d, _ := gatewayerr.ParseRetryAfter(tt.header, now); !strings.Contains(body, `"retry_after":`+strconv.Itoa(int(min(d, gatewayerr.MaxStatedRetryAfter)/time.Second))) {
					t.Errorf("%s: JSON lacks retry_after %v:\n%s", tt.header, d, body)
				}
			case accept == "application/json":
				if strings.Contains(body, "retry_after") {
					t.Errorf("%s: JSON tells a retry:\n%s", tt.header, body)
				}
			case tt.want != "" && !strings.Contains(body, tt.want):
				t.Errorf("%s in %s: page lacks %q:\n%s", tt.header, tt.lang, tt.want, body)
			case tt.want == "" && strings.Contains(body, "try again after"):
				t.Errorf("%s: page tells a retry time:\n%s", tt.header, body)
			}
		}
	}
}

// TestRetrySentenceAcrossMidnight serves the same page from one Pages
// before and across midnight: the cached page must switch to the dated
// sentence, and back.
func TestRetrySentenceAcrossMidnight(t *testing.T) {
	var now time.Time
	p := newPages(t, Config{Now: func() time.Time { return now }, RefreshLimit: 15 * time.Minute})
	for _, tt := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 5, 6, 21, 30, 0, 0, time.UTC), "después de las 21:40:00 UTC"},
		{time.Date(2026, 5, 6, 23, 55, 0, 0, time.UTC), "a partir del 07/05/2026, 00:05 UTC"},
		{time.Date(2026, 5, 7, 0, 5, 0, 0, time.UTC), "después de las 00:15:00 UTC"},
		{time.Date(2026, 5, 7, 23, 59, 59, 0, time.UTC), "a partir del 08/05/2026, 00:10 UTC"},
	} {
		now = tt.now
		for _, method := range []string{"POST", "GET"} { // without and with refresh
			rec := httptest.NewRecorder()
			p.ServeError(rec, request(method, "/", "Accept", "text/html", "Accept-Language", "es"), &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: 10 * time.Minute})
			want := tt.want
			if method == "GET" {
				want = strings.Replace(strings.Replace(want, "Puedes volver a intentarlo ", "", 1), "después de las", "a las", 1)
				want = strings.Replace(want, "a partir del", "sola el", 1)
			}
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("%s at %s: page lacks %q", method, tt.now.Format(time.TimeOnly), want)
			}
		}
	}
}
