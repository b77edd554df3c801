package faulttest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Server is a loopback upstream started by one of the package's
// constructors. Its fields are set by the constructor and must not be
// changed.
type Server struct {
	// URL is the base URL to reach the server, such as
	// "http://127.0.0.1:41234" or "https://127.0.0.1:41234".
	URL string

	// Addr is the address the server listens on, such as "127.0.0.1:41234".
	// For [Refused] nothing listens there.
	Addr string

	// RootCAs is, for a TLS server, the pool a correctly configured client
	// trusts: the CA that signed the server's certificate where one did
	// ([TLS], [TLSExpired], [TLSWrongHost], [TLSClientCertRequired],
	// [PlainToTLS], [PlainToTLSHangUp], [HTTP2ToHTTP1] and the HTTP/2
	// faults), and an unrelated CA otherwise ([TLSSelfSigned],
	// [TLSToPlain], [TLSHandshakeStall]), so that a client never falls back
	// to the system's roots. It is nil for plain HTTP servers.
	RootCAs *x509.CertPool

	tb testing.TB
	h2 bool // Transport should negotiate HTTP/2
	// protocols, when not nil, are the only protocols Transport speaks:
	// the faults of a client that speaks what the server does not.
	protocols *http.Protocols

	reqMu    sync.Mutex
	requests int           // requests (or HTTP/2 streams) received
	reqCh    chan struct{} // closed and replaced at each request

	ln      net.Listener
	httpSrv *http.Server
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	onClose []func() // run by Close after every goroutine has ended
	once    sync.Once
}

// newServer listens on 127.0.0.1:0 and returns a server whose URL has the
// given scheme. Close is registered with t.Cleanup.
func newServer(t testing.TB, scheme string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faulttest: listen: %v", err)
	}
	s := &Server{
		Addr:  ln.Addr().String(),
		tb:    t,
		ln:    ln,
		done:  make(chan struct{}),
		conns: make(map[net.Conn]struct{}),
		reqCh: make(chan struct{}),
	}
	s.URL = scheme + "://" + s.Addr
	t.Cleanup(s.Close)
	return s
}

// Close stops accepting connections, closes every open connection and waits
// for every goroutine the server started to return. It may be called more
// than once; the constructors register it with t.Cleanup.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		if s.ln != nil {
			s.ln.Close()
		}
		if s.httpSrv != nil {
			s.httpSrv.Close()
		}
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		for _, f := range s.onClose {
			f()
		}
	})
}

// Requests returns the number of requests the server has received so far:
// requests read in full for the HTTP/1 faults (header sections for
// [EarlyResponse]), requests that reached a handler for the well-behaved
// servers, and HEADERS frames for the HTTP/2 faults. Servers that never
// read a request report 0.
func (s *Server) Requests() int {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return s.requests
}

// WaitRequests blocks until the server has received n requests (as counted
// by [Server.Requests]) or ctx ends, and returns ctx's error in that case.
// Tests use it to act once a request is known to be held by a stalling
// server, without sleeping.
func (s *Server) WaitRequests(ctx context.Context, n int) error {
	for {
		s.reqMu.Lock()
		got, ch := s.requests, s.reqCh
		s.reqMu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// countRequest counts a request and wakes WaitRequests.
func (s *Server) countRequest() {
	s.reqMu.Lock()
	s.requests++
	close(s.reqCh)
	s.reqCh = make(chan struct{})
	s.reqMu.Unlock()
}

// Transport returns a new transport set up to reach the server: no proxy,
// the server's RootCAs, HTTP/2 for the HTTP/2 faults, only HTTP/2 for
// [HTTP2ToHTTP1] and [H2CToHTTP1], and HTTP/1.1 for every other server. Its
// dial timeout is 5 seconds; other timeouts are left to the caller. Its
// idle connections are closed when the test ends.
func (s *Server) Transport() *http.Transport {
	tr := &http.Transport{
		Proxy:             nil,
		DialContext:       (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSClientConfig:   &tls.Config{RootCAs: s.RootCAs},
		ForceAttemptHTTP2: s.h2,
	}
	if s.protocols != nil {
		p := *s.protocols
		tr.Protocols = &p
	}
	s.tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

// track records c as open; it reports false, and c must be closed, when the
// server is closing.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return false
	default:
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serveConns runs handle, each in its own goroutine, for every connection
// accepted until Close. handle may keep the connection until Close closes
// it; the connection is closed when handle returns.
func (s *Server) serveConns(handle func(c net.Conn)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			if !s.track(c) {
				c.Close()
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.untrack(c)
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// serveHTTP serves h with a net/http server, over TLS when cfg is not nil.
// The server's goroutines are waited for by Close.
func (s *Server) serveHTTP(h http.Handler, cfg *tls.Config) {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.countRequest()
			h.ServeHTTP(w, r)
		}),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          discardLogger(),
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.wg.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.wg.Done()
			}
		},
	}
	s.httpSrv = srv
	ln := s.ln
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv.Serve(ln)
	}()
}

// readRequest reads one HTTP/1 request and its body from br. It reports
// whether a request was read.
func (s *Server) readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return false
	}
	s.countRequest()
	return true
}

// answer starts a server that reads each HTTP/1 request in full, writes raw
// (if not empty) to the connection, then calls then (if not nil), and closes
// the connection cleanly when then returns: stall keeps it open until the
// client or Close ends it, reset ends it with a TCP RST.
func answer(t testing.TB, raw string, then func(c net.Conn)) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.serveConns(func(c net.Conn) {
		if !s.readRequest(bufio.NewReader(c)) {
			return
		}
		if raw != "" {
			c.Write([]byte(raw))
		}
		if then != nil {
			then(c)
		}
	})
	return s
}

// stall blocks until the peer closes c or the server closes, reading and
// discarding whatever the peer sends.
func stall(c net.Conn) {
	io.Copy(io.Discard, c)
}

// reset makes the kernel send a TCP RST instead of a FIN: it sets a zero
// linger time and closes c.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// drain reads and discards what is left of r's body, up to 64 MiB.
func drain(r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
}

// discardLogger returns a logger for net/http's ErrorLog fields that writes
// nowhere: the package logs nothing.
func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
