package faulttest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"

	"golang.org/x/net/http2"
)

// H2RSTStream returns an HTTP/2 server (TLS with ALPN "h2"; its CA in
// RootCAs) that answers every HEADERS frame with RST_STREAM carrying code,
// and keeps the connection open.
//
// Reach it with [Server.Transport] (an http.Transport with
// ForceAttemptHTTP2 and the CA: HTTP/2 through net/http's bundled copy) or
// with a golang.org/x/net/http2.Transport whose TLSClientConfig trusts
// [Server.RootCAs]. A client
// that does not offer "h2" gets a connection closed after the handshake.
//
// With a code such as http2.ErrCodeInternal, RoundTrip fails with a stream
// error: an http2.StreamError{StreamID: 1, Code: code} whose Cause has the
// text "received from peer" through x/net/http2, and net/http's unexported
// copy of the type through http.Transport, which errors.As with an
// *http2.StreamError target still matches (it converts itself). Its text is
// "stream error: stream ID 1; INTERNAL_ERROR; received from peer".
//
// With http2.ErrCodeRefusedStream, both transports retry the request
// (REFUSED_STREAM promises it was not processed): once at once, then with
// backoffs of about 1 s, 2 s, 4 s ..., up to 6 retries. A caller whose
// context ends first gets context.DeadlineExceeded or context.Canceled, and
// [Server.Requests] (or [Server.WaitRequests]) shows the retries.
//
// Kind: connection_terminated for INTERNAL_ERROR and CANCEL,
// connection_limit_reached for ENHANCE_YOUR_CALM, http_protocol_error for
// PROTOCOL_ERROR through x/net/http2 (net/http retries it, as it does
// REFUSED_STREAM: then http_response_timeout, from the caller's deadline).
func H2RSTStream(t testing.TB, code http2.ErrCode) *Server {
	t.Helper()
	return newH2Server(t, func(fr *http2.Framer, tc *tls.Conn, streamID uint32) bool {
		return fr.WriteRSTStream(streamID, code) != nil
	})
}

// H2GoAway returns an HTTP/2 server (TLS with ALPN "h2"; its CA in RootCAs)
// that answers the first HEADERS frame of each connection with GOAWAY
// carrying code, the stream's ID as the last stream ID (the request may
// have been processed, so it is not retried) and the debug data
// "faulttest", then closes its side of the connection. Reach it as
// [H2RSTStream].
//
// Through x/net/http2.Transport, RoundTrip fails with an http2.GoAwayError
// {LastStreamID: 1, ErrCode: code, DebugData: "faulttest"}. Through
// http.Transport the error is net/http's unexported copy, which no errors.As
// target matches: its text is "http2: server sent GOAWAY and closed the
// connection; LastStreamID=1, ErrCode=INTERNAL_ERROR, debug=\"faulttest\"".
//
// Kind: connection_terminated for NO_ERROR and INTERNAL_ERROR,
// connection_limit_reached for ENHANCE_YOUR_CALM, http_protocol_error for
// PROTOCOL_ERROR.
func H2GoAway(t testing.TB, code http2.ErrCode) *Server {
	t.Helper()
	return newH2Server(t, func(fr *http2.Framer, tc *tls.Conn, streamID uint32) bool {
		if fr.WriteGoAway(streamID, code, []byte("faulttest")) != nil {
			return true
		}
		// Half-close, then read until the client closes: a reset would race
		// with the client's reading of the GOAWAY.
		tc.CloseWrite()
		io.Copy(io.Discard, tc)
		return true
	})
}

// H2BadFrame returns an HTTP/2 server (TLS with ALPN "h2"; its CA in
// RootCAs) that answers the first HEADERS frame of each connection with a
// frame the client must treat as a connection error of type PROTOCOL_ERROR
// (RFC 9113, section 6.1): a DATA frame on stream 0. The client detects the
// error itself, sends GOAWAY and closes the connection. Reach it as
// [H2RSTStream].
//
// RoundTrip fails with http2.ConnectionError(http2.ErrCodeProtocol) through
// x/net/http2, and with net/http's unexported copy of that type through
// http.Transport, which no errors.As target matches: both have the text
// "connection error: PROTOCOL_ERROR".
//
// Kind: http_protocol_error.
func H2BadFrame(t testing.TB) *Server {
	t.Helper()
	return newH2Server(t, func(fr *http2.Framer, tc *tls.Conn, streamID uint32) bool {
		fr.AllowIllegalWrites = true
		if fr.WriteData(0, false, []byte("faulttest")) != nil {
			return true
		}
		// Read until the client closes: it sends GOAWAY and hangs up.
		io.Copy(io.Discard, tc)
		return true
	})
}

// H2SpeaksHTTP1 returns an HTTP/2 server (TLS with ALPN "h2"; its CA in
// RootCAs) that answers the first HEADERS frame of each connection in
// HTTP/1.1, as a server that mixes up its protocols does, then stalls.
// Reach it as [H2RSTStream].
//
// The client reads the status line as an HTTP/2 frame header whose length
// exceeds the frame size limit. RoundTrip fails, through both transports,
// with an error whose text is "http2: failed reading the frame payload:
// http2: frame too large, note that the frame header looked like an
// HTTP/1.1 header" (wrapping http2.ErrFrameTooLarge through x/net/http2,
// and net/http's unexported copy of it through http.Transport).
//
// A server that answers the connection preface itself in HTTP/1.1, before
// any SETTINGS, makes both transports fail either so or, when the
// connection's failure wins a race with the request, with "http2: client
// conn could not be established", which hides the cause.
//
// Kind: http_protocol_error.
func H2SpeaksHTTP1(t testing.TB) *Server {
	t.Helper()
	return newH2Server(t, func(fr *http2.Framer, tc *tls.Conn, streamID uint32) bool {
		if _, err := tc.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")); err != nil {
			return true
		}
		stall(tc)
		return true
	})
}

// newH2Server starts a TLS server that speaks just enough HTTP/2 to read
// requests: it answers SETTINGS and PING, ignores other frames, and calls
// onHeaders for each HEADERS frame; the connection is closed when onHeaders
// returns true.
func newH2Server(t testing.TB, onHeaders func(fr *http2.Framer, tc *tls.Conn, streamID uint32) bool) *Server {
	t.Helper()
	ca := newAuthority(t, "faulttest CA")
	cfg := &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, leafSpec{ips: loopbackIP})},
		NextProtos:   []string{http2.NextProtoTLS},
	}
	s := newServer(t, "https")
	s.RootCAs = ca.pool
	s.h2 = true
	s.serveConns(func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil || tc.ConnectionState().NegotiatedProtocol != http2.NextProtoTLS {
			return
		}
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(tc, preface); err != nil || !bytes.Equal(preface, []byte(http2.ClientPreface)) {
			return
		}
		fr := http2.NewFramer(tc, tc)
		if fr.WriteSettings() != nil {
			return
		}
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() && fr.WriteSettingsAck() != nil {
					return
				}
			case *http2.PingFrame:
				if !f.IsAck() && fr.WritePing(true, f.Data) != nil {
					return
				}
			case *http2.HeadersFrame:
				s.countRequest()
				if onHeaders(fr, tc, f.StreamID) {
					return
				}
			}
		}
	})
	return s
}

// H2CToHTTP1 returns a plain HTTP/1.1 server, answering 200 "ok", whose
// [Server.Transport] speaks only unencrypted HTTP/2 with prior knowledge
// (h2c, its Protocols allow UnencryptedHTTP2 alone): a client that speaks
// HTTP/2 to an upstream that only knows HTTP/1.1.
//
// The server takes the HTTP/2 connection preface for a request ("PRI *
// HTTP/2.0") and answers it in HTTP/1.1, which the client reads as an
// HTTP/2 frame header: RoundTrip usually fails with an error whose text is
// "http2: failed reading the frame payload: http2: frame too large, note
// that the frame header looked like an HTTP/1.1 header"; when the failure
// wins a race with the request (about one time in ten), with "http2: client
// conn could not be established" instead, which hides the cause. [All]
// leaves it out for that race: [HTTP2ToHTTP1] is its deterministic
// counterpart over TLS.
//
// Kind: http_protocol_error, or connection_terminated when the race hides the
// cause.
func H2CToHTTP1(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "http")
	s.protocols = new(http.Protocols)
	s.protocols.SetUnencryptedHTTP2(true)
	s.serveHTTP(okHandler(), nil)
	return s
}
