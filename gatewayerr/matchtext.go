package gatewayerr

import (
	"strconv"
	"strings"

	"golang.org/x/net/http2"
)

// textFact is what the text of an error says, for the errors that Go exposes
// only as text.
type textFact uint8

const (
	textNone                  textFact = iota
	textResponseHeaderTimeout          // a response-header timeout
	textBodyTimeout                    // http.Client's timeout while reading the body
	textTLSHandshakeTimeout            // http.Transport's TLSHandshakeTimeout
	textHeaderSectionSize              // the response header exceeded the limit
	textTrailerSectionSize             // the response trailer exceeded the limit
	textIncomplete                     // the response ended early
	textProtocol                       // a malformed response
	textUpgrade                        // a protocol upgrade that failed
	textInternal                       // the gateway itself cannot go on
	textTransferCoding                 // a broken chunked coding
	textRequestCanceled                // the request was canceled by its sender
	textConfig                         // the request cannot be sent as configured
	textRequest                        // the client's request cannot be forwarded
	textConnectionLost                 // the connection was lost
	textGracefulGoAway                 // a graceful GOAWAY left the request out
	textH2GoAway                       // an HTTP/2 GOAWAY from the peer
	textH2Conn                         // an HTTP/2 connection error
	textTLS                            // another crypto/tls error
	textRedirectLimit                  // http.Client followed too many redirects
)

// matchText is the only place where error text is matched. It recognizes
// the errors that net/http, its bundled HTTP/2 and golang.org/x/net/http2
// expose only as text, and returns what the message says, the size it
// names (or -1) and the HTTP/2 error code it names. Each message is pinned
// by TestMatchText, most of them as produced by real connections.
func matchText(msg string) (fact textFact, size int64, code http2.ErrCode) {
	size = -1
	has := func(sub string) bool { return strings.Contains(msg, sub) }
	switch {
	case has("timeout awaiting response headers"), // net/http, x/net/http2
		has("Client.Timeout exceeded while awaiting headers"):
		return textResponseHeaderTimeout, size, 0
	case has("Client.Timeout or context cancellation while reading body"):
		return textBodyTimeout, size, 0
	case has("TLS handshake timeout"):
		return textTLSHandshakeTimeout, size, 0
	case has("server response headers exceeded "): // "... %d bytes; aborted"
		rest := msg[strings.Index(msg, "exceeded ")+len("exceeded "):]
		if i := strings.IndexByte(rest, ' '); i > 0 {
			if n, err := strconv.ParseInt(rest[:i], 10, 64); err == nil {
				size = n
			}
		}
		return textHeaderSectionSize, size, 0
	case has("response header list larger than advertised limit"), // x/net/http2, bundled
		msg == "header list too large":
		return textHeaderSectionSize, size, 0
	case has("malformed HTTP"), // response, status code, version
		has("malformed MIME header"),
		has("malformed response from server"), // HTTP/2: missing or bad :status
		has("server replied with more than declared Content-Length"),
		has("1xx informational response with END_STREAM"),
		has("http2: frame too large"), // ErrFrameTooLarge, and an HTTP/1.1 answer to h2
		has("too many 1xx informational responses"),
		has("protocol error: headers after END_STREAM"),
		has("cannot contain multiple Content-Length headers"),
		has("invalid Content-Length"),
		has("bad Content-Length"),
		has("invalid empty Content-Length"),
		has("bad trailer key"):
		return textProtocol, size, 0
	case has("backend tried to switch protocol"), // httputil.ReverseProxy
		has("switching protocols response with non-writable body"):
		return textUpgrade, size, 0
	case has("can't switch protocols using non-Hijacker ResponseWriter"):
		return textInternal, size, 0
	case has("chunk length"), // invalid byte in, too large, empty hex number for
		has("malformed chunked encoding"),
		has("chunked encoding contains too much non-data"),
		has("chunked line ends with bare LF"),
		has("invalid CR in chunked line"),
		msg == "header line too long", // a chunk-size line (httputil.ErrLineTooLong)
		has("unsupported transfer encoding"),
		has("too many transfer encodings"):
		return textTransferCoding, size, 0
	case has("suspiciously long trailer after chunked body"):
		return textTrailerSectionSize, size, 0
	case has("unexpected EOF reading trailer"):
		return textIncomplete, size, 0
	case has("net/http: request canceled"):
		return textRequestCanceled, size, 0
	case has("unsupported protocol scheme"),
		has("no Host in request URL"),
		has("nil Request.URL"),
		has("http2: unsupported scheme"),
		has("unencrypted HTTP/2 not enabled"),
		has("does not support unencrypted HTTP/2"):
		return textConfig, size, 0
	case has("net/http: invalid header"),
		has("net/http: invalid trailer"),
		has("net/http: invalid method"),
		has("invalid HTTP header"), // HTTP/2 request encoding (x/net and bundled)
		has("invalid HTTP trailer"),
		has("invalid Host header"),
		has("invalid request :path"),
		has("invalid :protocol header"),
		has("request header: "), // invalid Upgrade, Transfer-Encoding, Connection
		has("invalid Trailer key"),
		has("request header list larger than peer's advertised limit"),
		has("with Body length"), // "http: ContentLength=%d with Body length %d"
		has("request body larger than specified content length"):
		return textRequest, size, 0
	case has("cannot retry err"): // "http2: Transport: cannot retry err [%v] after Request.Body was written"
		return textConnectionLost, size, 0
	case has("graceful shutdown GOAWAY"): // x/net/http2 errClientConnGotGoAway
		return textGracefulGoAway, size, 0
	case has("server sent GOAWAY"), // GoAwayError: "...; ErrCode=%v, debug=%q"
		has("received GOAWAY from server"): // "... ErrCode:%v"
		return textH2GoAway, size, h2CodeIn(msg)
	case strings.HasPrefix(msg, "connection error: "): // ConnectionError
		return textH2Conn, size, h2CodeIn(msg)
	case has("http2: client connection lost"),
		has("http2: client connection force closed"),
		has("http2: client conn is closed"),
		has("http2: client conn not usable"),
		has("http2: client conn could not be established"),
		has("cannot rewind body after connection loss"),
		has("server closed idle connection"):
		return textConnectionLost, size, 0
	case strings.HasPrefix(msg, "tls: ") || has(": tls: "):
		return textTLS, size, 0
	case redirectLimit(msg):
		return textRedirectLimit, size, 0
	}
	return textNone, size, 0
}

// redirectLimit reports whether msg is the whole text of the error with
// which http.Client's default CheckRedirect stops: "stopped after 10
// redirects". The number is read as any number, the text is not searched
// for within a longer one: a redirect chain that long is a loop, and an
// error of another origin that mentions redirects is not.
func redirectLimit(msg string) bool {
	rest, ok := strings.CutPrefix(msg, "stopped after ")
	if !ok {
		return false
	}
	n, ok := strings.CutSuffix(rest, " redirects")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// h2CodeIn returns the HTTP/2 error code named in msg, such as the
// PROTOCOL_ERROR of "ErrCode=PROTOCOL_ERROR", or NO_ERROR. The code is read
// after "ErrCode" when msg has it, so that GOAWAY debug data cannot fake it.
func h2CodeIn(msg string) http2.ErrCode {
	if i := strings.Index(msg, "ErrCode"); i >= 0 {
		msg = msg[i+len("ErrCode")+1:]
		if j := strings.IndexAny(msg, ", "); j >= 0 {
			msg = msg[:j]
		}
	}
	for c := http2.ErrCodeHTTP11Required; c > http2.ErrCodeNo; c-- {
		if strings.HasPrefix(msg, c.String()) || strings.HasSuffix(msg, " "+c.String()) {
			return c
		}
	}
	return http2.ErrCodeNo
}
