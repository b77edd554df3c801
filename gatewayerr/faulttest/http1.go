package faulttest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Refused returns the address of a loopback port where nothing listens: it
// binds 127.0.0.1:0, closes the listener and reports the address.
//
// A plain http.Transport fails with a *net.OpError (Op "dial") wrapping
// syscall.ECONNREFUSED. Another process could in principle bind the port in
// between; on a test machine that does not happen in practice.
//
// Kind: connection_refused.
func Refused(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.ln.Close()
	s.ln = nil
	return s
}

// AcceptClose accepts each connection and closes it at once, without
// reading the request or answering.
//
// A plain http.Transport usually fails with a bare io.EOF. When the request
// reaches the server's kernel after the close, the kernel answers with a
// reset and the client may see syscall.ECONNRESET or syscall.EPIPE instead,
// and when the close arrives before the request is written, an error of an
// unexported type with the text "http: server closed idle connection";
// tests must accept any of these. [CloseBeforeHeaders] is the deterministic
// variant.
//
// Kind: connection_terminated.
func AcceptClose(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.serveConns(func(c net.Conn) {})
	return s
}

// CloseBeforeHeaders reads each request in full, then closes the connection
// cleanly (a FIN) without answering.
//
// A plain http.Transport fails with a bare io.EOF (on a fresh connection Go
// does not retry it, as it would on a reused one for an idempotent request).
//
// Kind: connection_terminated.
func CloseBeforeHeaders(t testing.TB) *Server {
	t.Helper()
	return answer(t, "", nil)
}

// ResetBeforeHeaders reads each request in full, then resets the TCP
// connection (SO_LINGER 0, then close) before writing any byte.
//
// A plain http.Transport fails with a *net.OpError (Op "read") wrapping
// syscall.ECONNRESET.
//
// Kind: connection_terminated.
func ResetBeforeHeaders(t testing.TB) *Server {
	t.Helper()
	return answer(t, "", reset)
}

// ResetDuringHeaders reads each request, writes a status line and part of a
// header field, then resets the connection.
//
// RoundTrip fails and returns no response. On Linux the error is
// io.ErrUnexpectedEOF, wrapped as "net/http: HTTP/1.x transport connection
// broken: unexpected EOF": the kernel reports a reset that follows data the
// client has not read yet as an end of stream. Elsewhere it may be a
// *net.OpError (Op "read") wrapping syscall.ECONNRESET.
//
// Kind: connection_terminated.
func ResetDuringHeaders(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/pl", reset)
}

// ResetDuringBody reads each request, writes complete headers with
// Content-Length: 1000 and 100 bytes of body, then resets the connection.
//
// A plain http.Transport returns a 200 response; reading its body yields
// the 100 bytes, then a *net.OpError (Op "read") wrapping
// syscall.ECONNRESET.
//
// Kind: connection_terminated from the error alone (gatewayerr.Classify);
// http_response_incomplete for a client that knows it was reading the body
// (gatewayerr.ClassifyPhase with PhaseReadBody, as middleware.Transport does).
func ResetDuringBody(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 100), reset)
}

// StallHeaders reads each request and never answers, until Close.
//
// A plain http.Transport waits: the caller's context fails the round trip
// with context.DeadlineExceeded (wrapped in *url.Error by http.Client), and
// Transport.ResponseHeaderTimeout with a net.Error whose Timeout is true
// ("net/http: timeout awaiting response headers").
//
// Kind: http_response_timeout.
func StallHeaders(t testing.TB) *Server {
	t.Helper()
	return answer(t, "", stall)
}

// StallAfterStatusLine reads each request, writes "HTTP/1.1 200 OK\r\n" and
// stalls with the header section unfinished, until Close.
//
// A plain http.Transport fails as with [StallHeaders]: context.DeadlineExceeded
// from the caller's context, or the "timeout awaiting response headers"
// net.Error from Transport.ResponseHeaderTimeout, which also covers a header
// section that started but did not end.
//
// Kind: http_response_timeout.
func StallAfterStatusLine(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\n", stall)
}

// StallBody reads each request, writes headers with Content-Length: 1000
// and 100 bytes of body, then stalls until Close.
//
// A plain http.Transport returns a 200 response; reading its body yields the
// 100 bytes and then blocks until the caller's context ends, when Read
// returns context.DeadlineExceeded (or context.Canceled). Transport has no
// body read timeout of its own.
//
// Kind: http_response_timeout from the caller's context.DeadlineExceeded alone;
// connection_read_timeout for a client that knows it was reading the body.
func StallBody(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 100), stall)
}

// StallErrorBody reads each request and answers with status code,
// Content-Length: 45 and no Content-Type, then sends no body and stalls
// until Close: an error response whose type can only be sniffed from bytes
// that never come.
//
// A plain http.Transport returns the response; reading its body blocks
// until the caller's context ends.
//
// Kind: gatewayerr.ClassifyResponse of the status (503: destination_unavailable);
// the stalled body then as [StallBody].
func StallErrorBody(t testing.TB, code int) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 "+strconv.Itoa(code)+" "+http.StatusText(code)+"\r\nContent-Length: 45\r\n\r\n", stall)
}

// ResetDuringUpload reads each request's headers and the first 64 KiB of
// its body, then resets the connection: a client still uploading fails to
// write the rest.
//
// A plain http.Transport fails with a write error ("connection reset by
// peer" or "broken pipe", or "use of closed network connection" once it
// closed the connection itself), unless it reads the reset first.
//
// Kind: connection_terminated.
func ResetDuringUpload(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.serveConns(func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		s.countRequest()
		io.CopyN(io.Discard, req.Body, 64<<10)
		reset(c)
	})
	return s
}

// StallRead accepts each connection and never reads from it, until Close, so
// that a client writing a request body larger than the kernel's socket
// buffers (a few megabytes on loopback) blocks: a write timeout.
//
// http.Transport has no write timeout: the caller's context fails the round
// trip with context.DeadlineExceeded while the body is being written.
//
// Kind: http_response_timeout from the caller's context.DeadlineExceeded alone;
// connection_write_timeout for a client that knows it was writing the request.
func StallRead(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.serveConns(func(c net.Conn) {
		<-s.done
	})
	return s
}

// GarbageStatus reads each request and answers with a line that is not an
// HTTP status line (an SSH banner, as from a gateway pointed at the wrong
// port), then closes.
//
// A plain http.Transport fails with an error of an unexported type whose
// text is `malformed HTTP response "SSH-2.0-OpenSSH_9.6"`; no errors.Is or
// errors.As target matches it.
//
// Kind: http_protocol_error.
func GarbageStatus(t testing.TB) *Server {
	t.Helper()
	return answer(t, "SSH-2.0-OpenSSH_9.6\r\n", nil)
}

// ZeroStatus reads each request and answers "HTTP/1.1 000 Zero" with a
// 2-byte body, "ok", then stalls. No HTTP version allows a status below 100.
//
// A plain http.Transport returns it as a response with StatusCode 0 and
// Status "000 Zero"; handed to a ResponseWriter, as httputil.ReverseProxy
// does, that status makes WriteHeader panic.
//
// Kind: none for a plain client, which gets a response; a gateway that
// refuses the status (middleware.NewReverseProxy) reports http_protocol_error.
func ZeroStatus(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok", stall)
}

// OversizedHeaders reads each request and answers with a header section
// larger than n bytes: one X-Filler field of n bytes. The caller sets
// Transport.MaxResponseHeaderBytes below n.
//
// A plain http.Transport fails with an error of an unexported type whose
// text is "net/http: server response headers exceeded N bytes; aborted",
// where N is the limit; Go does not say which field was too large.
//
// Kind: http_response_header_section_size.
func OversizedHeaders(t testing.TB, n int) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nX-Filler: "+strings.Repeat("a", n)+"\r\nContent-Length: 0\r\n\r\n", stall)
}

// ShortBody reads each request, writes headers with Content-Length: 1000
// and 100 bytes of body, then closes the connection cleanly.
//
// A plain http.Transport returns a 200 response; reading its body yields the
// 100 bytes, then io.ErrUnexpectedEOF.
//
// Kind: http_response_incomplete.
func ShortBody(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 100), nil)
}

// BrokenChunking reads each request and answers with a chunked body whose
// second chunk-size line is not hexadecimal, then closes.
//
// A plain http.Transport returns a 200 response; reading its body yields
// "hello", then an error of an unexported type whose text is "invalid byte
// in chunk length".
//
// Kind: http_response_transfer_coding.
func BrokenChunking(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", nil)
}

// LongTrailer reads each request and answers with a chunked body, "hello",
// followed by a trailer section of about 8 KB (one field), then stalls.
//
// A plain http.Transport returns a 200 response; reading its body yields
// "hello", then an error whose text is "http: suspiciously long trailer
// after chunked body": the client reads a trailer only if it ends within
// its 4 KB read buffer.
//
// Kind: http_response_trailer_section_size.
func LongTrailer(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"+
		"5\r\nhello\r\n0\r\nX-Checksum: "+strings.Repeat("f", 8<<10)+"\r\n\r\n", stall)
}

// BrokenGzip reads each request and answers with Content-Encoding: gzip and
// a body that is not gzip at all.
//
// Go's Transport decompresses only when it added "Accept-Encoding: gzip"
// itself, that is when the request has no Accept-Encoding and the transport
// has DisableCompression false. Then it returns a 200 response with
// Uncompressed true, and reading the body fails with gzip.ErrHeader. When
// the caller asked for gzip itself (as httputil.ReverseProxy forwards the
// visitor's Accept-Encoding), the body is returned as it is and no error
// occurs: the corruption reaches the visitor.
//
// Kind: http_response_content_coding, where the transport decompresses.
func BrokenGzip(t testing.TB) *Server {
	t.Helper()
	const body = "this body claims to be gzip but is plain text"
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body, stall)
}

// BadContentLength reads each request and answers with two conflicting
// Content-Length fields (5 and 7).
//
// A plain http.Transport fails with an error of an unexported type whose
// text is `http: message cannot contain multiple Content-Length headers;
// got ["5" "7"]`.
//
// Kind: http_protocol_error.
func BadContentLength(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", stall)
}

// BadStatusLine reads each request and answers with a status line whose
// code is not three digits ("HTTP/1.1 2OO OK", letters O for zeros), then
// stalls until Close.
//
// A plain http.Transport fails with an error of an unexported type whose
// text is `malformed HTTP status code "2OO"`.
//
// Kind: http_protocol_error.
func BadStatusLine(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", stall)
}

// StallChunkedBody reads each request, writes a 200 response with a
// chunked body and its first chunk, "hello", then stalls until Close: a
// stream that stops midway. It is [StallBody] without a Content-Length, so
// that a gateway can end its own response with a Proxy-Status trailer.
//
// A plain http.Transport returns the 200 response; reading its body yields
// "hello" and then blocks until the caller's context ends or a read
// deadline on the connection passes (a *net.OpError, Op "read", whose
// Timeout is true). Transport has no body read timeout of its own.
//
// Kind: connection_read_timeout with a read deadline on the connection (as
// [All] sets); with the caller's deadline, as [StallBody].
func StallChunkedBody(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", stall)
}

// ShortChunkedBody reads each request, writes a 200 response with a
// chunked body and its first chunk, "hello", then closes the connection
// cleanly before the last chunk: a truncated stream. It is [ShortBody]
// without a Content-Length.
//
// A plain http.Transport returns the 200 response; reading its body yields
// "hello", then io.ErrUnexpectedEOF.
//
// Kind: http_response_incomplete.
func ShortChunkedBody(t testing.TB) *Server {
	t.Helper()
	return answer(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", nil)
}
