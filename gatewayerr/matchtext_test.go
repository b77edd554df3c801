package gatewayerr

import (
	"testing"

	"golang.org/x/net/http2"
)

// TestMatchText pins every message matchText recognizes, as Go 1.26's
// net/http (and its bundled HTTP/2), golang.org/x/net/http2 v0.62 and
// httputil.ReverseProxy write them. TestClassifyFaults checks the ones that
// a faulttest server produces against the real errors, so that a change in Go's
// wording fails there too.
func TestMatchText(t *testing.T) {
	tests := []struct {
		msg  string
		fact textFact
		size int64
		code http2.ErrCode
	}{
		{"net/http: timeout awaiting response headers", textResponseHeaderTimeout, -1, 0},
		{"http2: timeout awaiting response headers", textResponseHeaderTimeout, -1, 0},
		{"context deadline exceeded (Client.Timeout exceeded while awaiting headers)", textResponseHeaderTimeout, -1, 0},
		{"unexpected EOF (Client.Timeout or context cancellation while reading body)", textBodyTimeout, -1, 0},
		{"net/http: TLS handshake timeout", textTLSHandshakeTimeout, -1, 0},
		{"net/http: server response headers exceeded 4096 bytes; aborted", textHeaderSectionSize, 4096, 0},
		{"net/http: server response headers exceeded lots of bytes; aborted", textHeaderSectionSize, -1, 0},
		{"http2: response header list larger than advertised limit", textHeaderSectionSize, -1, 0},
		{"header list too large", textHeaderSectionSize, -1, 0},
		{`malformed HTTP response "SSH-2.0-OpenSSH_9.6"`, textProtocol, -1, 0},
		{`malformed HTTP status code "abc"`, textProtocol, -1, 0},
		{`malformed HTTP version "HTTP/9"`, textProtocol, -1, 0},
		{"malformed MIME header line: x", textProtocol, -1, 0},
		{"malformed response from server: missing status pseudo header", textProtocol, -1, 0},
		{"net/http: server replied with more than declared Content-Length; truncated", textProtocol, -1, 0},
		{"1xx informational response with END_STREAM flag", textProtocol, -1, 0},
		{"http: too many 1xx informational responses", textProtocol, -1, 0},
		{"http2: frame too large", textProtocol, -1, 0},
		{"http2: failed reading the frame payload: http2: frame too large, note that the frame header looked like an HTTP/1.1 header", textProtocol, -1, 0},
		{"protocol error: headers after END_STREAM", textProtocol, -1, 0},
		{`http: message cannot contain multiple Content-Length headers; got ["5" "7"]`, textProtocol, -1, 0},
		{`invalid Content-Length "x"`, textProtocol, -1, 0},
		{`backend tried to switch protocol "not-websocket" when "websocket" was requested`, textUpgrade, -1, 0},
		{"internal error: 101 switching protocols response with non-writable body", textUpgrade, -1, 0},
		{"net/http: can't switch protocols using non-Hijacker ResponseWriter type *httptest.ResponseRecorder", textInternal, -1, 0},
		{"http2: Transport: cannot retry err [http2: Transport received Server's graceful shutdown GOAWAY] after Request.Body was written; define Request.GetBody to avoid this error", textConnectionLost, -1, 0},
		{"http2: client conn could not be established", textConnectionLost, -1, 0},
		{`bad Content-Length "-1"`, textProtocol, -1, 0},
		{`invalid empty Content-Length ""`, textProtocol, -1, 0},
		{`bad trailer key "a b"`, textProtocol, -1, 0},
		{"chunked line ends with bare LF", textTransferCoding, -1, 0},
		{"invalid CR in chunked line", textTransferCoding, -1, 0},
		{"header line too long", textTransferCoding, -1, 0},
		{"http: suspiciously long trailer after chunked body", textTrailerSectionSize, -1, 0},
		{"http: unexpected EOF reading trailer", textIncomplete, -1, 0},
		{"invalid byte in chunk length", textTransferCoding, -1, 0},
		{"http chunk length too large", textTransferCoding, -1, 0},
		{"empty hex number for chunk length", textTransferCoding, -1, 0},
		{"malformed chunked encoding", textTransferCoding, -1, 0},
		{"chunked encoding contains too much non-data", textTransferCoding, -1, 0},
		{`unsupported transfer encoding: "br"`, textTransferCoding, -1, 0},
		{"too many transfer encodings: [\"chunked\" \"chunked\"]", textTransferCoding, -1, 0},
		{"net/http: request canceled", textRequestCanceled, -1, 0},
		{"net/http: request canceled while waiting for connection", textRequestCanceled, -1, 0},
		{`unsupported protocol scheme "ftp"`, textConfig, -1, 0},
		{"http: no Host in request URL", textConfig, -1, 0},
		{"http: nil Request.URL", textConfig, -1, 0},
		{"http2: unsupported scheme", textConfig, -1, 0},
		{"http2: unencrypted HTTP/2 not enabled", textConfig, -1, 0},
		{"http: Transport does not support unencrypted HTTP/2", textConfig, -1, 0},
		{`net/http: invalid header field name "a b"`, textRequest, -1, 0},
		{`net/http: invalid trailer field name "a b"`, textRequest, -1, 0},
		{`net/http: invalid method "GE T"`, textRequest, -1, 0},
		{`invalid HTTP header name "a b"`, textRequest, -1, 0},
		{`invalid HTTP trailer name "a b"`, textRequest, -1, 0},
		{"invalid Host header", textRequest, -1, 0},
		{`invalid request :path "x"`, textRequest, -1, 0},
		{"invalid :protocol header in non-CONNECT request", textRequest, -1, 0},
		{`invalid Upgrade request header: ["a"]`, textRequest, -1, 0},
		{`invalid Transfer-Encoding request header: ["gzip"]`, textRequest, -1, 0},
		{`invalid Connection request header: ["x"]`, textRequest, -1, 0},
		{`invalid Trailer key "Content-Length"`, textRequest, -1, 0},
		{"request header list larger than peer's advertised limit", textRequest, -1, 0},
		{"http: ContentLength=10 with Body length 3", textRequest, -1, 0},
		{"http2: request body larger than specified content length", textRequest, -1, 0},
		{"http2: Transport received Server's graceful shutdown GOAWAY", textGracefulGoAway, -1, 0},
		{`http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=PROTOCOL_ERROR, debug="faulttest"`, textH2GoAway, -1, http2.ErrCodeProtocol},
		{`http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug=""`, textH2GoAway, -1, http2.ErrCodeNo},
		{`http2: server sent GOAWAY and closed the connection; LastStreamID=3, ErrCode=ENHANCE_YOUR_CALM, debug="calm"`, textH2GoAway, -1, http2.ErrCodeEnhanceYourCalm},
		{"http2: Transport received GOAWAY from server ErrCode:INTERNAL_ERROR", textH2GoAway, -1, http2.ErrCodeInternal},
		{`http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug="PROTOCOL_ERROR"`, textH2GoAway, -1, http2.ErrCodeNo},
		{"connection error: FLOW_CONTROL_ERROR", textH2Conn, -1, http2.ErrCodeFlowControl},
		{"connection error: unknown error code 0x99", textH2Conn, -1, http2.ErrCodeNo},
		{"http2: client connection lost", textConnectionLost, -1, 0},
		{"http2: client connection force closed via ClientConn.Close", textConnectionLost, -1, 0},
		{"http2: client conn is closed", textConnectionLost, -1, 0},
		{"http2: client conn not usable", textConnectionLost, -1, 0},
		{"net/http: cannot rewind body after connection loss", textConnectionLost, -1, 0},
		{"http: server closed idle connection", textConnectionLost, -1, 0},
		{"tls: no supported versions satisfy MinVersion and MaxVersion", textTLS, -1, 0},
		{"local error: tls: bad record MAC", textTLS, -1, 0},
		{"stopped after 10 redirects", textRedirectLimit, -1, 0},
		{"stopped after 3 redirects", textRedirectLimit, -1, 0},
		{"stopped after  redirects", textNone, -1, 0},
		{"stopped after ten redirects", textNone, -1, 0},
		{"upstream stopped after 10 redirects", textNone, -1, 0},
		{"stopped after 10 redirects to example.test", textNone, -1, 0},
		{"EOF", textNone, -1, 0},
		{"", textNone, -1, 0},
		{"something else entirely", textNone, -1, 0},
	}
	for _, tt := range tests {
		fact, size, code := matchText(tt.msg)
		if fact != tt.fact || size != tt.size || code != tt.code {
			t.Errorf("matchText(%q) = %d, %d, %v; want %d, %d, %v", tt.msg, fact, size, code, tt.fact, tt.size, tt.code)
		}
	}
}
