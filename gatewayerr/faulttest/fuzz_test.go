package faulttest

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// FuzzDNSAnswer feeds arbitrary messages to the DNS server's parser: it
// must not panic, and any response it gives must parse, answer the same
// ID and echo the question.
func FuzzDNSAnswer(f *testing.F) {
	f.Add(query(f, 1, "up.test.", dnsmessage.TypeA))
	f.Add(query(f, 2, "up.test.", dnsmessage.TypeAAAA))
	f.Add(query(f, 3, "a.nxdomain.test.", dnsmessage.TypeA))
	f.Add(query(f, 4, "a.servfail.test.", dnsmessage.TypeMX))
	f.Add(query(f, 5, "a.timeout.test.", dnsmessage.TypeA))
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0x80, 0, 0, 1})
	d := &DNSServer{names: map[string][]netip.Addr{
		"up.test.": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	}}
	f.Fuzz(func(t *testing.T, msg []byte) {
		resp := d.answer(msg)
		if resp == nil {
			return
		}
		var qp dnsmessage.Parser
		qh, err := qp.Start(msg)
		if err != nil {
			t.Fatalf("answered an unparsable query: %v", err)
		}
		q, err := qp.Question()
		if err != nil {
			t.Fatalf("answered a query without a question: %v", err)
		}
		var rp dnsmessage.Parser
		rh, err := rp.Start(resp)
		if err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if !rh.Response || rh.ID != qh.ID {
			t.Fatalf("response header %+v for query ID %d", rh, qh.ID)
		}
		rq, err := rp.Question()
		if err != nil || rq.Type != q.Type || !strings.EqualFold(rq.Name.String(), q.Name.String()) {
			t.Fatalf("response question %v (%v), want %v", rq, err, q)
		}
		if err := rp.SkipAllQuestions(); err != nil {
			t.Fatal(err)
		}
		if _, err := rp.AllAnswers(); err != nil {
			t.Fatalf("answers do not parse: %v", err)
		}
	})
}

// FuzzViaCount checks viaCount against a Via value built from known
// members: it must find the pseudonym exactly as often as it was put in.
func FuzzViaCount(f *testing.F) {
	f.Add("gw,other,gw", "gw")
	f.Add("a", "a")
	f.Add(" , ,", "x")
	f.Fuzz(func(t *testing.T, pseudonyms string, target string) {
		if target == "" || strings.ContainsAny(target, " \t,\r\n") || strings.ContainsFunc(target, isSpace) {
			t.Skip()
		}
		var members []string
		want := 0
		for p := range strings.SplitSeq(pseudonyms, ",") {
			if p == "" || strings.ContainsAny(p, " \t\r\n") || strings.ContainsFunc(p, isSpace) {
				continue
			}
			members = append(members, "1.1 "+p)
			if p == target {
				want++
			}
		}
		value := strings.Join(members, ", ")
		if got := viaCount([]string{value}, target); got != want {
			t.Errorf("viaCount(%q, %q) = %d, want %d", value, target, got, want)
		}
	})
}

func isSpace(r rune) bool { return strings.TrimSpace(string(r)) == "" }
