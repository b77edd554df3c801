package faulttest_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// TestAll runs every fault of the catalog through a plain http.Client with
// the fault's own transport and checks the kind its client sees.
func TestAll(t *testing.T) {
	t.Parallel()
	for _, f := range faulttest.All() {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			target := f.Start(t)
			if target.URL == nil || target.Transport == nil {
				t.Fatalf("Target %+v: want a URL and a Transport", target)
			}
			start := time.Now()
			got, status := kindSeen(t, target)
			if got != f.Kind {
				t.Errorf("kind %v (status %d), want %v", got, status, f.Kind)
			}
			// Each fault ends by its transport's settings, not by the
			// deadline kindSeen sets; a fault that took this long waited
			// for something else.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the fault took %v", d)
			}
		})
	}
}

// kindSeen sends a GET to target through a plain http.Client and returns
// the kind its client sees: Classify of the request's error, else
// ClassifyResponse of the response, else Classify of the error reading its
// body (Unknown when there is none), with the response's status.
func kindSeen(t *testing.T, target faulttest.Target) (gatewayerr.Kind, int) {
	t.Helper()
	// A bound for a fault that does not end as it should.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.URL.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: target.Transport}).Do(req)
	if err != nil {
		return gatewayerr.Classify(err).Kind, 0
	}
	defer resp.Body.Close()
	if e := gatewayerr.ClassifyResponse(resp); e != nil {
		return e.Kind, resp.StatusCode
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Errorf("status %d and a complete body: no failure", resp.StatusCode)
		return gatewayerr.Unknown, resp.StatusCode
	}
	return gatewayerr.Classify(err).Kind, resp.StatusCode
}

func TestAllShape(t *testing.T) {
	name := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := make(map[string]bool)
	for _, f := range faulttest.All() {
		if !name.MatchString(f.Name) || seen[f.Name] {
			t.Errorf("name %q: want lower case, digits and '_', unique", f.Name)
		}
		seen[f.Name] = true
		if !f.Kind.Registered() {
			t.Errorf("%s: kind %v is not an RFC 9209 error type", f.Name, f.Kind)
		}
		if f.Start == nil {
			t.Errorf("%s: no Start", f.Name)
		}
	}
	// The causes the catalog promises, by name.
	for _, want := range []string{
		"connection_refused", "service_unavailable_retry_after", "connection_dropped_on_accept",
		"http2_goaway", "http2_rst_stream", "connection_reset", "stall_before_headers", "stall_mid_body",
		"truncated_body", "dns_nxdomain", "dns_servfail", "dns_timeout", "tls_to_plain_server",
		"plain_to_tls_server", "tls_wrong_name", "tls_expired_certificate", "tls_unknown_authority",
		"tls_client_certificate_required", "http2_to_http1_server", "proxy_chain_connection_refused",
		"garbage_response", "bad_status_line", "bad_chunking", "bad_gzip", "oversized_headers",
	} {
		if !seen[want] {
			t.Errorf("no fault %q", want)
		}
	}
	a, b := faulttest.All(), faulttest.All()
	a[0].Name = "changed"
	if b[0].Name == "changed" {
		t.Error("All returns a shared slice")
	}
}
