package faulttest

import (
	"bufio"
	"net"
	"net/http"
	"testing"
)

// EarlyResponse reads each request's header section and, without reading
// the body, answers "413 Content Too Large" with "Connection: close", then
// closes the connection at once (no lingering close), as upstreams with a
// body size limit may do. [Server.Requests] counts header sections read.
//
// Closing with unread data makes the server's kernel send a reset, so the
// outcome is a race that a gateway must handle both ways: when the request
// body fits in the socket buffers (a few kilobytes), a plain http.Transport
// returns the 413 response and no error; when it does not (megabytes), it
// usually fails with a *net.OpError (Op "write") wrapping
// syscall.ECONNRESET (or EPIPE), and sometimes still returns the 413.
//
// Kind: none (the 413) or connection_terminated, as the race goes.
func EarlyResponse(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.serveConns(func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		s.countRequest()
		c.Write([]byte("HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\ntoo large"))
	})
	return s
}

// CloseOnReuse answers the first request on each connection with 200 "ok",
// keeping the connection open, then reads the second request in full and
// closes the connection cleanly without answering: an upstream whose idle
// timeout fired just as the client reused the connection.
//
// A plain http.Transport retries a replayable request (GET, HEAD, OPTIONS,
// TRACE, or any method with an Idempotency-Key or X-Idempotency-Key header,
// and no body or a GetBody) on a new connection, transparently: the caller
// gets 200 and [Server.Requests] counts three requests for two round trips.
// Any other request (a POST) fails with a bare io.EOF.
//
// Kind: none for a replayable request; connection_terminated otherwise.
func CloseOnReuse(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.serveConns(func(c net.Conn) {
		br := bufio.NewReader(c)
		if !s.readRequest(br) {
			return
		}
		if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")); err != nil {
			return
		}
		s.readRequest(br)
	})
	return s
}

// BadUpgrade reads each request and answers "101 Switching Protocols" with
// "Upgrade: not-websocket", whatever the request asked for, then keeps the
// connection open until the client closes it.
//
// A plain http.Transport returns the 101 response, whose Body is an
// io.ReadWriteCloser over the connection, and no error. An
// httputil.ReverseProxy forwarding a WebSocket upgrade to it calls its
// ErrorHandler with an error of an unexported type whose text is
// `backend tried to switch protocol "not-websocket" when "websocket" was
// requested` (it answers 502 by default).
//
// Kind: http_upgrade_failed, through httputil.ReverseProxy.
func BadUpgrade(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: not-websocket\r\n\r\n", stall)
}
