package gatewayerr

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestPlainName(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"envoy", true},
		{"edge-1", true},
		{"edge_2", true},
		{"", false},
		{"10.0.0.5", false},
		{"10.0.0.5:8443", false},
		{"[::1]:80", false},
		{"db.internal", false},
		{"db:5432", false},
		{"1edge", false},
		{"a/b", false},
		{strings.Repeat("a", 65), false},
	} {
		if got := plainName(tt.name); got != tt.want {
			t.Errorf("plainName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`edge;error=connection_refused;next-hop="10.0.0.5:8443";details="dial tcp 10.0.0.5:8443"`, `edge;error=connection_refused`},
		{`"10.0.0.5";error=dns_error;rcode="NXDOMAIN";info-code=3`, `upstream-proxy;error=dns_error;rcode="NXDOMAIN";info-code=3`},
		{`lb;error=dns_error;rcode="db.internal"`, `lb;error=dns_error`},
		{`lb;error=tls_alert_received;alert-id=42;alert-message=bad_certificate;x-trace=abc`, `lb;error=tls_alert_received;alert-id=42;alert-message=bad_certificate`},
		{`lb;error=http_response_header_size;header-name="X-Host";header-size=9000;next-protocol=h2`, `lb;error=http_response_header_size;header-name="X-Host";header-size=9000`},
		{`lb;error=my_own_error;rcode=x`, `lb;error=my_own_error`},
		{`lb;error=db.internal`, `lb`},
		{`db.internal;received-status=503`, `upstream-proxy;received-status=503`},
		{`lb;error=connection_refused;rcode=NXDOMAIN`, `lb;error=connection_refused`},
	}
	for _, tt := range tests {
		ms, err := ParseProxyStatus(tt.in)
		if err != nil || len(ms) != 1 {
			t.Fatalf("ParseProxyStatus(%q) = %v, %v", tt.in, ms, err)
		}
		if got := ms[0].Redacted().String(); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactProxyStatusHeader(t *testing.T) {
	many := strings.Repeat("a, ", MaxProxyStatusMembers) + "a"
	tests := []struct {
		name string
		in   []string // nil: no field
		want []string // nil: no field
	}{
		{"two lines", []string{`"10.0.0.1";error=connection_refused`, `cdn;received-status=502;next-hop=x`}, []string{`upstream-proxy;error=connection_refused, cdn;received-status=502`}},
		{"invalid", []string{`a;error=`}, nil},
		{"empty", []string{""}, nil},
		{"too many", []string{many}, nil},
		{"absent", nil, nil},
	}
	for _, tt := range tests {
		h := make(http.Header)
		if tt.in != nil {
			h["Proxy-Status"] = tt.in
		}
		RedactProxyStatusHeader(h)
		if got := h["Proxy-Status"]; !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%s: Proxy-Status %q, want %q", tt.name, got, tt.want)
		}
	}
}
