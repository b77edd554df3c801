package faulttest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/dns/dnsmessage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result is what a round trip to a fault produced.
type result struct {
	rtErr   error  // from RoundTrip
	status  int    // when RoundTrip succeeded
	body    string // what was read of the body before bodyErr
	bodyErr error  // from reading the body
}

// roundTrip sends a GET (or, with body, a PUT) to s through tr, bounded by
// timeout, and reads the whole response body.
func roundTrip(t *testing.T, tr http.RoundTripper, url string, body io.Reader, timeout time.Duration) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	method := http.MethodGet
	if body != nil {
		method = http.MethodPut
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return result{rtErr: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), bodyErr: err}
}

// isAny reports whether errors.Is(err, target) for one of targets.
func isAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func wantRoundTripErr(targets ...error) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		if !isAny(r.rtErr, targets...) {
			t.Fatalf("RoundTrip error = %v (status %d), want one of %v", r.rtErr, r.status, targets)
		}
	}
}

// wantTimeout wants a net.Error with Timeout() true and text containing
// substr, and whether errors.Is(err, context.DeadlineExceeded) to be
// deadline.
func wantTimeout(substr string, deadline bool) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		var ne net.Error
		if !errors.As(r.rtErr, &ne) || !ne.Timeout() || !strings.Contains(r.rtErr.Error(), substr) {
			t.Fatalf("RoundTrip error = %v, want a net.Error with Timeout() containing %q", r.rtErr, substr)
		}
		if got := errors.Is(r.rtErr, context.DeadlineExceeded); got != deadline {
			t.Errorf("errors.Is(%v, context.DeadlineExceeded) = %v, want %v", r.rtErr, got, deadline)
		}
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// query builds a DNS query for name and type.
func query(tb testing.TB, id uint16, name string, typ dnsmessage.Type) []byte {
	tb.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.StartQuestions()
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}); err != nil {
		tb.Fatal(err)
	}
	msg, err := b.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	return msg
}
