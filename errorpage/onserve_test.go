package errorpage

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// TestOnServe checks that Config.OnServe hears of every page written, with
// its status, kind and format, and of nothing when nothing is written.
func TestOnServe(t *testing.T) {
	type served struct {
		Status int
		Kind   string // "" for a page served by status
		Format string
		Same   bool // the request given is the one served
	}
	var got []served
	var current *http.Request
	p := newPages(t, Config{OnServe: func(s ServedPage) {
		k := ""
		if s.Err != nil {
			k = s.Err.Kind.String()
		}
		got = append(got, served{s.Status, k, s.Format.String(), s.Request == current})
	}})
	gone, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name  string
		req   *http.Request
		serve func(w http.ResponseWriter, r *http.Request)
		want  []served
	}{
		{
			name:  "error, html",
			req:   request(http.MethodGet, "/", "Accept", "text/html"),
			serve: func(w http.ResponseWriter, r *http.Request) { p.ServeError(w, r, gatewayerr.ConnectionRefused) },
			want:  []served{{502, "connection_refused", "html", true}},
		},
		{
			name:  "error, problem+json, HEAD",
			req:   request(http.MethodHead, "/", "Accept", "application/problem+json"),
			serve: func(w http.ResponseWriter, r *http.Request) { p.ServeError(w, r, gatewayerr.ConnectionTimeout) },
			want:  []served{{504, "connection_timeout", "problem+json", true}},
		},
		{
			name:  "status, text",
			req:   request(http.MethodGet, "/", "Accept", "text/plain"),
			serve: func(w http.ResponseWriter, r *http.Request) { p.ServeStatus(w, r, http.StatusNotFound) },
			want:  []served{{404, "", "text", true}},
		},
		{
			name:  "nil error",
			req:   request(http.MethodGet, "/", "Accept", "application/json"),
			serve: func(w http.ResponseWriter, r *http.Request) { p.ServeError(w, r, nil) },
			want:  []served{{500, "", "json", true}},
		},
		{
			name: "client gone",
			req:  request(http.MethodGet, "/").WithContext(gone),
			serve: func(w http.ResponseWriter, r *http.Request) {
				p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ClientClosedRequest, Err: errors.New("gone")})
			},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, current = nil, tt.req
			tt.serve(httptest.NewRecorder(), tt.req)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("OnServe calls (-want +got):\n%s", diff)
			}
		})
	}
}
