package errorpage

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares the default pages with the files in testdata/golden.
// Run "go test -run Golden -update" after changing a template or a
// message, and review the diff.
func TestGolden(t *testing.T) {
	p := newPages(t, Config{})
	branded := newPages(t, Config{Brand: Brand{
		Name:       "Acme Cloud",
		Logo:       `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#0b5cad"/></svg>`,
		HomeURL:    "https://acme.example/",
		SupportURL: "mailto:support@acme.example",
		StatusURL:  "https://status.acme.example/",
		Footer:     "© Acme Cloud Ltd.",
	}})
	refused := &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Upstream: "10.0.0.7:8080", Phase: gatewayerr.PhaseDial,
		Err: errors.New("dial tcp 10.0.0.7:8080: connect: connection refused"), Attempts: 2, RetryAfter: 30 * time.Second}
	chain := &gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: 502, Chain: []gatewayerr.ProxyStatus{
		{Proxy: "origin-lb"}, {Proxy: "edge-fra", Kind: gatewayerr.ConnectionTimeout, Error: "connection_timeout"}}}
	maint := &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: ErrMaintenance}
	tests := []struct {
		file  string
		pages *Pages
		s     Sample
	}{
		{"502-refused.en.html", p, Sample{Err: refused}},
		{"502-refused.en.branded.html", branded, Sample{Err: refused}},
		{"502-refused.en.debug.html", p, Sample{Err: refused, Debug: true}},
		{"502-chain.en.html", p, Sample{Err: chain}},
		{"503-maintenance.fr.html", p, Sample{Status: 503, Language: "fr"}},
		{"504-timeout.ar.html", p, Sample{Err: gatewayerr.HTTPResponseTimeout, Language: "ar"}},
		{"500-internal.ja.html", p, Sample{Status: 500, Language: "ja"}},
		{"404.de.html", branded, Sample{Status: 404, Language: "de"}},
		{"502-refused.en.txt", branded, Sample{Err: refused, Format: Text}},
		{"502-refused.en.debug.txt", p, Sample{Err: refused, Format: Text, Debug: true}},
		{"502-refused.en.problem.json", p, Sample{Err: refused, Format: ProblemJSON, Path: "/orders/42"}},
		{"502-refused.en.debug.problem.json", p, Sample{Err: refused, Format: ProblemJSON, Debug: true}},
		{"503-upstream.de.html", p, Sample{Err: &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, ReceivedStatus: 503}, Language: "de"}},
		{"504-upstream.en.txt", p, Sample{Err: &gatewayerr.Error{Kind: gatewayerr.HTTPResponseTimeout, ReceivedStatus: 504}, Format: Text}},
		{"500-internal.en.txt", p, Sample{Status: 500, Format: Text}},
		{"503-unavailable.pt.json", p, Sample{Err: gatewayerr.DestinationUnavailable, Format: JSON, Language: "pt-BR", RetryAfter: time.Minute}},
		{"503-maintenance-refresh.en.html", p, Sample{Err: maint, RetryAfter: 3 * time.Minute}},
		{"503-maintenance-tomorrow.ar.html", p, Sample{Err: maint, RetryAfter: 26 * time.Hour, Language: "ar"}},
		{"503-maintenance-tomorrow.de.txt", p, Sample{Err: maint, RetryAfter: 26 * time.Hour, Language: "de", Format: Text}},
		{"503-maintenance.en.post.html", p, Sample{Err: maint, RetryAfter: 3 * time.Minute, Method: "POST"}},
		{"502-loop.en.debug.txt", p, Sample{Err: gatewayerr.ProxyLoopDetected, Format: Text, Debug: true}},
		{"502-reset.en.txt", p, Sample{Err: gatewayerr.ConnectionTerminated, Format: Text}},
		{"502-bad-cert.en.debug.txt", p, Sample{Err: gatewayerr.TLSCertificateError, Format: Text, Debug: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.s.RequestID = "4f1c2a9e-golden"
			tt.s.Time = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
			var got bytes.Buffer
			if err := tt.pages.Render(&got, tt.s); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}
