package faulttest

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wantRoundTripText is for the errors Go gives an unexported type: only
// their text identifies them.
func wantRoundTripText(substr string) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.rtErr == nil || !strings.Contains(r.rtErr.Error(), substr) {
			t.Fatalf("RoundTrip error = %v (status %d), want one containing %q", r.rtErr, r.status, substr)
		}
	}
}

func wantBodyErr(status int, body string, target error) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.rtErr != nil {
			t.Fatalf("RoundTrip error = %v, want a response", r.rtErr)
		}
		got := result{status: r.status, body: r.body}
		want := result{status: status, body: body}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("response mismatch (-want +got):\n%s", diff)
		}
		if !errors.Is(r.bodyErr, target) {
			t.Errorf("body error = %v, want %v", r.bodyErr, target)
		}
	}
}

func wantBodyText(status int, body string, substr string) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.rtErr != nil {
			t.Fatalf("RoundTrip error = %v, want a response", r.rtErr)
		}
		if r.status != status || r.body != body {
			t.Errorf("response = %d %q, want %d %q", r.status, r.body, status, body)
		}
		if r.bodyErr == nil || !strings.Contains(r.bodyErr.Error(), substr) {
			t.Errorf("body error = %v, want one containing %q", r.bodyErr, substr)
		}
	}
}

func wantOpErr(op string, errno syscall.Errno) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		var opErr *net.OpError
		if !errors.As(r.rtErr, &opErr) || opErr.Op != op || !errors.Is(r.rtErr, errno) {
			t.Fatalf("RoundTrip error = %#v (%v), want a *net.OpError %q wrapping %v", r.rtErr, r.rtErr, op, errno)
		}
	}
}

func TestHTTP1Faults(t *testing.T) {
	x100 := strings.Repeat("x", 100)
	tests := []struct {
		name    string
		start   func(testing.TB) *Server
		setup   func(*http.Transport) // optional
		body    io.Reader             // optional request body
		timeout time.Duration         // default 3s
		check   func(*testing.T, result)
	}{
		{name: "Refused", start: Refused, check: wantOpErr("dial", syscall.ECONNREFUSED)},
		{
			name:  "AcceptClose",
			start: AcceptClose,
			check: func(t *testing.T, r result) {
				// Which of these depends on whether the request reached the
				// server's kernel before its close; see AcceptClose.
				if !isAny(r.rtErr, io.EOF, syscall.ECONNRESET, syscall.EPIPE) &&
					(r.rtErr == nil || !strings.Contains(r.rtErr.Error(), "server closed idle connection")) {
					t.Fatalf("RoundTrip error = %v, want io.EOF, ECONNRESET, EPIPE or errServerClosedIdle", r.rtErr)
				}
			},
		},
		{name: "CloseBeforeHeaders", start: CloseBeforeHeaders, check: wantRoundTripErr(io.EOF)},
		{name: "ResetBeforeHeaders", start: ResetBeforeHeaders, check: wantOpErr("read", syscall.ECONNRESET)},
		{name: "ResetDuringHeaders", start: ResetDuringHeaders, check: wantRoundTripErr(io.ErrUnexpectedEOF, syscall.ECONNRESET)},
		{name: "ResetDuringBody", start: ResetDuringBody, check: wantBodyErr(200, x100, syscall.ECONNRESET)},
		{
			name: "StallHeaders", start: StallHeaders, timeout: 200 * time.Millisecond,
			check: wantRoundTripErr(context.DeadlineExceeded),
		},
		{
			name: "StallHeaders/ResponseHeaderTimeout", start: StallHeaders,
			setup: func(tr *http.Transport) { tr.ResponseHeaderTimeout = 200 * time.Millisecond },
			check: wantTimeout("timeout awaiting response headers", true),
		},
		{
			name: "StallAfterStatusLine", start: StallAfterStatusLine, timeout: 200 * time.Millisecond,
			check: wantRoundTripErr(context.DeadlineExceeded),
		},
		{
			name: "StallAfterStatusLine/ResponseHeaderTimeout", start: StallAfterStatusLine,
			setup: func(tr *http.Transport) { tr.ResponseHeaderTimeout = 200 * time.Millisecond },
			check: wantTimeout("timeout awaiting response headers", true),
		},
		{
			name: "StallBody", start: StallBody, timeout: 200 * time.Millisecond,
			check: wantBodyErr(200, x100, context.DeadlineExceeded),
		},
		{
			name: "StallErrorBody", start: func(t testing.TB) *Server { return StallErrorBody(t, 503) }, timeout: 200 * time.Millisecond,
			check: wantBodyErr(503, "", context.DeadlineExceeded),
		},
		{
			name: "ResetDuringUpload", start: ResetDuringUpload,
			body:  io.LimitReader(zeros{}, 64<<20),
			check: wantRoundTripErr(syscall.ECONNRESET, syscall.EPIPE, net.ErrClosed),
		},
		{
			name: "StallRead", start: StallRead, timeout: 300 * time.Millisecond,
			body:  io.LimitReader(zeros{}, 256<<20),
			check: wantRoundTripErr(context.DeadlineExceeded),
		},
		{name: "GarbageStatus", start: GarbageStatus, check: wantRoundTripText(`malformed HTTP response "SSH-2.0-OpenSSH_9.6"`)},
		{name: "ZeroStatus", start: ZeroStatus, check: func(t *testing.T, r result) {
			if r.rtErr != nil || r.bodyErr != nil || r.status != 0 || r.body != "ok" {
				t.Errorf("result = %+v, want status 0 and body \"ok\" without an error", r)
			}
		}},
		{
			name:  "OversizedHeaders",
			start: func(t testing.TB) *Server { return OversizedHeaders(t, 4096) },
			setup: func(tr *http.Transport) { tr.MaxResponseHeaderBytes = 1024 },
			check: wantRoundTripText("server response headers exceeded 1024 bytes"),
		},
		{name: "ShortBody", start: ShortBody, check: wantBodyErr(200, x100, io.ErrUnexpectedEOF)},
		{name: "BrokenChunking", start: BrokenChunking, check: wantBodyText(200, "hello", "invalid byte in chunk length")},
		{name: "LongTrailer", start: LongTrailer, check: wantBodyText(200, "hello", "http: suspiciously long trailer after chunked body")},
		{name: "BrokenGzip", start: BrokenGzip, check: wantBodyErr(200, "", gzip.ErrHeader)},
		{name: "BadContentLength", start: BadContentLength, check: wantRoundTripText("multiple Content-Length headers")},
		{name: "BadStatusLine", start: BadStatusLine, check: wantRoundTripText(`malformed HTTP status code "2OO"`)},
		{
			name: "StallChunkedBody", start: StallChunkedBody, timeout: 200 * time.Millisecond,
			check: wantBodyErr(200, "hello", context.DeadlineExceeded),
		},
		{name: "ShortChunkedBody", start: ShortChunkedBody, check: wantBodyErr(200, "hello", io.ErrUnexpectedEOF)},
		{
			name: "PlainToTLSHangUp", start: PlainToTLSHangUp,
			check: wantRoundTripErr(io.EOF, syscall.ECONNRESET),
		},
		{
			name: "H2CToHTTP1", start: H2CToHTTP1,
			check: func(t *testing.T, r result) {
				// The second text is a race that hides the cause; see H2CToHTTP1.
				if r.rtErr == nil || !strings.Contains(r.rtErr.Error(), "note that the frame header looked like an HTTP/1.1 header") &&
					!strings.Contains(r.rtErr.Error(), "http2: client conn could not be established") {
					t.Fatalf("RoundTrip error = %v (status %d), want an HTTP/1.1 answer read as a frame", r.rtErr, r.status)
				}
			},
		},
		{
			name: "UpstreamGateway", start: func(t testing.TB) *Server { return UpstreamGateway(t, Refused(t).URL) },
			check: func(t *testing.T, r result) {
				if r.rtErr != nil || r.bodyErr != nil || r.status != http.StatusBadGateway || r.body != "" {
					t.Errorf("result = %+v, want an empty 502", r)
				}
			},
		},
		{
			name: "Firewall", start: Firewall,
			setup: func(tr *http.Transport) { tr.DialContext = (&net.Dialer{Timeout: 200 * time.Millisecond}).DialContext },
			check: func(t *testing.T, r result) {
				var opErr *net.OpError
				if !errors.As(r.rtErr, &opErr) || opErr.Op != "dial" || !opErr.Timeout() {
					t.Fatalf("RoundTrip error = %v, want a dial *net.OpError that timed out", r.rtErr)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			tr := s.Transport()
			if tt.setup != nil {
				tt.setup(tr)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 3 * time.Second
			}
			tt.check(t, roundTrip(t, tr, s.URL, tt.body, timeout))
		})
	}
}

// TestBrokenGzipPassThrough pins the other half of BrokenGzip's contract:
// when the client asks for gzip itself, the transport returns the corrupt
// body untouched and reports no error.
func TestBrokenGzipPassThrough(t *testing.T) {
	s := BrokenGzip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := s.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if resp.Uncompressed || resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(string(b), "this body") {
		t.Errorf("got Uncompressed %v, Content-Encoding %q, body %q; want the raw body", resp.Uncompressed, resp.Header.Get("Content-Encoding"), b)
	}
}

func TestRequestsCounted(t *testing.T) {
	s := CloseBeforeHeaders(t)
	tr := s.Transport()
	for range 3 {
		if r := roundTrip(t, tr, s.URL, strings.NewReader("payload"), 3*time.Second); r.rtErr == nil {
			t.Fatalf("RoundTrip succeeded with status %d, want an error", r.status)
		}
	}
	if got := s.Requests(); got != 3 {
		t.Errorf("Requests() = %d, want 3", got)
	}
}

func TestCloseIsIdempotentAndEndsStalls(t *testing.T) {
	s := StallHeaders(t)
	tr := s.Transport()
	done := make(chan result, 1)
	go func() { done <- roundTrip(t, tr, s.URL, nil, 5*time.Second) }()
	// Wait until the server holds the request, then close it under the client.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := s.WaitRequests(ctx, 1); err != nil {
		t.Fatal("the request never reached the server")
	}
	s.Close()
	s.Close()
	r := <-done
	if r.rtErr == nil || errors.Is(r.rtErr, context.DeadlineExceeded) {
		t.Errorf("RoundTrip error = %v, want the connection's end, not a timeout", r.rtErr)
	}
}

func TestWaitRequests(t *testing.T) {
	s := StallHeaders(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.WaitRequests(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitRequests with no request = %v, want context.DeadlineExceeded", err)
	}
	if err := s.WaitRequests(ctx, 0); err != nil {
		t.Errorf("WaitRequests(0) = %v, want nil", err)
	}
}
