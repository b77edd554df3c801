package faulttest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tcpResolver returns a resolver that queries d over TCP only.
func tcpResolver(d *DNSServer) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			c, err := dialer.DialContext(ctx, "tcp", d.Addr)
			if err == nil {
				context.AfterFunc(ctx, func() { c.Close() })
			}
			return c, err
		},
	}
}

func TestDNS(t *testing.T) {
	d := DNS(t)
	d.Map("up.test", netip.MustParseAddr("127.0.0.1"))
	d.Map("v6.test.", netip.MustParseAddr("::1"))
	d.Map("both.test", netip.MustParseAddr("127.0.0.1"))
	d.Map("both.test", netip.MustParseAddr("::1"))

	type dnsOutcome struct {
		Addrs       []string
		NotFound    bool
		Timeout     bool
		Temporary   bool
		Err         string
		NoDNSError  bool
		CtxDeadline bool
	}
	tests := []struct {
		name    string
		timeout time.Duration
		want    dnsOutcome
	}{
		{"up.test", 0, dnsOutcome{Addrs: []string{"127.0.0.1"}}},
		{"UP.Test.", 0, dnsOutcome{Addrs: []string{"127.0.0.1"}}},
		{"v6.test", 0, dnsOutcome{Addrs: []string{"::1"}}},
		{"both.test", 0, dnsOutcome{Addrs: []string{"127.0.0.1", "::1"}}},
		{"unknown.test", 0, dnsOutcome{NotFound: true, Err: "no such host"}},
		{"a.nxdomain.test", 0, dnsOutcome{NotFound: true, Err: "no such host"}},
		{"nxdomain.test", 0, dnsOutcome{NotFound: true, Err: "no such host"}},
		{"a.servfail.test", 0, dnsOutcome{Temporary: true, Err: "server misbehaving"}},
		{"a.refused.test", 0, dnsOutcome{Err: "server misbehaving"}},
		{"a.timeout.test", 200 * time.Millisecond, dnsOutcome{Timeout: true, Temporary: true, Err: "i/o timeout", CtxDeadline: true}},
	}
	resolvers := []struct {
		name string
		r    *net.Resolver
	}{
		{"udp", d.Resolver()},
		{"tcp", tcpResolver(d)},
	}
	ran := false // some subtests may be filtered out with -run
	for _, res := range resolvers {
		for _, tt := range tests {
			t.Run(res.name+"/"+tt.name, func(t *testing.T) {
				ran = true
				timeout := tt.timeout
				if timeout == 0 {
					timeout = 3 * time.Second
				}
				ctx, cancel := context.WithTimeout(t.Context(), timeout)
				defer cancel()
				addrs, err := res.r.LookupIPAddr(ctx, tt.name)
				var got dnsOutcome
				for _, a := range addrs {
					got.Addrs = append(got.Addrs, a.IP.String())
				}
				slices.Sort(got.Addrs) // Go orders them by RFC 6724
				if err != nil {
					var de *net.DNSError
					if errors.As(err, &de) {
						got.NotFound, got.Timeout, got.Temporary, got.Err = de.IsNotFound, de.IsTimeout, de.IsTemporary, de.Err
					} else {
						got.NoDNSError = true
					}
					got.CtxDeadline = errors.Is(err, context.DeadlineExceeded)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("LookupIPAddr(%q) mismatch (-want +got):\n%s", tt.name, diff)
				}
			})
		}
	}
	if ran && d.Queries() == 0 {
		t.Error("Queries() = 0 after the lookups")
	}
}

func TestDNSTransport(t *testing.T) {
	d := DNS(t)
	s := Status(t, http.StatusServiceUnavailable, http.Header{"Retry-After": {"5"}}, "busy")
	tr := d.Transport()

	t.Run("mapped name reaches the server", func(t *testing.T) {
		r := roundTrip(t, tr, d.URL(s, "svc.test"), nil, 3*time.Second)
		if r.rtErr != nil || r.status != http.StatusServiceUnavailable || r.body != "busy" {
			t.Fatalf("got %+v, want 503 \"busy\"", r)
		}
	})
	t.Run("NXDOMAIN is a dial error", func(t *testing.T) {
		r := roundTrip(t, tr, "http://svc.nxdomain.test:1/", nil, 3*time.Second)
		var opErr *net.OpError
		var de *net.DNSError
		if !errors.As(r.rtErr, &opErr) || opErr.Op != "dial" || !errors.As(r.rtErr, &de) || !de.IsNotFound {
			t.Fatalf("RoundTrip error = %v, want a dial *net.OpError wrapping a not-found *net.DNSError", r.rtErr)
		}
	})
	t.Run("timeout through the dialer's timeout", func(t *testing.T) {
		tr := d.Transport()
		dialer := &net.Dialer{Resolver: d.Resolver(), Timeout: 200 * time.Millisecond}
		tr.DialContext = dialer.DialContext
		r := roundTrip(t, tr, "http://svc.timeout.test:1/", nil, 3*time.Second)
		var de *net.DNSError
		if !errors.As(r.rtErr, &de) || !de.IsTimeout {
			t.Fatalf("RoundTrip error = %v, want a *net.DNSError with IsTimeout", r.rtErr)
		}
	})
	t.Run("timeout through the request's context", func(t *testing.T) {
		r := roundTrip(t, tr, "http://svc.timeout.test:1/", nil, 200*time.Millisecond)
		if !errors.Is(r.rtErr, context.DeadlineExceeded) {
			t.Fatalf("RoundTrip error = %v, want context.DeadlineExceeded", r.rtErr)
		}
	})
}

func TestDNSMalformedQueryIgnored(t *testing.T) {
	d := DNS(t)
	if resp := d.answer([]byte{1, 2, 3}); resp != nil {
		t.Errorf("answer(garbage) = %x, want nil", resp)
	}
	if d.Queries() != 0 {
		t.Errorf("Queries() = %d, want 0", d.Queries())
	}
}
