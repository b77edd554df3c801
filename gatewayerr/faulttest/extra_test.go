package faulttest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEarlyResponse(t *testing.T) {
	t.Run("small body", func(t *testing.T) {
		s := EarlyResponse(t)
		r := roundTrip(t, s.Transport(), s.URL, strings.NewReader("small body"), 3*time.Second)
		if r.rtErr != nil || r.status != http.StatusRequestEntityTooLarge || r.body != "too large" {
			t.Fatalf("got %+v, want 413 \"too large\"", r)
		}
	})
	t.Run("large body", func(t *testing.T) {
		s := EarlyResponse(t)
		r := roundTrip(t, s.Transport(), s.URL, io.LimitReader(zeros{}, 64<<20), 3*time.Second)
		if r.rtErr == nil {
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("got %+v, want 413 or a write error", r)
			}
			return
		}
		if !isAny(r.rtErr, syscall.ECONNRESET, syscall.EPIPE) {
			t.Fatalf("RoundTrip error = %v, want ECONNRESET or EPIPE (or a 413)", r.rtErr)
		}
	})
}

func TestCloseOnReuse(t *testing.T) {
	tests := []struct {
		method       string
		body         string
		wantStatus   int
		wantErr      error
		wantRequests int
	}{
		{method: http.MethodGet, wantStatus: http.StatusOK, wantRequests: 3},
		{method: http.MethodPost, body: "payload", wantErr: io.EOF, wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			s := CloseOnReuse(t)
			tr := s.Transport()
			var body func() io.Reader = func() io.Reader { return nil }
			if tt.body != "" {
				body = func() io.Reader { return strings.NewReader(tt.body) }
			}
			// The first round trip opens the connection; the second reuses it.
			first := roundTrip(t, tr, s.URL, body(), 3*time.Second)
			if first.rtErr != nil || first.status != http.StatusOK {
				t.Fatalf("first round trip: %+v, want 200", first)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tt.method, s.URL, body())
			if err != nil {
				t.Fatal(err)
			}
			req.GetBody = nil // not replayable, whatever NewRequest set
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				if tt.wantErr != nil || resp.StatusCode != tt.wantStatus {
					t.Fatalf("second round trip: %d, want %d / %v", resp.StatusCode, tt.wantStatus, tt.wantErr)
				}
			} else if tt.wantErr == nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("second round trip error = %v, want %v", err, tt.wantErr)
			}
			if got := s.Requests(); got != tt.wantRequests {
				t.Errorf("Requests() = %d, want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestBadUpgrade(t *testing.T) {
	s := BadUpgrade(t)
	tr := s.Transport()

	t.Run("Transport", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, ok := resp.Body.(io.ReadWriteCloser); resp.StatusCode != http.StatusSwitchingProtocols || !ok || resp.Header.Get("Upgrade") != "not-websocket" {
			t.Errorf("got %d, Upgrade %q, body %T; want 101 not-websocket with a ReadWriteCloser", resp.StatusCode, resp.Header.Get("Upgrade"), resp.Body)
		}
	})
	t.Run("ReverseProxy", func(t *testing.T) {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		var gotErr error
		rp := &httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
			Transport: tr,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				gotErr = err
				w.WriteHeader(http.StatusBadGateway)
			},
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://gateway.test/", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, req)
		const want = `backend tried to switch protocol "not-websocket" when "websocket" was requested`
		if rec.Code != http.StatusBadGateway || gotErr == nil || gotErr.Error() != want {
			t.Errorf("got %d, error %v; want 502, %q", rec.Code, gotErr, want)
		}
	})
}
