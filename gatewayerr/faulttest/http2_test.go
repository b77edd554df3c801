package faulttest

//lint:file-ignore SA1019 the faults are also tested through x/net/http2's own (deprecated) Transport and its GoAwayError, which some clients still use

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

func TestHTTP2Faults(t *testing.T) {
	transports := []struct {
		name string
		make func(*Server) http.RoundTripper
	}{
		{"net/http", func(s *Server) http.RoundTripper { return s.Transport() }},
		{"x/net/http2", func(s *Server) http.RoundTripper { return xnetTransport(s) }},
	}
	tests := []struct {
		name    string
		start   func(testing.TB) *Server
		timeout time.Duration
		check   func(t *testing.T, transport string, s *Server, r result)
	}{
		{
			name:  "H2RSTStream/INTERNAL_ERROR",
			start: func(t testing.TB) *Server { return H2RSTStream(t, http2.ErrCodeInternal) },
			check: func(t *testing.T, _ string, s *Server, r result) {
				var se http2.StreamError
				if !errors.As(r.rtErr, &se) || se.StreamID != 1 || se.Code != http2.ErrCodeInternal {
					t.Fatalf("RoundTrip error = %#v, want http2.StreamError{StreamID: 1, Code: INTERNAL_ERROR}", r.rtErr)
				}
				if got := s.Requests(); got != 1 {
					t.Errorf("Requests() = %d, want 1: a stream error is not retried", got)
				}
			},
		},
		{
			name:  "H2GoAway/INTERNAL_ERROR",
			start: func(t testing.TB) *Server { return H2GoAway(t, http2.ErrCodeInternal) },
			check: func(t *testing.T, transport string, s *Server, r result) {
				const text = `http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=INTERNAL_ERROR, debug="faulttest"`
				if r.rtErr == nil || r.rtErr.Error() != text {
					t.Fatalf("RoundTrip error = %v, want %q", r.rtErr, text)
				}
				var ge http2.GoAwayError
				gotAs := errors.As(r.rtErr, &ge)
				// Only x/net/http2's own type matches; net/http's bundled
				// copy has no As method.
				if wantAs := transport == "x/net/http2"; gotAs != wantAs {
					t.Errorf("errors.As(GoAwayError) = %v, want %v", gotAs, wantAs)
				}
				if gotAs && (ge.LastStreamID != 1 || ge.ErrCode != http2.ErrCodeInternal || ge.DebugData != "faulttest") {
					t.Errorf("GoAwayError = %+v", ge)
				}
				if got := s.Requests(); got != 1 {
					t.Errorf("Requests() = %d, want 1: a request at or below LastStreamID is not retried", got)
				}
			},
		},
		{
			name:  "H2SpeaksHTTP1",
			start: func(t testing.TB) *Server { return H2SpeaksHTTP1(t) },
			check: func(t *testing.T, transport string, s *Server, r result) {
				const text = "http2: failed reading the frame payload: http2: frame too large, note that the frame header looked like an HTTP/1.1 header"
				if r.rtErr == nil || r.rtErr.Error() != text {
					t.Fatalf("RoundTrip error = %v, want %q", r.rtErr, text)
				}
				if is, want := errors.Is(r.rtErr, http2.ErrFrameTooLarge), transport == "x/net/http2"; is != want {
					t.Errorf("errors.Is(ErrFrameTooLarge) = %v, want %v", is, want)
				}
			},
		},
		{
			name:  "H2BadFrame",
			start: func(t testing.TB) *Server { return H2BadFrame(t) },
			check: func(t *testing.T, transport string, s *Server, r result) {
				if r.rtErr == nil || r.rtErr.Error() != "connection error: PROTOCOL_ERROR" {
					t.Fatalf("RoundTrip error = %v, want connection error: PROTOCOL_ERROR", r.rtErr)
				}
				var ce http2.ConnectionError
				gotAs := errors.As(r.rtErr, &ce)
				if wantAs := transport == "x/net/http2"; gotAs != wantAs {
					t.Errorf("errors.As(ConnectionError) = %v, want %v", gotAs, wantAs)
				}
				if gotAs && http2.ErrCode(ce) != http2.ErrCodeProtocol {
					t.Errorf("ConnectionError = %v, want PROTOCOL_ERROR", ce)
				}
				if got := s.Requests(); got != 1 {
					t.Errorf("Requests() = %d, want 1", got)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, tr := range transports {
			t.Run(tt.name+"/"+tr.name, func(t *testing.T) {
				s := tt.start(t)
				timeout := tt.timeout
				if timeout == 0 {
					timeout = 3 * time.Second
				}
				tt.check(t, tr.name, s, roundTrip(t, tr.make(s), s.URL, nil, timeout))
			})
		}
	}
}

// TestHTTP2RefusedStreamRetried checks that REFUSED_STREAM makes both
// transports retry, so that only the caller's context ends the round trip.
func TestHTTP2RefusedStreamRetried(t *testing.T) {
	transports := []struct {
		name string
		make func(*Server) http.RoundTripper
	}{
		{"net/http", func(s *Server) http.RoundTripper { return s.Transport() }},
		{"x/net/http2", func(s *Server) http.RoundTripper { return xnetTransport(s) }},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := H2RSTStream(t, http2.ErrCodeRefusedStream)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			reqCtx, cancelReq := context.WithCancel(ctx)
			defer cancelReq()
			req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				resp, err := tr.make(s).RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			if err := s.WaitRequests(ctx, 2); err != nil {
				t.Fatalf("the request was not retried: %d requests", s.Requests())
			}
			cancelReq()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("RoundTrip error = %v, want context.Canceled: the transport retries until the caller gives up", err)
			}
		})
	}
}

// TestHTTP2NeedsALPN pins the documented limit: a client that does not
// offer h2 is hung up on after the handshake.
func TestHTTP2NeedsALPN(t *testing.T) {
	s := H2RSTStream(t, http2.ErrCodeInternal)
	tr := s.Transport()
	tr.ForceAttemptHTTP2 = false
	r := roundTrip(t, tr, s.URL, nil, 3*time.Second)
	if r.rtErr == nil || s.Requests() != 0 {
		t.Fatalf("got %+v with %d requests, want an error and none", r, s.Requests())
	}
	if strings.Contains(r.rtErr.Error(), "stream error") {
		t.Errorf("RoundTrip error = %v, want a connection error", r.rtErr)
	}
}

// xnetTransport returns a golang.org/x/net/http2 transport set up to reach
// s over TLS, for the faults' errors through x/net's own HTTP/2 client (which
// x/net deprecates in favour of net/http's, and some clients still use).
func xnetTransport(s *Server) *http2.Transport {
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: s.RootCAs}}
	s.tb.Cleanup(tr.CloseIdleConnections)
	return tr
}
