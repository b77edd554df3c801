package middleware

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// closeCounter is a request body that counts its Close calls and reads.
type closeCounter struct {
	io.Reader
	reads  atomic.Int32
	closes atomic.Int32
}

func (c *closeCounter) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.Reader.Read(p)
}

func (c *closeCounter) Close() error {
	c.closes.Add(1)
	return nil
}

func TestTransportRoundTripErrors(t *testing.T) {
	tests := []struct {
		name   string
		server func(testing.TB) *faulttest.Server
		base   func(*faulttest.Server) *http.Transport
		kind   gatewayerr.Kind
		phase  gatewayerr.Phase
		sent   bool
	}{
		{"refused", faulttest.Refused, nil, gatewayerr.ConnectionRefused, gatewayerr.PhaseDial, false},
		{"reset before headers", faulttest.ResetBeforeHeaders, nil, gatewayerr.ConnectionTerminated, gatewayerr.PhaseAwaitHeaders, true},
		{"close before headers", faulttest.CloseBeforeHeaders, nil, gatewayerr.ConnectionTerminated, gatewayerr.PhaseAwaitHeaders, true},
		{"garbage status", faulttest.GarbageStatus, nil, gatewayerr.HTTPProtocolError, gatewayerr.PhaseReadHeaders, true},
		{"status 000", faulttest.ZeroStatus, nil, gatewayerr.HTTPProtocolError, gatewayerr.PhaseReadHeaders, true},
		{"stall headers", faulttest.StallHeaders, func(s *faulttest.Server) *http.Transport {
			tr := s.Transport()
			tr.ResponseHeaderTimeout = 50 * time.Millisecond
			return tr
		}, gatewayerr.HTTPResponseTimeout, gatewayerr.PhaseAwaitHeaders, true},
		{"oversized headers", func(t testing.TB) *faulttest.Server { return faulttest.OversizedHeaders(t, 8<<10) }, func(s *faulttest.Server) *http.Transport {
			tr := s.Transport()
			tr.MaxResponseHeaderBytes = 1 << 10
			return tr
		}, gatewayerr.HTTPResponseHeaderSectionSize, gatewayerr.PhaseReadHeaders, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.server(t)
			base := s.Transport()
			if tt.base != nil {
				base = tt.base(s)
			}
			var reported []*gatewayerr.Error
			tr := &Transport{Base: base, OnError: func(r *http.Request, err *gatewayerr.Error) {
				reported = append(reported, err)
			}}
			body := &closeCounter{Reader: strings.NewReader("payload")}
			req := newRequest(t, http.MethodPost, s.URL+"/path", body)
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
				t.Fatalf("RoundTrip returned a response %d, want an error", resp.StatusCode)
			}
			e := wantError(t, err, tt.kind)
			got := struct {
				Phase    gatewayerr.Phase
				Upstream string
				Attempts int
				Sent     bool
			}{e.Phase, e.Upstream, e.Attempts, e.RequestSent()}
			want := got
			want.Phase, want.Upstream, want.Attempts, want.Sent = tt.phase, s.Addr, 1, tt.sent
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
			if n := body.closes.Load(); n < 1 {
				t.Errorf("request body closed %d times, want at least once", n)
			}
			if len(reported) != 1 || reported[0] != e {
				t.Errorf("OnError got %v, want the returned error once", reported)
			}
		})
	}
}

func TestTransportBodyErrors(t *testing.T) {
	tests := []struct {
		name   string
		server func(testing.TB) *faulttest.Server
		kind   gatewayerr.Kind
	}{
		{"reset during body", faulttest.ResetDuringBody, gatewayerr.HTTPResponseIncomplete},
		{"short body", faulttest.ShortBody, gatewayerr.HTTPResponseIncomplete},
		{"broken chunking", faulttest.BrokenChunking, gatewayerr.HTTPResponseTransferCoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.server(t)
			var reported atomic.Int32
			tr := &Transport{Base: s.Transport(), OnError: func(*http.Request, *gatewayerr.Error) { reported.Add(1) }}
			resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
			if err != nil {
				t.Fatalf("RoundTrip: %v, want a response", err)
			}
			defer resp.Body.Close()
			_, err = io.ReadAll(resp.Body)
			e := wantError(t, err, tt.kind)
			if e.Phase != gatewayerr.PhaseReadBody || e.Upstream != s.Addr || e.ReceivedStatus != http.StatusOK {
				t.Errorf("body error %+v, want phase read_body, upstream %s, received status 200", e, s.Addr)
			}
			// The error sticks.
			if _, again := resp.Body.Read(make([]byte, 1)); again != err {
				t.Errorf("second Read error = %v, want %v", again, err)
			}
			if n := reported.Load(); n != 1 {
				t.Errorf("OnError called %d times, want 1", n)
			}
		})
	}
}

func TestTransportBrokenGzip(t *testing.T) {
	s := faulttest.BrokenGzip(t)
	tr := &Transport{Base: s.Transport()}
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v, want a response", err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	wantError(t, err, gatewayerr.HTTPResponseContentCoding)
}

func TestTransportMaxResponseBodyBytes(t *testing.T) {
	s := faulttest.Status(t, http.StatusOK, nil, strings.Repeat("x", 100))
	t.Run("declared", func(t *testing.T) {
		tr := &Transport{Base: s.Transport(), MaxResponseBodyBytes: 99}
		_, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
		e := wantError(t, err, gatewayerr.HTTPResponseBodySize)
		if e.Size != 99 {
			t.Errorf("Size = %d, want 99", e.Size)
		}
	})
	t.Run("exact", func(t *testing.T) {
		tr := &Transport{Base: s.Transport(), MaxResponseBodyBytes: 100}
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || len(b) != 100 {
			t.Errorf("ReadAll = %d bytes, %v; want 100, nil", len(b), err)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("y", 10)))
			w.(http.Flusher).Flush()
			w.Write([]byte(strings.Repeat("y", 100)))
		}))
		defer up.Close()
		tr := &Transport{MaxResponseBodyBytes: 50, Base: up.Client().Transport}
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, up.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		wantError(t, err, gatewayerr.HTTPResponseBodySize)
		if len(b) != 50 {
			t.Errorf("read %d bytes before the error, want 50", len(b))
		}
	})
}

func TestTransportContract(t *testing.T) {
	s := faulttest.Status(t, http.StatusInternalServerError, http.Header{"X-Up": {"1"}}, "oops")
	body := &closeCounter{Reader: strings.NewReader("payload")}
	req := newRequest(t, http.MethodPut, s.URL+"/a?b=c", body)
	req.Header.Set("X-Test", "1")
	before := struct {
		Header http.Header
		URL    string
		Host   string
	}{req.Header.Clone(), req.URL.String(), req.Host}
	ctx := req.Context()

	tr := &Transport{
		Base:    s.Transport(),
		Retry:   &RetryPolicy{Attempts: 2, BaseDelay: time.Millisecond},
		Breaker: &BreakerPolicy{},
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v; a 500 is a response, not an error", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "oops" || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("response %d %q %v, want 500 \"oops\"", resp.StatusCode, b, err)
	}
	if resp.Request != req {
		t.Error("resp.Request is not the caller's request")
	}
	after := before
	after.Header, after.URL, after.Host = req.Header, req.URL.String(), req.Host
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("request modified (-before +after):\n%s", diff)
	}
	if req.Body != body || req.Context() != ctx {
		t.Error("request's Body or context replaced")
	}
	if n := body.closes.Load(); n != 1 {
		t.Errorf("body closed %d times, want 1", n)
	}
}

func TestTransportRetry(t *testing.T) {
	fast := func(attempts int) *RetryPolicy {
		return &RetryPolicy{Attempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	}

	t.Run("POST not retried once sent", func(t *testing.T) {
		s := faulttest.ResetBeforeHeaders(t)
		tr := &Transport{Base: s.Transport(), Retry: fast(3)}
		_, err := tr.RoundTrip(newRequest(t, http.MethodPost, s.URL, strings.NewReader("order=1")))
		e := wantError(t, err, gatewayerr.ConnectionTerminated)
		if e.Attempts != 1 || s.Requests() != 1 {
			t.Errorf("attempts = %d, upstream requests = %d, want 1 and 1", e.Attempts, s.Requests())
		}
	})

	t.Run("GET retried after a reset", func(t *testing.T) {
		bad := faulttest.ResetBeforeHeaders(t)
		good := faulttest.Status(t, http.StatusOK, nil, "fine")
		rt := newRouter(t, bad, good)
		var log capturedLog
		tr := &Transport{Base: rt, Retry: fast(3), Logger: log.logger()}
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://upstream.test/", nil))
		if err != nil {
			t.Fatalf("RoundTrip: %v, want the second attempt's response", err)
		}
		retries := log.records(t, "gatehouse: retrying upstream request")
		if len(retries) != 1 || retries[0]["level"] != "DEBUG" || retries[0]["kind"] != "connection_terminated" || retries[0]["attempt"] != float64(1) {
			t.Errorf("retry records %v, want one debug record for attempt 1's connection_terminated", retries)
		}
		if n := len(log.records(t, "gatehouse: upstream failure")); n != 0 {
			t.Errorf("%d failure records for a request that succeeded on retry, want 0", n)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "fine" || bad.Requests() != 1 || good.Requests() != 1 {
			t.Errorf("body %q, requests bad=%d good=%d; want \"fine\", 1, 1", b, bad.Requests(), good.Requests())
		}
	})

	t.Run("refused retried for any method", func(t *testing.T) {
		refused := faulttest.Refused(t)
		good := faulttest.Status(t, http.StatusCreated, nil, "")
		rt := newRouter(t, refused, refused, good)
		tr := &Transport{Base: rt, Retry: fast(3)}
		// A body without GetBody, as a server's request has: the refused
		// attempts never read it, so it can be sent again.
		body := &closeCounter{Reader: strings.NewReader("order=1")}
		req := newRequest(t, http.MethodPost, "http://upstream.test/", body)
		req.GetBody = nil
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("RoundTrip: %v, want the third attempt's response", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || good.Requests() != 1 || rt.calls.Load() != 3 {
			t.Errorf("status %d, good requests %d, attempts %d; want 201, 1, 3", resp.StatusCode, good.Requests(), rt.calls.Load())
		}
		if n := body.closes.Load(); n != 1 {
			t.Errorf("body closed %d times, want 1", n)
		}
	})

	t.Run("refused with every attempt", func(t *testing.T) {
		s := faulttest.Refused(t)
		tr := &Transport{Base: s.Transport(), Retry: fast(3)}
		req := newRequest(t, http.MethodPost, s.URL, bytes.NewReader([]byte("x")))
		_, err := tr.RoundTrip(req)
		if e := wantError(t, err, gatewayerr.ConnectionRefused); e.Attempts != 3 {
			t.Errorf("attempts = %d, want 3", e.Attempts)
		}
	})

	t.Run("consumed body not replayed", func(t *testing.T) {
		// A GET with a body and no GetBody, reset after it was sent: the
		// body was read, so it is not sent again.
		s := faulttest.ResetBeforeHeaders(t)
		tr := &Transport{Base: s.Transport(), Retry: fast(3)}
		body := &closeCounter{Reader: strings.NewReader("query")}
		req := newRequest(t, http.MethodGet, s.URL, body)
		req.GetBody = nil
		_, err := tr.RoundTrip(req)
		if e := wantError(t, err, gatewayerr.ConnectionTerminated); e.Attempts != 1 {
			t.Errorf("attempts = %d, want 1", e.Attempts)
		}
		if n := body.closes.Load(); n != 1 {
			t.Errorf("body closed %d times, want 1", n)
		}
	})

	t.Run("GetBody replays", func(t *testing.T) {
		s := faulttest.ResetBeforeHeaders(t)
		tr := &Transport{Base: s.Transport(), Retry: fast(3)}
		req := newRequest(t, http.MethodPut, s.URL, strings.NewReader("data"))
		_, err := tr.RoundTrip(req)
		if e := wantError(t, err, gatewayerr.ConnectionTerminated); e.Attempts != 3 || s.Requests() != 3 {
			t.Errorf("attempts = %d, upstream requests = %d, want 3 and 3", e.Attempts, s.Requests())
		}
	})

	t.Run("empty GetBody not replayed", func(t *testing.T) {
		s := faulttest.ResetBeforeHeaders(t)
		tr := &Transport{Base: s.Transport(), Retry: fast(3)}
		req := newRequest(t, http.MethodPut, s.URL, strings.NewReader("data"))
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		_, err := tr.RoundTrip(req)
		if e := wantError(t, err, gatewayerr.ConnectionTerminated); e.Attempts != 1 {
			t.Errorf("attempts = %d, want 1", e.Attempts)
		}
	})

	t.Run("idempotency key", func(t *testing.T) {
		s := faulttest.ResetBeforeHeaders(t)
		tr := &Transport{Base: s.Transport(), Retry: fast(2)}
		req := newRequest(t, http.MethodPost, s.URL, strings.NewReader("pay"))
		req.Header.Set("Idempotency-Key", "k1")
		_, err := tr.RoundTrip(req)
		if e := wantError(t, err, gatewayerr.ConnectionTerminated); e.Attempts != 2 {
			t.Errorf("attempts = %d, want 2", e.Attempts)
		}
	})

	t.Run("status retried with Retry-After", func(t *testing.T) {
		s := faulttest.Status(t, http.StatusServiceUnavailable, http.Header{"Retry-After": {"0"}}, "busy")
		tr := &Transport{Base: s.Transport(), Retry: fast(3)}
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || string(b) != "busy" || s.Requests() != 3 {
			t.Errorf("got %d %q after %d requests, want the last 503 after 3", resp.StatusCode, b, s.Requests())
		}
	})

	for _, ra := range []string{"3600", "99999999999999999999"} {
		t.Run("Retry-After "+ra+" over the cap", func(t *testing.T) {
			s := faulttest.Status(t, http.StatusServiceUnavailable, http.Header{"Retry-After": {ra}}, "later")
			p := fast(3)
			p.MaxRetryAfter = time.Second
			tr := &Transport{Base: s.Transport(), Retry: p}
			resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || s.Requests() != 1 || resp.Header.Get("Retry-After") != ra {
				t.Errorf("got %d after %d requests, want the 503 with its Retry-After after 1", resp.StatusCode, s.Requests())
			}
		})
	}

	t.Run("MaxElapsed cuts a retry", func(t *testing.T) {
		// The first attempt gets a 503 at once; the retry would get a 200
		// after half a second, past MaxElapsed.
		var n atomic.Int32
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			select {
			case <-time.After(500 * time.Millisecond):
			case <-r.Context().Done():
			}
		}))
		defer up.Close()
		p := fast(3)
		p.MaxElapsed = 200 * time.Millisecond
		tr := &Transport{Base: up.Client().Transport, Retry: p}
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, up.URL, nil))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got %d, want the retry cut short by MaxElapsed", resp.StatusCode)
		}
		if e := wantError(t, err, gatewayerr.HTTPResponseTimeout); e.Attempts != 2 {
			t.Errorf("attempts = %d, want 2", e.Attempts)
		}
	})

	t.Run("client cancellation stops retrying", func(t *testing.T) {
		s := faulttest.ResetBeforeHeaders(t)
		ctx, cancel := context.WithCancel(testContext(t))
		defer cancel()
		// The first attempt fails, then the client goes away during a wait
		// that would otherwise last a minute.
		base := &cancelAfter{rt: s.Transport(), cancel: cancel}
		tr := &Transport{Base: base, Retry: &RetryPolicy{Attempts: 5, BaseDelay: time.Minute, MaxDelay: time.Minute, MaxElapsed: time.Hour}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
		_, err := tr.RoundTrip(req)
		e := wantError(t, err, gatewayerr.ClientClosedRequest)
		if e.Attempts != 1 || s.Requests() != 1 {
			t.Errorf("attempts = %d, upstream requests = %d, want 1 and 1", e.Attempts, s.Requests())
		}
	})

	t.Run("budget stops a retry storm", func(t *testing.T) {
		s := faulttest.ResetBeforeHeaders(t)
		p := fast(3)
		p.BudgetRatio, p.BudgetMin = 0.1, 2
		tr := &Transport{Base: s.Transport(), Retry: p}
		const requests = 20
		for range requests {
			_, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
			wantError(t, err, gatewayerr.ConnectionTerminated)
		}
		// At most 2 + 10% of 20 = 4 retries, where 40 would be allowed by
		// Attempts alone.
		if got := s.Requests(); got > requests+4 || got < requests+1 {
			t.Errorf("upstream received %d requests, want between %d and %d", got, requests+1, requests+4)
		}
	})
}

// cancelAfter is a Base that cancels the client's context after its first
// round trip returns.
type cancelAfter struct {
	rt     http.RoundTripper
	cancel context.CancelFunc
}

func (c *cancelAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	c.cancel()
	return resp, err
}

func TestTransportAttemptTimeout(t *testing.T) {
	stall := faulttest.StallHeaders(t)
	good := faulttest.Status(t, http.StatusOK, nil, "ok")
	rt := newRouter(t, stall, good)
	tr := &Transport{Base: rt, Retry: &RetryPolicy{Attempts: 2, AttemptTimeout: 50 * time.Millisecond, BaseDelay: time.Millisecond}}
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://upstream.test/", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v, want the second attempt's response", err)
	}
	defer resp.Body.Close()
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "ok" {
		t.Errorf("body %q, %v; want \"ok\"", b, err)
	}

	// With one attempt, the timeout is the error.
	tr = &Transport{Base: stall.Transport(), Retry: &RetryPolicy{Attempts: 1, AttemptTimeout: 20 * time.Millisecond}}
	_, err = tr.RoundTrip(newRequest(t, http.MethodGet, stall.URL, nil))
	wantError(t, err, gatewayerr.HTTPResponseTimeout)
}

func TestTransportClientCancel(t *testing.T) {
	s := faulttest.StallBody(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var kinds []gatewayerr.Kind
	tr := &Transport{Base: s.Transport(), Breaker: &BreakerPolicy{ConsecutiveFailures: 1},
		OnError: func(r *http.Request, e *gatewayerr.Error) { kinds = append(kinds, e.Kind) }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = resp.Body.Read(make([]byte, 10))
	wantError(t, err, gatewayerr.ClientClosedRequest)
	if diff := cmp.Diff([]gatewayerr.Kind{gatewayerr.ClientClosedRequest}, kinds); diff != "" {
		t.Errorf("OnError kinds (-want +got):\n%s", diff)
	}
	if st := tr.BreakerState(s.Addr); st != BreakerClosed {
		t.Errorf("breaker %v after a client's cancellation, want closed", st)
	}
}

func TestTransportBreaker(t *testing.T) {
	refused := faulttest.Refused(t)
	good := faulttest.Status(t, http.StatusOK, nil, "ok")
	notFound := faulttest.Status(t, http.StatusNotFound, nil, "no")
	rt := newRouter(t, notFound)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type change struct{ From, To BreakerState }
	var changes []change
	var log capturedLog
	tr := &Transport{
		Base:    rt,
		Logger:  log.logger(),
		Breaker: &BreakerPolicy{ConsecutiveFailures: 3, OpenFor: 10 * time.Second},
		OnStateChange: func(upstream string, from, to BreakerState) {
			if upstream != "upstream.test" {
				t.Errorf("state change for %q, want upstream.test", upstream)
			}
			changes = append(changes, change{from, to})
		},
		now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	}
	get := func() (*http.Response, error) {
		resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://upstream.test/", nil))
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}

	// 4xx answers are not failures.
	for range 5 {
		if _, err := get(); err != nil {
			t.Fatal(err)
		}
	}
	if st := tr.BreakerState("upstream.test"); st != BreakerClosed {
		t.Fatalf("breaker %v after 404s, want closed", st)
	}

	// Three refusals open it.
	rt.set(refused)
	for range 3 {
		_, err := get()
		wantError(t, err, gatewayerr.ConnectionRefused)
	}
	if st := tr.BreakerState("upstream.test"); st != BreakerOpen {
		t.Fatalf("breaker %v after 3 failures, want open", st)
	}

	// While open it fails fast, without calling the upstream.
	rt.set(good)
	calls := rt.calls.Load()
	_, err := get()
	e := wantError(t, err, gatewayerr.DestinationUnavailable)
	if !errors.Is(err, ErrCircuitOpen) || e.RetryAfter != 10*time.Second || e.StatusCode() != http.StatusServiceUnavailable || e.RequestSent() {
		t.Errorf("fail-fast error %+v, want ErrCircuitOpen, Retry-After 10s, 503, not sent", e)
	}
	if rt.calls.Load() != calls {
		t.Error("an open breaker called the upstream")
	}

	// Once OpenFor has passed, a probe goes through and closes it.
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	if st := tr.BreakerState("upstream.test"); st != BreakerHalfOpen {
		t.Fatalf("breaker %v after OpenFor, want half-open", st)
	}
	if _, err := get(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if st := tr.BreakerState("upstream.test"); st != BreakerClosed {
		t.Fatalf("breaker %v after a successful probe, want closed", st)
	}
	// The new breaker is reported closed first, then each change.
	want := []change{{BreakerClosed, BreakerClosed}, {BreakerClosed, BreakerOpen}, {BreakerOpen, BreakerHalfOpen}, {BreakerHalfOpen, BreakerClosed}}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("state changes (-want +got):\n%s", diff)
	}
	// The logger saw the same changes, opening as a warning.
	var logged []string
	for _, msg := range []string{"gatehouse: circuit breaker open", "gatehouse: circuit breaker half-open", "gatehouse: circuit breaker closed"} {
		for _, r := range log.records(t, msg) {
			logged = append(logged, fmt.Sprint(r["level"], " ", r["from"], "->", r["to"], " ", r["upstream"]))
		}
	}
	wantLogged := []string{"WARN closed->open upstream.test", "INFO open->half-open upstream.test", "INFO half-open->closed upstream.test"}
	if diff := cmp.Diff(wantLogged, logged); diff != "" {
		t.Errorf("logged state changes (-want +got):\n%s", diff)
	}
}

func TestTransportUpgrade(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString(strings.ToUpper(line))
		brw.Flush()
	}))
	defer up.Close()

	for _, retry := range []*RetryPolicy{nil, {AttemptTimeout: time.Minute}} {
		tr := &Transport{Base: up.Client().Transport, Retry: retry}
		req := newRequest(t, http.MethodGet, up.URL, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		rwc, ok := resp.Body.(io.ReadWriteCloser)
		if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
			t.Fatalf("status %d, body %T; want 101 with an io.ReadWriteCloser", resp.StatusCode, resp.Body)
		}
		if _, err := io.WriteString(rwc, "hello\n"); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(rwc).ReadString('\n')
		if err != nil || line != "HELLO\n" {
			t.Errorf("echo = %q, %v; want \"HELLO\\n\"", line, err)
		}
		rwc.Close()
	}
}

func TestTransportBodyPassThrough(t *testing.T) {
	s := faulttest.Status(t, http.StatusOK, nil, "hello")
	tr := &Transport{Base: s.Transport()}
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, s.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "hello" {
		t.Errorf("body %q, %v; want \"hello\"", b, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// A HEAD response's empty body is passed on as it is.
	resp, err = tr.RoundTrip(newRequest(t, http.MethodHead, s.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Body != http.NoBody {
		t.Errorf("HEAD body %T, want http.NoBody", resp.Body)
	}
}

func TestTrackerHookInto(t *testing.T) {
	got1xx := func(int, textproto.MIMEHeader) error { return nil }
	tests := []struct {
		name  string
		trace *httptrace.ClientTrace
		want  bool
	}{
		{"none", nil, false},
		{"ReverseProxy's", &httptrace.ClientTrace{Got1xxResponse: got1xx}, true},
		{"empty", &httptrace.ClientTrace{}, false},
		{"someone else's hooks too", &httptrace.ClientTrace{Got1xxResponse: got1xx, DNSStart: func(httptrace.DNSStartInfo) {}}, false},
		{"already hooked", &httptrace.ClientTrace{Got1xxResponse: got1xx, GotConn: func(httptrace.GotConnInfo) {}}, false},
	}
	var tr Transport
	for _, tt := range tests {
		k := tr.tracker()
		if got := k.hookInto(tt.trace, false); got != tt.want {
			t.Errorf("%s: hookInto = %v, want %v", tt.name, got, tt.want)
		}
		if tt.want && (tt.trace.GetConn == nil || tt.trace.WroteRequest == nil) {
			t.Errorf("%s: hooks not set", tt.name)
		}
	}
}

func TestTransportResponseBodyReadTimeout(t *testing.T) {
	s := faulttest.StallBody(t)
	var reported []*gatewayerr.Error
	tr := &Transport{
		Base:                    s.Transport(),
		ResponseBodyReadTimeout: 50 * time.Millisecond,
		OnError:                 func(r *http.Request, e *gatewayerr.Error) { reported = append(reported, e) },
	}
	c := &http.Client{Transport: tr}
	defer c.CloseIdleConnections()
	req := newRequest(t, http.MethodGet, s.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET: %v, want a response", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	e := wantError(t, err, gatewayerr.ConnectionReadTimeout)
	if len(b) != 100 {
		t.Errorf("read %d bytes before the timeout, want the 100 sent", len(b))
	}
	if req.Context().Err() != nil {
		t.Fatalf("the request's context ended (%v): the timeout did not come from the Transport", req.Context().Err())
	}
	got := struct {
		Phase          gatewayerr.Phase
		Upstream       string
		ReceivedStatus int
		Timeout        bool
		Deadline       bool
		Cause          bool
	}{e.Phase, e.Upstream, e.ReceivedStatus, e.Timeout(), errors.Is(err, context.DeadlineExceeded), errors.Is(err, errBodyReadTimeout)}
	want := got
	want.Phase, want.Upstream, want.ReceivedStatus = gatewayerr.PhaseReadBody, s.Addr, http.StatusOK
	want.Timeout, want.Deadline, want.Cause = true, true, true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error %v (-want +got):\n%s", err, diff)
	}
	if _, again := resp.Body.Read(make([]byte, 1)); again != err {
		t.Errorf("second Read error = %v, want %v", again, err)
	}
	if len(reported) != 1 || reported[0] != e {
		t.Errorf("OnError got %v, want the returned error once", reported)
	}
}

// TestTransportResponseBodyReadTimeoutPerRead checks, on a fake clock, that
// the timeout bounds each wait for data, not the whole body.
func TestTransportResponseBodyReadTimeoutPerRead(t *testing.T) {
	const timeout = time.Second
	tests := []struct {
		name string
		gaps []time.Duration // before each chunk
		kind gatewayerr.Kind // of the error after the last chunk; Unknown: io.EOF
	}{
		{"each wait shorter, in all longer", []time.Duration{0, 900 * time.Millisecond, 900 * time.Millisecond, 900 * time.Millisecond}, gatewayerr.Unknown},
		{"one wait longer", []time.Duration{0, 900 * time.Millisecond, 1100 * time.Millisecond}, gatewayerr.ConnectionReadTimeout},
		{"first wait longer", []time.Duration{1100 * time.Millisecond}, gatewayerr.ConnectionReadTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pr, pw := io.Pipe()
				done := make(chan struct{})
				defer func() { <-done }()
				go func() {
					defer close(done)
					for _, gap := range tt.gaps {
						time.Sleep(gap)
						if _, err := pw.Write([]byte("chunk")); err != nil {
							return // the reader timed out and closed the pipe
						}
					}
					pw.Close()
				}()
				base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
					return &http.Response{StatusCode: http.StatusOK, Body: pr, ContentLength: -1, Request: req}, nil
				})
				tr := &Transport{Base: base, ResponseBodyReadTimeout: timeout}
				resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, "http://upstream.test/", nil))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				chunks := len(tt.gaps)
				if tt.kind != gatewayerr.Unknown {
					chunks--
					wantError(t, err, tt.kind)
				} else if err != nil {
					t.Fatalf("ReadAll: %v, want the whole body", err)
				}
				if want := strings.Repeat("chunk", chunks); string(b) != want {
					t.Errorf("body %q, want %q", b, want)
				}
			})
		})
	}
}

// twoEventStream starts a loopback Server-Sent Events upstream that sends
// "data: one", flushes, and sends "data: two" only once release is closed
// (or gives up when the client goes away). It is closed at the test's end.
func twoEventStream(t *testing.T, release <-chan struct{}) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: two\n\n")
	}))
	t.Cleanup(up.Close)
	return up
}

// TestTransportResponseBodyReadTimeoutStream checks that a Server-Sent
// Events stream that is merely quiet is cut only when the timeout is set,
// and runs as long as it takes when it is zero.
func TestTransportResponseBodyReadTimeoutStream(t *testing.T) {
	release := make(chan struct{})
	up := twoEventStream(t, release)
	open := func(timeout time.Duration) (*http.Response, *bufio.Reader) {
		t.Helper()
		c := &http.Client{Transport: &Transport{Base: &http.Transport{Proxy: nil}, ResponseBodyReadTimeout: timeout}}
		t.Cleanup(c.CloseIdleConnections)
		resp, err := c.Do(newRequest(t, http.MethodGet, up.URL, nil))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || line != "data: one\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		return resp, br
	}
	_, timed := open(50 * time.Millisecond)
	_, patient := open(0)

	// The stream with a timeout is cut while the upstream is quiet...
	_, err := io.ReadAll(timed)
	wantError(t, err, gatewayerr.ConnectionReadTimeout)
	// ... and the other, quiet at least as long, is not.
	close(release)
	rest, err := io.ReadAll(patient)
	if err != nil || string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest of the stream without a timeout %q, %v; want the second event", rest, err)
	}
}

func TestTransportBreakerCountsFailedErrorBodyOnce(t *testing.T) {
	// A 502 whose body then breaks is one failure, not two.
	up := brokenUpstream(t, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", false)
	tr := &Transport{
		Base:    &http.Transport{Proxy: nil},
		Breaker: &BreakerPolicy{ConsecutiveFailures: 2},
	}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(newRequest(t, http.MethodGet, up.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	wantError(t, err, gatewayerr.HTTPResponseIncomplete)
	host := mustParse(t, up.URL).Host
	if st := tr.BreakerState(host); st != BreakerClosed {
		t.Errorf("breaker %v after one failed response, want closed (one failure of two)", st)
	}
	// A second one opens it.
	resp, err = tr.RoundTrip(newRequest(t, http.MethodGet, up.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if st := tr.BreakerState(host); st != BreakerOpen {
		t.Errorf("breaker %v after two failed responses, want open", st)
	}
}

// TestTransportResetDuringUpload checks that a connection reset while the
// request body is being written is a failure of the write phase.
func TestTransportResetDuringUpload(t *testing.T) {
	s := faulttest.ResetDuringUpload(t)
	tr := &Transport{Base: s.Transport()}
	req := newRequest(t, http.MethodPut, s.URL+"/upload", io.LimitReader(zeros{}, 64<<20))
	resp, err := tr.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
		t.Fatalf("RoundTrip returned a response %d, want an error", resp.StatusCode)
	}
	e := wantError(t, err, gatewayerr.ConnectionTerminated)
	if e.Phase != gatewayerr.PhaseWriteRequest || !e.RequestSent() {
		t.Errorf("phase %v, request sent %v; want write_request, sent (%v)", e.Phase, e.RequestSent(), err)
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
