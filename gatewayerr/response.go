package gatewayerr

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxProxyStatusMembers bounds the Proxy-Status fields that
// [ClassifyResponse] believes: a field of more members is ignored, as an
// invalid one is. No real chain of intermediaries is that long, and a
// gateway that copies an upstream's members into its own response must not
// let an upstream make that response arbitrarily large.
const MaxProxyStatusMembers = 32

// MaxRetryAfter caps the wait before a retry that a gateway schedules on an
// upstream's or a breaker's word (Retry-After, [Error.RetryAfter]): an
// upstream asking for longer than an hour is not retried after an hour,
// and a wrong or hostile value cannot stall retries for days. It is for
// scheduling retries only; what clients are told is bounded by
// [MaxStatedRetryAfter].
const MaxRetryAfter = time.Hour

// MaxStatedRetryAfter bounds, against nonsense only, the Retry-After that
// [ClassifyResponse] records and that a page states to visitors and
// clients: a wait of a day or a week is told as it is, one of more than a
// year (or a date further ahead) is taken as a year.
const MaxStatedRetryAfter = 365 * 24 * time.Hour

// ClassifyResponse returns the [Error] that an upstream's response reports,
// or nil when the response is not a gateway failure.
//
// A response is a gateway failure when its status is 502, 503 or 504, or
// when it carries a Proxy-Status field (RFC 9209) one of whose members has
// an error parameter. The kind is that of the first such member (the one
// closest to the origin) when it names a registered type; otherwise it
// follows the status: 503 is [DestinationUnavailable], 504
// [HTTPResponseTimeout], and 502 is [Unknown] with [Error.StatusCode]
// returning 502. The error-specific parameters of that member (rcode,
// info-code, alert-id, alert-message, header-name and the sizes) fill the
// matching fields; its next-hop, which names the next hop of that
// intermediary, not this gateway's, stays in Chain.
//
// The returned Error records ReceivedStatus, the parsed Proxy-Status members
// in Chain (an invalid field, or one of more than [MaxProxyStatusMembers]
// members, is ignored), and RetryAfter from the
// Retry-After field: a number of seconds, or an HTTP date taken relative to
// the response's Date field (or to the current time without one), bounded
// by [MaxStatedRetryAfter] (not by [MaxRetryAfter]: the wait is recorded as
// asked, and a retry scheduled on it applies that cap). Its RequestSent is true: the upstream received the
// request. Its [Error.ProxyStatus] member reports the received status and
// no error of its own.
//
// ClassifyResponse neither reads nor closes the body.
func ClassifyResponse(resp *http.Response) *Error {
	if resp == nil {
		return nil
	}
	chain, _ := ParseProxyStatusHeader(resp.Header)
	if len(chain) > MaxProxyStatusMembers {
		chain = nil
	}
	var culprit *ProxyStatus
	for i := range chain {
		if chain[i].Error != "" {
			culprit = &chain[i]
			break
		}
	}
	code := resp.StatusCode
	if !IsGatewayStatus(code) && culprit == nil {
		return nil
	}
	e := &Error{
		ReceivedStatus: code,
		Chain:          chain,
		DNSInfoCode:    -1,
		TLSAlertID:     -1,
		Size:           -1,
		requestSent:    sentYes,
		fromResponse:   true,
	}
	switch code {
	case http.StatusServiceUnavailable:
		e.Kind = DestinationUnavailable
	case http.StatusGatewayTimeout:
		e.Kind = HTTPResponseTimeout
	}
	if culprit != nil {
		if culprit.Kind.Registered() {
			e.Kind = culprit.Kind
		}
		fromParams(e, culprit.Error, culprit.Params)
	}
	if resp.Request != nil && resp.Request.URL != nil {
		e.Upstream = resp.Request.URL.Host
	}
	e.RetryAfter = retryAfter(resp.Header, time.Now)
	return e
}

// retryAfter returns the wait the Retry-After field of h asks for, an HTTP
// date taken relative to h's Date field (or to now() without a valid one),
// bounded by MaxStatedRetryAfter; 0 when absent or malformed.
func retryAfter(h http.Header, now func() time.Time) time.Duration {
	base, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		base = now()
	}
	d, _ := ParseRetryAfter(h.Get("Retry-After"), base)
	return min(d, MaxStatedRetryAfter)
}

// ParseRetryAfter returns the wait a Retry-After field value asks for (RFC
// 9110, Section 10.2.3): a number of seconds, or an HTTP date taken relative
// to now (a date in the past asks for no wait). It reports false, with 0,
// for an empty or malformed value. A number of seconds too large for a
// time.Duration yields the largest one, which exceeds any cap a caller
// applies: an upstream asking for forever asks for longer than the cap.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(math.MaxInt64/time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
