package faulttest

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// The zones of a [DNSServer]. A name in a zone is the zone's apex or any name
// that ends with "." followed by the zone.
const (
	ZoneNXDomain = "nxdomain.test." // NXDOMAIN for every name
	ZoneServFail = "servfail.test." // SERVFAIL for every name
	ZoneTimeout  = "timeout.test."  // no answer, ever
	ZoneRefused  = "refused.test."  // REFUSED for every name
)

// DNSServer is a loopback DNS server for resolver faults, started by [DNS].
// It answers on UDP and TCP at the same address.
//
// Names in [ZoneNXDomain], [ZoneServFail], [ZoneTimeout] and [ZoneRefused]
// get the zone's failure; names registered with [DNSServer.Map] get their A
// or AAAA records (and an empty answer for other types); every other name
// gets NXDOMAIN. A Go resolver appends the machine's search domains to a
// name that is not found; those names are unknown here and get NXDOMAIN
// too, so write names with or without the final dot.
type DNSServer struct {
	// Addr is the address the server listens on, for UDP and TCP, such as
	// "127.0.0.1:41234".
	Addr string

	tb      testing.TB
	udp     net.PacketConn
	tcp     net.Listener
	queries atomic.Int64

	mu    sync.Mutex
	names map[string][]netip.Addr // by lower-case FQDN
	conns map[net.Conn]struct{}

	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// DNS starts a [DNSServer] on 127.0.0.1, UDP and TCP on the same port.
// [DNSServer.Close] is registered with t.Cleanup.
//
// A lookup through [DNSServer.Resolver] fails with a *net.DNSError:
//
//   - a name in ZoneNXDomain, or an unknown name: Err "no such host",
//     IsNotFound true;
//   - ZoneServFail: Err "server misbehaving", IsTemporary true;
//   - ZoneRefused: Err "server misbehaving", IsTemporary false (Go reports
//     no rcode, so this is how REFUSED differs from SERVFAIL);
//   - ZoneTimeout: when the lookup's own context ends, Err "i/o timeout",
//     IsTimeout and IsTemporary true, and errors.Is(err,
//     context.DeadlineExceeded) true.
//
// Its Server field names the machine's configured name server, as read from
// resolv.conf, although the query went to this server: it is only a label.
// Through an http.Transport the DNSError is wrapped in a *net.OpError with
// Op "dial", except that when the request's context ends during the lookup
// RoundTrip returns a bare context.DeadlineExceeded; a net.Dialer Timeout
// shorter than the request's deadline gives the DNSError with IsTimeout.
//
// Kind: dns_error for NXDOMAIN, SERVFAIL and REFUSED; dns_timeout.
func DNS(t testing.TB) *DNSServer {
	t.Helper()
	d := &DNSServer{
		tb:    t,
		names: make(map[string][]netip.Addr),
		conns: make(map[net.Conn]struct{}),
		done:  make(chan struct{}),
	}
	// The TCP port chosen for UDP may be taken; try a few.
	var err error
	for range 10 {
		d.udp, err = net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			break
		}
		d.tcp, err = net.Listen("tcp4", d.udp.LocalAddr().String())
		if err == nil {
			break
		}
		d.udp.Close()
	}
	if err != nil {
		t.Fatalf("faulttest: DNS listen: %v", err)
	}
	d.Addr = d.udp.LocalAddr().String()
	t.Cleanup(d.Close)
	d.wg.Add(2)
	go d.serveUDP()
	go d.serveTCP()
	return d
}

// Map registers name (with or without the final dot, any case) with ip: A
// queries for it get ip when ip is IPv4, AAAA queries when it is IPv6.
// Calling Map again for the same name adds an address. Tests use
// 127.0.0.1.
func (d *DNSServer) Map(name string, ip netip.Addr) {
	key := canonical(name)
	d.mu.Lock()
	d.names[key] = append(d.names[key], ip.Unmap())
	d.mu.Unlock()
}

// Queries returns the number of queries received so far, over UDP and TCP.
func (d *DNSServer) Queries() int { return int(d.queries.Load()) }

// Resolver returns a Go resolver (PreferGo) whose every query goes to the
// server, over UDP or, when the Go resolver wants it, TCP. The machine's
// resolver configuration still sets the search domains, the per-query
// timeout (5 s unless resolv.conf says otherwise) and the attempts; bound
// lookups with a context.
func (d *DNSServer) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var dialer net.Dialer
			c, err := dialer.DialContext(ctx, network, d.Addr)
			if err != nil {
				return nil, err
			}
			// The Go resolver sets a deadline from resolv.conf's timeout
			// on the connection but does not close it when its lookup is
			// canceled: without this, a lookup in ZoneTimeout would keep a
			// goroutine reading for seconds after its caller gave up.
			context.AfterFunc(ctx, func() { c.Close() })
			return c, nil
		},
	}
}

// DialContext dials address, resolving its host with [DNSServer.Resolver];
// it is meant for http.Transport.DialContext.
func (d *DNSServer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	dialer := net.Dialer{Resolver: d.Resolver(), Timeout: 5 * time.Second}
	return dialer.DialContext(ctx, network, address)
}

// Transport returns a new http.Transport that resolves names with the
// server and uses no proxy. Its idle connections are closed when the test
// ends.
//
// A round trip to a name the server fails to resolve fails with a
// *net.OpError (Op "dial") wrapping a *net.DNSError; see [DNS] for its
// fields.
func (d *DNSServer) Transport() *http.Transport {
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext}
	d.tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

// URL maps name to 127.0.0.1 and returns s's URL with its host replaced by
// name, so that s is reached through the resolver.
func (d *DNSServer) URL(s *Server, name string) string {
	d.Map(name, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	u, err := url.Parse(s.URL)
	if err != nil {
		d.tb.Fatalf("faulttest: %v", err)
	}
	u.Host = net.JoinHostPort(strings.TrimSuffix(name, "."), u.Port())
	return u.String()
}

// Close stops the server, closes its TCP connections and waits for its
// goroutines. It may be called more than once.
func (d *DNSServer) Close() {
	d.once.Do(func() {
		close(d.done)
		d.udp.Close()
		d.tcp.Close()
		d.mu.Lock()
		for c := range d.conns {
			c.Close()
		}
		d.mu.Unlock()
		d.wg.Wait()
	})
}

func (d *DNSServer) serveUDP() {
	defer d.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, addr, err := d.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n]); resp != nil {
			d.udp.WriteTo(resp, addr)
		}
	}
}

func (d *DNSServer) serveTCP() {
	defer d.wg.Done()
	for {
		c, err := d.tcp.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		select {
		case <-d.done:
			d.mu.Unlock()
			c.Close()
			return
		default:
		}
		d.conns[c] = struct{}{}
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() {
				d.mu.Lock()
				delete(d.conns, c)
				d.mu.Unlock()
				c.Close()
			}()
			d.serveStream(c)
		}()
	}
}

// serveStream answers length-prefixed queries on c (RFC 1035, 4.2.2).
func (d *DNSServer) serveStream(c net.Conn) {
	var size [2]byte
	for {
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		resp := d.answer(msg)
		if resp == nil {
			continue
		}
		out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(resp)), uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// answer returns the response to the query msg, or nil for no response
// (a malformed query, or a name in [ZoneTimeout]).
func (d *DNSServer) answer(msg []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	d.queries.Add(1)
	name := strings.ToLower(q.Name.String())

	rh := dnsmessage.Header{
		ID:                 h.ID,
		Response:           true,
		OpCode:             h.OpCode,
		Authoritative:      true,
		RecursionDesired:   h.RecursionDesired,
		RecursionAvailable: true,
	}
	var addrs []netip.Addr
	switch {
	case inZone(name, ZoneTimeout):
		return nil
	case inZone(name, ZoneNXDomain):
		rh.RCode = dnsmessage.RCodeNameError
	case inZone(name, ZoneServFail):
		rh.RCode = dnsmessage.RCodeServerFailure
		rh.Authoritative = false
	case inZone(name, ZoneRefused):
		rh.RCode = dnsmessage.RCodeRefused
		rh.Authoritative = false
	default:
		d.mu.Lock()
		known, ok := d.names[name]
		d.mu.Unlock()
		if !ok {
			rh.RCode = dnsmessage.RCodeNameError
		}
		addrs = known
	}

	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil
	}
	rrh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
	for _, a := range addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			rrh.Type = dnsmessage.TypeA
			err = b.AResource(rrh, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			rrh.Type = dnsmessage.TypeAAAA
			err = b.AAAAResource(rrh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil
		}
	}
	resp, err := b.Finish()
	if err != nil {
		return nil
	}
	return resp
}

// canonical returns name in lower case with a final dot.
func canonical(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// inZone reports whether the canonical name is zone or a name under it.
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
