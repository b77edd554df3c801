package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// problem is the part of an RFC 9457 document the tests look at.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
}

func TestAPIGateway(t *testing.T) {
	ups, err := startUpstreams()
	if err != nil {
		t.Fatal(err)
	}
	defer ups.Close()
	gateway, err := newGateway(ups, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gateway)
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	get := func(t *testing.T, path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}
	// decode checks that a response is a problem document and returns it.
	decode := func(t *testing.T, resp *http.Response, body string) problem {
		t.Helper()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("Content-Type = %q, want application/problem+json; body:\n%s", ct, body)
		}
		var p problem
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, body)
		}
		return p
	}

	t.Run("success", func(t *testing.T) {
		resp, body := get(t, "/v1/users/42", "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"id": "42"`) {
			t.Errorf("got %d %s, want the user", resp.StatusCode, body)
		}
	})

	t.Run("upstream problem passes through", func(t *testing.T) {
		resp, body := get(t, "/v1/orders/conflict", "*/*")
		p := decode(t, resp, body)
		if resp.StatusCode != 409 || p.Type != "https://api.example.com/problems/order-locked" {
			t.Errorf("got %d %+v, want the upstream's own 409 problem", resp.StatusCode, p)
		}
	})

	// Every client gets a problem document, whatever it accepts.
	for _, accept := range []string{"", "*/*", "text/html", "application/json"} {
		t.Run("stack trace replaced/accept="+accept, func(t *testing.T) {
			resp, body := get(t, "/v1/orders/crash", accept)
			p := decode(t, resp, body)
			if resp.StatusCode != 500 || p.Status != 500 {
				t.Errorf("got %d %+v, want a 500 problem", resp.StatusCode, p)
			}
			if strings.Contains(body, "goroutine") || strings.Contains(body, "db.go") {
				t.Errorf("the upstream's stack trace reached the client:\n%s", body)
			}
		})
	}

	t.Run("HTML error page replaced", func(t *testing.T) {
		resp, body := get(t, "/v1/orders/html", "text/html")
		p := decode(t, resp, body)
		if resp.StatusCode != 502 || p.Status != 502 || strings.Contains(body, "<h1>") {
			t.Errorf("got %d %s, want a 502 problem instead of the upstream's HTML", resp.StatusCode, body)
		}
	})

	t.Run("unknown path", func(t *testing.T) {
		resp, body := get(t, "/v2/nothing", "text/html")
		if p := decode(t, resp, body); resp.StatusCode != 404 || p.Status != 404 {
			t.Errorf("got %d %+v, want a 404 problem", resp.StatusCode, p)
		}
	})

	t.Run("down, then circuit open", func(t *testing.T) {
		resp, body := get(t, "/v1/payments/7", "")
		p := decode(t, resp, body)
		if resp.StatusCode != 502 || p.Type != "https://api.example.com/problems/connection_refused" {
			t.Fatalf("got %d %+v, want a 502 connection_refused problem", resp.StatusCode, p)
		}
		checkProxyStatus(t, resp, gatewayerr.ConnectionRefused)

		// The breaker opens after 5 failures in a row; from then on the
		// gateway answers 503 at once, with Retry-After.
		for i := 0; i < 10 && resp.StatusCode != 503; i++ {
			resp, body = get(t, "/v1/payments/7", "")
		}
		p = decode(t, resp, body)
		if resp.StatusCode != 503 || p.Type != "https://api.example.com/problems/destination_unavailable" {
			t.Fatalf("got %d %+v, want a 503 destination_unavailable problem", resp.StatusCode, p)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After while the circuit is open")
		}
		checkProxyStatus(t, resp, gatewayerr.DestinationUnavailable)
		// The other upstreams are not affected.
		if resp, _ := get(t, "/v1/users/1", ""); resp.StatusCode != 200 {
			t.Errorf("users: status %d, want 200", resp.StatusCode)
		}
	})
}

// checkProxyStatus checks that the response's Proxy-Status reports kind.
func checkProxyStatus(t *testing.T, resp *http.Response, kind gatewayerr.Kind) {
	t.Helper()
	members, err := gatewayerr.ParseProxyStatus(strings.Join(resp.Header.Values("Proxy-Status"), ", "))
	if err != nil || len(members) == 0 {
		t.Fatalf("Proxy-Status %q: %v", resp.Header.Values("Proxy-Status"), err)
	}
	if got := members[len(members)-1].Kind; got != kind {
		t.Errorf("Proxy-Status error = %s, want %s", got, kind)
	}
}
