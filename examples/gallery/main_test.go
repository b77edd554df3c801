package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestEveryVariant renders what the gallery can show: every subject, in
// every language and format, with and without debug details.
func TestEveryVariant(t *testing.T) {
	pages := errorpage.Default()
	for _, s := range subjects() {
		for _, lang := range errorpage.Languages() {
			for _, f := range formats {
				for _, debug := range []string{"", "1"} {
					q := url.Values{"what": {s.Key}, "lang": {lang}, "format": {f.String()}, "debug": {debug}}
					var body bytes.Buffer
					if err := pages.Render(&body, sampleOf(q)); err != nil || body.Len() == 0 {
						t.Errorf("%s: %d bytes, %v", q.Encode(), body.Len(), err)
					}
				}
			}
		}
	}
}

func TestSampleOf(t *testing.T) {
	tests := []struct {
		query      string
		wantStatus int // of the sample, or of its error
		wantFormat errorpage.Format
	}{
		{"what=status:503&format=text", 503, errorpage.Text},
		{"what=kind:connection_timeout&format=problem%2Bjson", 504, errorpage.ProblemJSON},
		{"what=kind:no_such_kind", 502, errorpage.HTML},
		{"what=status:200", 502, errorpage.HTML},
		{"", 502, errorpage.HTML},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			s := sampleOf(q)
			status := s.Status
			if s.Err != nil {
				status = gatewayerr.Classify(s.Err).StatusCode()
			}
			if status != tt.wantStatus || s.Format != tt.wantFormat {
				t.Errorf("sampleOf(%q) = status %d format %v, want %d %v", tt.query, status, s.Format, tt.wantStatus, tt.wantFormat)
			}
		})
	}
}

func TestGallery(t *testing.T) {
	srv := httptest.NewServer(newGallery(errorpage.Default()))
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}

	// All languages: three frames each (light, dark, mobile).
	resp, body := get("/?what=kind:connection_refused")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if got, want := strings.Count(body, "<iframe"), 3*len(errorpage.Languages()); got != want {
		t.Errorf("%d frames, want %d", got, want)
	}
	// One language: its three frames and the other formats.
	_, body = get("/?what=status:503&lang=ar")
	if got := strings.Count(body, "<iframe"); got != 3 {
		t.Errorf("%d frames for one language, want 3", got)
	}
	for _, f := range []string{"problem+json", "json", "text"} {
		if !strings.Contains(body, "<h3>"+strings.ReplaceAll(f, "+", "&#43;")+"</h3>") {
			t.Errorf("gallery lacks the %s sample", f)
		}
	}

	for _, f := range formats {
		resp, body := get("/render?what=kind:dns_error&lang=de&format=" + url.QueryEscape(f.String()))
		if ct := resp.Header.Get("Content-Type"); ct != f.ContentType() {
			t.Errorf("format %s: Content-Type = %q, want %q", f, ct, f.ContentType())
		}
		if body == "" {
			t.Errorf("format %s: empty page", f)
		}
	}
	// Debug details appear only when asked for.
	if _, body := get("/render?what=kind:dns_error&format=text"); strings.Contains(body, "orders.internal") {
		t.Errorf("page shows the sample upstream without debug:\n%s", body)
	}
	if _, body := get("/render?what=kind:dns_error&format=text&debug=1"); !strings.Contains(body, "orders.internal") {
		t.Errorf("debug page lacks the sample upstream:\n%s", body)
	}
}

func TestRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &stdout, &stderr) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}
