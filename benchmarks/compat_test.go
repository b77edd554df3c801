package benchmarks

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/mux"
	"github.com/justinas/alice"
	"go.uber.org/goleak"

	"github.com/gatehouse-go/gatehouse/middleware"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRouters checks that Handler works as ordinary middleware in the
// routers and chains people use: a plain ServeMux, chi (after chi's own
// WrapResponseWriter), gorilla/mux and an alice chain, over a real loopback
// connection.
func TestRouters(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
	boom := func(w http.ResponseWriter, r *http.Request) { panic("boom") }
	bad := func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream said no", http.StatusBadGateway)
	}
	flush := func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through %s: %v", r.Header.Get("X-Router"), err)
		}
	}
	gatehouse := middleware.Handler(middleware.Options{})

	routers := map[string]func() http.Handler{
		"servemux": func() http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /ok", ok)
			mux.HandleFunc("GET /panic", boom)
			mux.HandleFunc("GET /bad", bad)
			mux.HandleFunc("GET /sse", flush)
			return gatehouse(mux)
		},
		"chi": func() http.Handler {
			r := chi.NewRouter()
			r.Use(chimw.RequestID)
			r.Use(gatehouse)
			r.Get("/ok", ok)
			r.Get("/panic", boom)
			r.Get("/bad", bad)
			r.Get("/sse", flush)
			return r
		},
		"gorilla/mux": func() http.Handler {
			r := mux.NewRouter()
			r.Use(gatehouse)
			r.HandleFunc("/ok", ok).Methods(http.MethodGet)
			r.HandleFunc("/panic", boom).Methods(http.MethodGet)
			r.HandleFunc("/bad", bad).Methods(http.MethodGet)
			r.HandleFunc("/sse", flush).Methods(http.MethodGet)
			return r
		},
		"alice": func() http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /ok", ok)
			mux.HandleFunc("GET /panic", boom)
			mux.HandleFunc("GET /bad", bad)
			mux.HandleFunc("GET /sse", flush)
			return alice.New(chimw.RequestID, gatehouse, chimw.NoCache).Then(mux)
		},
	}

	for name, build := range routers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(build())
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
					req.Header.Set("X-Router", name)
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
					if tt.wantStatus >= 500 {
						if resp.Header.Get("Cache-Control") != "no-store" || strings.Contains(string(body), "upstream said no") || strings.Contains(string(body), "boom") {
							t.Errorf("the %d is not the branded page: %q", resp.StatusCode, body)
						}
					}
				})
			}
		})
	}
}
