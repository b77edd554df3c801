package faulttest

import (
	"net"
	"testing"
	"time"
)

// Firewall returns a server whose connections hang at connect, as behind a
// firewall that drops packets: nothing answers a client's SYN, and the
// client's dial fails only when its own timeout passes.
//
// On loopback no firewall can be set up without privileges, so Firewall
// builds the closest equivalent: a listener whose accept queue is full and
// that never accepts. The listen backlog is lowered to zero, one
// connection of the server's own fills the queue, and the kernel then
// drops every further SYN without an answer (Linux does not reset
// connections to a full queue unless net.ipv4.tcp_abort_on_overflow is
// set), exactly as a firewall's DROP rule does. The same silence is what
// clients of an overloaded server whose accept queue overflows see.
//
// A plain http.Transport fails, after its dialer's Timeout (5 seconds with
// [Server.Transport]; lower it), with a *net.OpError (Op "dial") whose
// Timeout is true ("i/o timeout"), or with context.DeadlineExceeded when
// the caller's context ends first.
//
// Firewall needs Linux; elsewhere it skips the test (t.Skip), and [All]
// leaves it out.
//
// Kind: connection_timeout.
func Firewall(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	if err := shrinkBacklog(s.ln); err != nil {
		t.Skipf("faulttest: Firewall: %v", err)
	}
	// Fill the queue with connections that are never accepted. With a
	// backlog of zero, Linux queues one; probe until a dial is dropped. A
	// probe of an empty queue that times out (a machine too busy to
	// answer in time) proves nothing: at least one connection must be
	// queued first.
	filled := 0
	for range maxFillers {
		c, err := net.DialTimeout("tcp4", s.Addr, fillProbeTimeout)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				if filled > 0 {
					return s
				}
				continue
			}
			t.Fatalf("faulttest: Firewall: filling the accept queue: %v", err)
		}
		filled++
		s.mu.Lock()
		s.conns[c] = struct{}{} // closed by Close
		s.mu.Unlock()
	}
	t.Fatalf("faulttest: Firewall: the accept queue did not fill after %d connections", maxFillers)
	return nil
}

const (
	// maxFillers bounds the connections Firewall opens to fill the queue.
	maxFillers = 8
	// fillProbeTimeout is how long Firewall waits for a connection that
	// would show the queue is not yet full. A queued connection completes
	// in microseconds on loopback.
	fillProbeTimeout = 200 * time.Millisecond
)
