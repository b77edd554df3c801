package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCustomTemplates(t *testing.T) {
	pages, err := newPages()
	if err != nil {
		t.Fatalf("newPages: %v", err)
	}
	srv := httptest.NewServer(newHandler(pages))
	defer srv.Close()

	tests := []struct {
		path, accept, lang string
		status             int
		want, notWant      []string // in the body
	}{
		{
			path: "/maintenance", accept: "text/html", lang: "de", status: 503,
			want: []string{`aria-label="Acme Shop"`, "Der Laden ist kurz wegen eines Umbaus geschlossen", "Acme Shop Ltd."},
		},
		{
			path: "/maintenance", accept: "text/html", lang: "fr", status: 503,
			// French has no override: the embedded French copy, with
			// the custom header and footer.
			want:    []string{`aria-label="Acme Shop"`, "Acme Shop Ltd."},
			notWant: []string{"The shop is closed", "Der Laden"},
		},
		{
			path: "/refused", accept: "text/html", lang: "en", status: 502,
			want:    []string{`aria-label="Acme Shop"`, "refused the connection", "status.acme.example"},
			notWant: []string{"The shop is closed"},
		},
		{
			path: "/refused", accept: "text/plain", lang: "en", status: 502,
			want: []string{"refused the connection", "Acme Shop Ltd. Status page: https://status.acme.example"},
		},
		{
			path: "/missing", accept: "text/html", lang: "en", status: 404,
			want: []string{`aria-label="Acme Shop"`, "Acme Shop Ltd."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept+" "+tt.lang, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			req.Header.Set("Accept", tt.accept)
			req.Header.Set("Accept-Language", tt.lang)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Content-Language"); got != tt.lang {
				t.Errorf("Content-Language = %q, want %q", got, tt.lang)
			}
			for _, s := range tt.want {
				if !strings.Contains(string(body), s) {
					t.Errorf("page lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(string(body), s) {
					t.Errorf("page has %q:\n%s", s, body)
				}
			}
		})
	}
}
