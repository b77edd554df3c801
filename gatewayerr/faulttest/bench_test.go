package faulttest

import (
	"io"
	"net/http"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func BenchmarkDNSAnswer(b *testing.B) {
	d := &DNSServer{names: map[string][]netip.Addr{"up.test.": {netip.MustParseAddr("127.0.0.1")}}}
	msg := query(b, 1, "up.test.", dnsmessage.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		if d.answer(msg) == nil {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkNewAuthority measures what each TLS server pays for its own
// CA and certificate.
func BenchmarkNewAuthority(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ca := newAuthority(b, "bench CA")
		ca.issue(b, leafSpec{ips: loopbackIP})
	}
}

func BenchmarkStatusRoundTrip(b *testing.B) {
	s := Status(b, http.StatusBadGateway, nil, "bad gateway")
	tr := s.Transport()
	req, err := http.NewRequest(http.MethodGet, s.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
