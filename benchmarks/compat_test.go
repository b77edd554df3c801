package benchmarks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"go.uber.org/goleak"

	"github.com/gatehouse-go/gatehouse/middleware"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestChiRouter checks that Handler works as chi middleware, after chi's own
// WrapResponseWriter, over a real loopback connection.
func TestChiRouter(t *testing.T) {
	r := chi.NewRouter()
	r.Use(chimw.RequestID)
	r.Use(middleware.Handler(middleware.Options{}))
	r.Get("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	r.Get("/bad", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream said no", http.StatusBadGateway)
	})
	r.Get("/sse", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through chi: %v", err)
		}
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	for _, tt := range []struct {
		path       string
		wantStatus int
		wantBody   string // "" when the branded page replaces the body
	}{
		{"/ok", 200, "ok"},
		{"/panic", 500, ""},
		{"/bad", 502, ""},
		{"/sse", 200, ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+tt.path, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if tt.wantStatus >= 500 && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("the %d is not the branded page: %q", resp.StatusCode, body)
			}
		})
	}
}
