package middleware

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// serveIntercepted replaces an upstream response whose status is not a
// gateway failure but is intercepted.
func (p *proxy) serveIntercepted(w http.ResponseWriter, r *http.Request, upstream string, ie *interceptedError) {
	id := p.pages.SetRequestID(w, r)
	e := &gatewayerr.Error{Kind: gatewayerr.Unknown, ReceivedStatus: ie.status, Attempts: ie.attempts, Err: errInterceptedStatus, Upstream: upstream}
	e.SetRequestSent(true)
	reportError(p.onError, p.pages, r, id, e)
	reportError(p.onReplace, p.pages, r, id, e)
	logFailureID(p.logger, r, id, e, ie.elapsed)
	gatewayerr.AppendProxyStatus(w.Header(), gatewayerr.ProxyStatus{Proxy: p.name, ReceivedStatus: ie.status})
	respwriter.PassNext(w) // a Handler around the proxy lets the page through
	if ie.status >= 500 {
		// The page blames the service, whose status it keeps.
		p.pages.ServeError(w, r, e)
		return
	}
	p.pages.ServeStatus(w, r, ie.status)
}

var errInterceptedStatus = errors.New("middleware: upstream error response replaced")

// interceptedError is the error ModifyResponse returns to have an upstream
// response whose status is intercepted, but that gatewayerr does not count
// as a gateway failure, replaced.
type interceptedError struct {
	status   int
	attempts int
	elapsed  time.Duration // -1 when not known
}

func (e *interceptedError) Error() string {
	return "middleware: upstream responded " + strconv.Itoa(e.status)
}

// ErrorType returns the status, as OpenTelemetry's semantic conventions
// name an HTTP failure that has no better type: the response is not a
// gateway failure of any kind.
func (e *interceptedError) ErrorType() string { return strconv.Itoa(e.status) }

// modifyResponse intercepts upstream error responses and sets up the
// Proxy-Status trailer.
//
// A body that fails after the headers arrived, even at its first read, is
// not replaced with a page: ReverseProxy writes the status before it reads
// the body, and finding out here would mean waiting for the first bytes of
// every response, holding back the headers of streams (Server-Sent Events,
// long polling) and costing a buffer per response.
func (p *proxy) modifyResponse(resp *http.Response) error {
	if p.intercept.Has(resp.StatusCode) && p.replaces(resp) {
		// ReverseProxy closes the body and calls the ErrorHandler, which
		// reports the replaced response; a failure to read its first
		// bytes (see sniff) is not reported apart.
		attempts, elapsed := 1, time.Duration(-1)
		if rb := transportBody(resp.Body); rb != nil {
			rb.dropHeld()
			attempts, elapsed = rb.attempts, time.Since(rb.start)
		}
		e := gatewayerr.ClassifyResponse(resp)
		if e == nil {
			// A status the operator intercepts that is not a gateway
			// failure, such as a 500.
			return &interceptedError{status: resp.StatusCode, attempts: attempts, elapsed: elapsed}
		}
		if e.Upstream == "" && resp.Request != nil && resp.Request.URL != nil {
			e.Upstream = resp.Request.URL.Host
		}
		e.Attempts = attempts
		return &transportError{e: e, elapsed: elapsed, replaced: true}
	}
	// The Transport has redacted the upstream's Proxy-Status, in the
	// header, 1xx responses and trailer, unless details are allowed.
	if p.trailer && resp.ContentLength < 0 && resp.StatusCode != http.StatusSwitchingProtocols &&
		resp.Body != nil && resp.Body != http.NoBody {
		if resp.Trailer == nil {
			resp.Trailer = make(http.Header, 1)
		}
		// Announced, so that ReverseProxy declares it in the Trailer field.
		resp.Trailer["Proxy-Status"] = nil
		resp.Body = &trailerBody{rc: resp.Body, resp: resp, p: p}
	}
	return nil
}

// replaces reports whether an intercepted upstream response is replaced,
// as p.replace decides (see ReplacePolicy).
func (p *proxy) replaces(resp *http.Response) bool {
	switch p.replace {
	case ReplaceAlways:
		return true
	case ReplaceNever:
		return false
	}
	if resp.ContentLength == 0 {
		return true
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		if ct = sniff(resp); ct == "" {
			return true // no body
		}
	}
	return !p.replace.keeps(respwriter.AudienceOf(ct))
}

// sniffTimeout bounds sniff's wait for the first bytes of a body (see
// ReplacePolicy).
const sniffTimeout = time.Second

// sniff returns the type net/http would give resp's body, which has no
// Content-Type, from its first bytes, as ReverseProxy would send them; or ""
// when the body is empty, or when it sent nothing within sniffTimeout (the
// Transport's body then fails and is replaced). It waits for one read of
// the body, and puts the bytes read back in front of it.
func sniff(resp *http.Response) string {
	if resp.Body == nil || resp.Body == http.NoBody {
		return ""
	}
	buf := make([]byte, 512) // as many as http.DetectContentType considers
	// A failure of this read is the Transport's to report only if the
	// response is let through: a replaced response is reported as such
	// (see modifyResponse), once.
	var n int
	if rb, ok := resp.Body.(*responseBody); ok {
		n = rb.peek(buf, sniffTimeout)
	} else {
		n, _ = io.ReadAtLeast(resp.Body, buf, 1)
	}
	if n == 0 {
		return "" // empty, or failed before its first byte
	}
	resp.Body = &sniffedBody{Reader: io.MultiReader(bytes.NewReader(buf[:n]), resp.Body), Closer: resp.Body}
	return http.DetectContentType(buf[:n])
}

// sniffedBody is a response body whose first bytes were read by sniff.
type sniffedBody struct {
	io.Reader
	io.Closer
}

// transportBody returns the Transport's wrapper under a response body, or
// nil.
func transportBody(rc io.ReadCloser) *responseBody {
	if s, ok := rc.(*sniffedBody); ok {
		rc, _ = s.Closer.(io.ReadCloser)
	}
	rb, _ := rc.(*responseBody)
	return rb
}

// trailerBody ends a streamed response that fails midway cleanly, with a
// Proxy-Status trailer naming the failure, instead of letting ReverseProxy
// abort it. A client's cancellation still aborts it.
type trailerBody struct {
	rc   io.ReadCloser
	resp *http.Response
	p    *proxy
	done bool
}

func (b *trailerBody) Read(buf []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(buf)
	if err == nil || err == io.EOF {
		return n, err
	}
	e := gatewayerr.Classify(err)
	if e.Kind == gatewayerr.ClientClosedRequest {
		return n, err
	}
	b.resp.Trailer.Set("Proxy-Status", e.ProxyStatus(b.p.name, b.p.showDetails(b.resp.Request)).String())
	b.done = true
	return n, io.EOF
}

func (b *trailerBody) Close() error { return b.rc.Close() }
