package errorpage

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestSharedTimesFollowEachPage renders, on one Pages, a sequence of pages
// whose times and retry moments are alike in some ways and differ in others
// (the same second or not, the same moment in another language, another
// precision, a dated moment), and checks each against the same page
// rendered by a Pages of its own, whose shared times are cleared first: the
// formatted times a Pages keeps from the page before never stand in for
// another page's.
func TestSharedTimesFollowEachPage(t *testing.T) {
	base := time.Date(2026, 5, 7, 23, 58, 30, 100, time.UTC)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	samples := []Sample{
		{Time: base, RetryAfter: 20 * time.Second},
		{Time: at(800 * time.Millisecond), RetryAfter: 20 * time.Second}, // the same second and moment
		{Time: at(900 * time.Millisecond), RetryAfter: 19 * time.Second}, // the same moment, rounded up
		{Time: at(time.Second), RetryAfter: 20 * time.Second},            // the next second
		{Time: at(time.Second), RetryAfter: 20 * time.Second, Language: "de"},
		{Time: at(time.Second), RetryAfter: 2 * time.Hour, Language: "ar"}, // to the minute, tomorrow
		{Time: at(time.Second), RetryAfter: 2 * time.Hour, Language: "de"}, // the same moment in another language
		{Time: at(time.Second), RetryAfter: 2 * time.Hour},
		{Time: at(-24 * time.Hour), RetryAfter: 20 * time.Second},                // a day earlier, same time of day
		{Time: base.In(time.FixedZone("x", 3600)), RetryAfter: 20 * time.Second}, // another zone, the same instant
		// The same moment at another precision: 23:59:00, then 23:59.
		{Time: time.Date(2026, 5, 7, 23, 58, 0, 5e8, time.UTC), RetryAfter: 59500 * time.Millisecond},
		{Time: time.Date(2026, 5, 7, 22, 58, 30, 0, time.UTC), RetryAfter: time.Hour + 30*time.Second},
		// The same moment told as today, then with its date: 01:30 on the 8th.
		{Time: time.Date(2026, 5, 8, 0, 20, 0, 0, time.UTC), RetryAfter: 70 * time.Minute},
		{Time: time.Date(2026, 5, 7, 23, 50, 0, 0, time.UTC), RetryAfter: 100 * time.Minute},
		{Time: base},
	}
	shared, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Twice: the first time a page is cached, New's probes render it with
	// times of their own, which the second time does not do.
	for pass := range 2 {
		for _, format := range []Format{HTML, Text} { // the formats rendered from templates
			for i, s := range samples {
				s.Format, s.RequestID, s.Err = format, "req-1", &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable}
				own, err := New(Config{})
				if err != nil {
					t.Fatal(err)
				}
				own.stamp.Store(nil) // New's checks rendered pages too
				own.lastRetry.Store(nil)
				var got, want bytes.Buffer
				if err := shared.Render(&got, s); err != nil {
					t.Fatal(err)
				}
				if st := shared.stamp.Load(); st == nil || st.unix != s.Time.Unix() {
					t.Fatalf("%s, sample %d: the page was not served from the cache of rendered pages", format, i)
				}
				if err := own.Render(&want, s); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("pass %d, %s, sample %d: the page differs from the one a new Pages renders:\n%s\nwant:\n%s", pass, format, i, got.Bytes(), want.Bytes())
				}
			}
		}
	}
}

// TestRetryAfterValues serves pages with the same and with other delays on
// one Pages: each response states its own, and a value shared by two
// responses is never changed under the first by the second.
func TestRetryAfterValues(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var headers []http.Header
	delays := []time.Duration{30 * time.Second, 30 * time.Second, 1500 * time.Millisecond, 2 * time.Second, 120 * time.Second, 30 * time.Second}
	want := []string{"30", "30", "2", "2", "120", "30"}
	for _, d := range delays {
		rec := httptest.NewRecorder()
		p.ServeError(rec, httptest.NewRequest(http.MethodGet, "/", nil), &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: d})
		headers = append(headers, rec.Header())
	}
	for i, h := range headers {
		if got := h.Values("Retry-After"); len(got) != 1 || got[0] != want[i] {
			t.Errorf("response %d (RetryAfter %v): Retry-After %q, want %q", i, delays[i], got, want[i])
		}
	}
}
