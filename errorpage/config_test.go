package errorpage

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestRequestIDHeaderValidated(t *testing.T) {
	for _, h := range []string{"Bad Header\r\n", "X-ID\n", "X ID", "X:ID", "X-ID\x00", "(x)"} {
		if _, err := New(Config{RequestIDHeader: h}); err == nil || !strings.Contains(err.Error(), "RequestIDHeader") {
			t.Errorf("New(RequestIDHeader %q): %v; want an error about RequestIDHeader", h, err)
		}
	}
	p := newPages(t, Config{RequestIDHeader: "x-correlation-id"})
	rec := httptest.NewRecorder()
	p.ServeStatus(rec, request("GET", "/", "X-Correlation-ID", "corr-1"), 502)
	if !strings.Contains(rec.Body.String(), "corr-1") {
		t.Errorf("page lacks the ID from X-Correlation-ID:\n%.300s", rec.Body)
	}
}

func TestProblemTypeBase(t *testing.T) {
	tests := []struct{ base, want string }{
		{"https://ex.com/p", "https://ex.com/p/connection_refused"},
		{"https://ex.com/p/", "https://ex.com/p/connection_refused"},
		{"https://ex.com", "https://ex.com/connection_refused"},
		{"https://ex.com/", "https://ex.com/connection_refused"},
		{"http://ex.com:8080/a/b", "http://ex.com:8080/a/b/connection_refused"},
	}
	for _, tt := range tests {
		p := newPages(t, Config{ProblemTypeBase: tt.base})
		var b strings.Builder
		if err := p.Render(&b, Sample{Err: gatewayerr.ConnectionRefused, Format: ProblemJSON}); err != nil {
			t.Fatal(err)
		}
		var doc struct{ Type string }
		if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, doc.Type); diff != "" {
			t.Errorf("ProblemTypeBase %q: type (-want +got):\n%s", tt.base, diff)
		}
	}
	for _, base := range []string{"ftp://x", "/problems/", "https://ex.com/p?x=1", "https://ex.com/p#f", "https:///p", "https://ex.com/p\n"} {
		if _, err := New(Config{ProblemTypeBase: base}); err == nil {
			t.Errorf("New accepted ProblemTypeBase %q", base)
		}
	}
}

// TestConfigRejects checks values New must refuse, each with an error
// naming the field.
func TestConfigRejects(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"request ID in Content-Type", Config{RequestIDHeader: "content-type"}, "RequestIDHeader"},
		{"request ID in Vary", Config{RequestIDHeader: "Vary"}, "RequestIDHeader"},
		{"request ID in Set-Cookie", Config{RequestIDHeader: "Set-Cookie"}, "RequestIDHeader"},
		{"request ID in Location", Config{RequestIDHeader: "Location"}, "RequestIDHeader"},
		{"problem base with a space", Config{ProblemTypeBase: "https://example.com/ p"}, "ProblemTypeBase"},
		{"problem base with a quote", Config{ProblemTypeBase: `https://example.com/"x`}, "ProblemTypeBase"},
		{"problem base with a backslash", Config{ProblemTypeBase: `https://example.com/\x`}, "ProblemTypeBase"},
		{"problem base not ASCII", Config{ProblemTypeBase: "https://example.com/é"}, "ProblemTypeBase"},
		{"problem base with a line separator", Config{ProblemTypeBase: "https://example.com/\u2028"}, "ProblemTypeBase"},
		{"name with ESC", Config{Brand: Brand{Name: "Acme\x1b[31m"}}, "Name"},
		{"name with NEL", Config{Brand: Brand{Name: "Acme\u0085"}}, "Name"},
		{"footer with a line separator", Config{Brand: Brand{Footer: "a\u2028b"}}, "Footer"},
		{"status link too long", Config{Brand: Brand{StatusURL: "https://status.example.com/" + strings.Repeat("a", 2048)}}, "StatusURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("New error %v, want one naming %s", err, tt.field)
			}
		})
	}
	for _, cfg := range []Config{
		{RequestIDHeader: "X-Correlation-ID"},
		{ProblemTypeBase: "https://example.com/problems/%C3%A9t%C3%A9"},
		{Brand: Brand{Name: "Acme — Ünïcode ✓", Footer: "© 2026 Acme"}},
	} {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}
