// Package faulttest starts loopback upstreams that misbehave on purpose,
// one for each way an upstream fails a Go gateway, so that a gateway's tests
// can meet them: net/http/httptest gives healthy servers, faulttest the
// ones that refuse, reset, stall, lie, speak bad TLS, break HTTP/2 or
// answer DNS queries with NXDOMAIN.
//
// # The catalog
//
// [All] returns the catalog: a [Fault] for each common failure, with the
// gatewayerr.Kind that a client of it sees and a Start function that
// returns a [Target], the URL to request and a transport set up to reach
// it. A gateway's test runs every entry and checks that the gateway
// reports each fault's kind (see the package example):
//
//	for _, f := range faulttest.All() {
//		t.Run(f.Name, func(t *testing.T) {
//			target := f.Start(t)
//			proxy := middleware.NewReverseProxy(target.URL, middleware.Options{Transport: target.Transport})
//			// serve a request with proxy and check its Proxy-Status names f.Kind
//		})
//	}
//
// # Servers
//
// Every constructor takes a testing.TB, listens on 127.0.0.1:0, registers
// [Server.Close] with t.Cleanup and fails the test if it cannot start. Close
// stops accepting, closes every open connection and waits for every
// goroutine the server started, so tests can use goleak. [Server.Transport]
// returns a fresh http.Transport set up to reach the server (no proxy from
// the environment, the server's RootCAs, a 5-second dial timeout); other
// timeouts are the caller's. Like httptest, the package imports testing:
// it is meant for tests only.
//
// Each constructor's documentation says what the server does, the error a
// plain http.Transport gives for it, and, after "Kind:", the
// gatewayerr.Kind that a client sees: gatewayerr.Classify of that error, or
// gatewayerr.ClassifyResponse of the response for the faults that answer.
//
// Nothing here ever touches an address other than 127.0.0.1, and the
// resolver-based faults ([DNS]) never query the machine's resolver.
//
// # Choosing a fault
//
// Connection faults: [Refused], [Firewall], [AcceptClose],
// [CloseBeforeHeaders], [ResetBeforeHeaders], [ResetDuringHeaders],
// [ResetDuringBody], [ResetDuringUpload], [EarlyResponse] and
// [CloseOnReuse]. Timeouts: [StallHeaders], [StallAfterStatusLine],
// [StallBody], [StallChunkedBody], [StallErrorBody], [StallRead] and
// [TLSHandshakeStall]. Broken responses: [GarbageStatus], [BadStatusLine],
// [ZeroStatus], [OversizedHeaders], [ShortBody], [ShortChunkedBody],
// [BrokenChunking], [LongTrailer], [BrokenGzip], [BadContentLength] and
// [BadUpgrade]. TLS: [TLS] (correct, for contrast), [TLSSelfSigned],
// [TLSExpired], [TLSWrongHost], [TLSToPlain], [PlainToTLS],
// [PlainToTLSHangUp], [TLSClientCertRequired] and [HTTP2ToHTTP1]. HTTP/2:
// [H2RSTStream], [H2GoAway], [H2BadFrame] and [H2SpeaksHTTP1], reached over
// TLS with ALPN "h2" through [Server.Transport] (ForceAttemptHTTP2) or
// a golang.org/x/net/http2.Transport with [Server.RootCAs], and
// [H2CToHTTP1]. Upstream error responses:
// [Status]; chains of proxies: [UpstreamGateway] and [Loop]; resolver
// faults: [DNS], whose [DNSServer.Transport] reaches the others by name.
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
//	BadStatusLine         RT   text `malformed HTTP status code "2OO"`
//	StallChunkedBody      body as StallBody, after "hello"; a read deadline on the connection: a *net.OpError, Timeout()
//	ShortChunkedBody      body io.ErrUnexpectedEOF, after a 200 and "hello"
//	Firewall              RT   *net.OpError{Op: "dial"}, Timeout() true, after the dialer's Timeout (Linux only)
//	UpstreamGateway       no error: the upstream gateway's 502 or 504 with its Proxy-Status member
//	EarlyResponse         small body: no error, 413; large body: usually a *net.OpError{Op: "write"}
//	                           wrapping ECONNRESET or EPIPE, sometimes the 413 (a race, as in production)
//	CloseOnReuse          replayable request: no error (retried on a new connection); other: io.EOF
//	BadUpgrade            no error: a 101 with the wrong Upgrade; httputil.ReverseProxy's ErrorHandler
//	                           gets text `backend tried to switch protocol "not-websocket" when ...`
//	Status, Loop          no error: a response with the status asked for (Loop: 508 after MaxLoopHops)
//
// For TLS (the certificate errors come from the handshake, before any byte
// of the request is written):
//
//	TLS                   no error: 200 "ok"
//	TLSSelfSigned         RT   *tls.CertificateVerificationError wrapping x509.UnknownAuthorityError
//	TLSExpired            RT   *tls.CertificateVerificationError wrapping x509.CertificateInvalidError{Reason: x509.Expired}
//	TLSWrongHost          RT   *tls.CertificateVerificationError wrapping x509.HostnameError
//	TLSToPlain            RT   tls.RecordHeaderError ("first record does not look like a TLS handshake")
//	PlainToTLS            no error: 400 "Client sent an HTTP request to an HTTPS server.\n"
//	PlainToTLSHangUp      RT   io.EOF, or ECONNRESET
//	TLSClientCertRequired RT   *net.OpError{Op: "remote error"} wrapping crypto/tls's unexported alert
//	                           (uint8 116 "certificate required" in TLS 1.3, after the handshake;
//	                           40 "handshake failure" in TLS 1.2); not a tls.AlertError
//	HTTP2ToHTTP1          RT   *net.OpError{Op: "remote error"}, text "tls: no application protocol" (alert 120)
//	TLSHandshakeStall     RT   text "net/http: TLS handshake timeout", a net.Error with Timeout() true
//	                           (not errors.Is DeadlineExceeded); or context.DeadlineExceeded
//
// For HTTP/2, through net/http's bundled HTTP/2 ([Server.Transport]) and
// golang.org/x/net/http2 (an http2.Transport with [Server.RootCAs]):
//
//	H2RSTStream(code)     RT   http2.StreamError{StreamID: 1, Code: code} (errors.As works through both
//	                           transports); REFUSED_STREAM is retried with backoff instead, so the
//	                           caller sees its own context's error
//	H2GoAway(code)        RT   http2.GoAwayError{LastStreamID: 1, ErrCode: code} through x/net/http2;
//	                           through net/http an unexported copy that errors.As cannot match, text
//	                           "http2: server sent GOAWAY and closed the connection; LastStreamID=1, ..."
//	H2BadFrame            RT   http2.ConnectionError(PROTOCOL_ERROR), or an unexported copy; text
//	                           "connection error: PROTOCOL_ERROR"
//	H2SpeaksHTTP1         RT   text "... frame too large, note that the frame header looked like an HTTP/1.1 header"
//	H2CToHTTP1            RT   as H2SpeaksHTTP1, or (a race) "http2: client conn could not be established"
//
// For DNS, see [DNS]: a *net.DNSError with IsNotFound (NXDOMAIN), IsTemporary
// (SERVFAIL), neither (REFUSED) or IsTimeout, wrapped by http.Transport in a
// *net.OpError with Op "dial".
//
// # What the catalog leaves out
//
// [All] holds the faults whose kind a client sees the same way every time
// within about a second. Some constructors stay out of it: [H2RSTStream]
// with REFUSED_STREAM, which Go's HTTP/2 transports retry with backoff for
// about a minute, so that a client sees only its own deadline;
// [H2CToHTTP1], [EarlyResponse] and [CloseOnReuse], whose outcome is a race;
// [PlainToTLS] and [ZeroStatus], whose 400 and status 0 a plain client does
// not take for a failure; [StallRead] and [ResetDuringUpload], which need a
// large request body; [BadUpgrade], which needs an upgrade request; and the
// Content-Length variants of the body faults ([StallBody], [ShortBody],
// [ResetDuringBody]), which a gateway can only report by aborting its
// response, where the chunked ones in All allow a Proxy-Status trailer.
//
// Errors that a round trip returns after the connection broke are often
// wrapped in an unexported error with the text "net/http: HTTP/1.x transport
// connection broken: ", which unwraps to the cause; http.Client wraps
// everything once more in a *url.Error.
package faulttest
