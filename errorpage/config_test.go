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
