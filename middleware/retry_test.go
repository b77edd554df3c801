package middleware

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryBackoff(t *testing.T) {
	p := &RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 35 * time.Millisecond}
	ceilings := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 35 * time.Millisecond, 35 * time.Millisecond}
	for i, ceiling := range ceilings {
		n := i + 1
		for range 200 {
			if d := p.backoff(n); d < 0 || d >= ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
		}
	}
	if d := p.backoff(200); d < 0 || d >= 35*time.Millisecond {
		t.Errorf("backoff(200) = %v, want in [0, 35ms)", d)
	}
}

func TestRetryBudget(t *testing.T) {
	p := &RetryPolicy{BudgetRatio: 0.5, BudgetMin: 2, BudgetWindow: 10 * time.Second}
	var b retryBudget
	now := time.Unix(1000, 0)
	for range 4 {
		b.request(p, now)
	}
	// 2 + 0.5×4 = 4 retries fit; the fifth does not.
	for i := range 4 {
		if !b.spend(p, now) {
			t.Fatalf("retry %d refused, want allowed", i+1)
		}
	}
	if b.spend(p, now) {
		t.Fatal("retry 5 allowed, want refused by the budget")
	}
	// Once the window has passed the budget is whole again.
	if !b.spend(p, now.Add(11*time.Second)) {
		t.Error("retry after the window refused, want allowed")
	}

	off := &RetryPolicy{BudgetRatio: -1}
	var unlimited retryBudget
	for range 100 {
		if !unlimited.spend(off, now) {
			t.Fatal("retry refused with the budget turned off")
		}
	}
}

func TestIdempotent(t *testing.T) {
	tests := []struct {
		method string
		header http.Header
		want   bool
	}{
		{http.MethodGet, nil, true},
		{http.MethodHead, nil, true},
		{http.MethodPut, nil, true},
		{http.MethodDelete, nil, true},
		{http.MethodOptions, nil, true},
		{http.MethodPost, nil, false},
		{http.MethodPatch, nil, false},
		{http.MethodPost, http.Header{"Idempotency-Key": {"abc"}}, true},
		{http.MethodPost, http.Header{"X-Idempotency-Key": {"abc"}}, true},
		{http.MethodPost, http.Header{"Idempotency-Key": nil}, false},
	}
	for _, tt := range tests {
		req := &http.Request{Method: tt.method, Header: tt.header}
		if got := idempotent(req); got != tt.want {
			t.Errorf("idempotent(%s, %v) = %v, want %v", tt.method, tt.header, got, tt.want)
		}
	}
}

func TestRetryPolicyAttemptTimeout(t *testing.T) {
	tests := []struct {
		name    string
		p       *RetryPolicy
		n       int
		elapsed time.Duration
		want    time.Duration
	}{
		{"no policy", nil, 1, 0, 0},
		{"first attempt, no bound", &RetryPolicy{MaxElapsed: time.Second}, 1, 0, 0},
		{"first attempt, AttemptTimeout", &RetryPolicy{AttemptTimeout: 2 * time.Second, MaxElapsed: time.Second}, 1, 0, 2 * time.Second},
		{"retry, what MaxElapsed leaves", &RetryPolicy{MaxElapsed: time.Second}, 2, 300 * time.Millisecond, 700 * time.Millisecond},
		{"retry, AttemptTimeout shorter", &RetryPolicy{AttemptTimeout: 100 * time.Millisecond, MaxElapsed: time.Second}, 2, 300 * time.Millisecond, 100 * time.Millisecond},
		{"retry, MaxElapsed shorter", &RetryPolicy{AttemptTimeout: 500 * time.Millisecond, MaxElapsed: time.Second}, 3, 700 * time.Millisecond, 300 * time.Millisecond},
		{"retry, default MaxElapsed", &RetryPolicy{}, 2, time.Second, 9 * time.Second},
		{"retry past MaxElapsed", &RetryPolicy{MaxElapsed: time.Second}, 2, 2 * time.Second, time.Nanosecond},
	}
	for _, tt := range tests {
		if got := tt.p.attemptTimeout(tt.n, tt.elapsed); got != tt.want {
			t.Errorf("%s: attemptTimeout(%d, %v) = %v, want %v", tt.name, tt.n, tt.elapsed, got, tt.want)
		}
	}
}
