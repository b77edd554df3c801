// Package faultserver starts loopback upstreams that misbehave on purpose,
// one per failure a Go gateway meets, for the project's tests: gatewayerr's
// classification table and the middleware's transport and reverse-proxy
// tests.
//
// Every constructor takes a testing.TB, listens on 127.0.0.1:0, registers
// [Server.Close] with t.Cleanup and fails the test if it cannot start. Close
// stops accepting, closes every open connection and waits for every
// goroutine the server started, so tests can use goleak. [Server.Transport]
// returns a fresh http.Transport set up to reach the server (no proxy from
// the environment, the server's RootCAs); timeouts are the caller's.
//
// Nothing here ever touches an address other than 127.0.0.1, and the
// resolver-based faults ([DNS]) never query the machine's resolver.
//
// # Faults and the errors Go gives
//
// Each constructor's documentation says what a plain http.Transport (Go
// 1.26) returns. In short, for HTTP/1.1 ("RT" is RoundTrip's error, "body"
// the error from reading the response body; "text" means the error's type
// is unexported and only its text identifies it):
//
//	Refused               RT   *net.OpError{Op: "dial"} wrapping syscall.ECONNREFUSED
//	AcceptClose           RT   io.EOF; sometimes ECONNRESET, EPIPE, or text "http: server closed idle connection"
//	CloseBeforeHeaders    RT   io.EOF, unwrapped
//	ResetBeforeHeaders    RT   *net.OpError{Op: "read"} wrapping syscall.ECONNRESET
//	ResetDuringHeaders    RT   io.ErrUnexpectedEOF on Linux (the reset after unread data reads as EOF), else ECONNRESET
//	ResetDuringBody       body *net.OpError{Op: "read"} wrapping syscall.ECONNRESET, after a 200
//	StallHeaders          RT   context.DeadlineExceeded; with ResponseHeaderTimeout a net.Error, Timeout() true,
//	                           text "net/http: timeout awaiting response headers" (also errors.Is DeadlineExceeded)
//	StallAfterStatusLine  RT   as StallHeaders
//	StallBody             body context.DeadlineExceeded (the caller's context), after a 200
//	StallRead             RT   context.DeadlineExceeded while writing the request body
//	GarbageStatus         RT   text `malformed HTTP response "SSH-2.0-OpenSSH_9.6"`
//	OversizedHeaders      RT   text "net/http: server response headers exceeded N bytes; aborted"
//	ShortBody             body io.ErrUnexpectedEOF, after a 200
//	BrokenChunking        body text "invalid byte in chunk length", after a 200
//	BrokenGzip            body gzip.ErrHeader, after a 200, only when the transport added Accept-Encoding
//	BadContentLength      RT   text `http: message cannot contain multiple Content-Length headers; got ["5" "7"]`
//	Status, Loop          no error: a response with the status asked for (Loop: 508 after MaxLoopHops)
//
// Errors that a round trip returns after the connection broke are often
// wrapped in an unexported error with the text "net/http: HTTP/1.x transport
// connection broken: ", which unwraps to the cause; http.Client wraps
// everything once more in a *url.Error.
package faultserver
