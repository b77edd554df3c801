package gatewayerr

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxProxyStatusMembers is the most members a Proxy-Status field may have
// for [ClassifyResponse] and [RedactProxyStatusHeader] to keep it.
const MaxProxyStatusMembers = 32

// MaxRetryAfter caps the wait before a retry scheduled on an upstream's or a
// breaker's Retry-After ([Error.RetryAfter]). What clients are told is
// bounded by [MaxStatedRetryAfter] instead.
const MaxRetryAfter = time.Hour

// MaxStatedRetryAfter bounds the Retry-After that [ClassifyResponse] records
// and a page states: a longer wait, or a date further ahead, is taken as a
// year.
const MaxStatedRetryAfter = 365 * 24 * time.Hour

// ClassifyResponse returns the [Error] that an upstream's response reports,
// or nil when the response is not a gateway failure: its status is not 502,
// 503 or 504 (see [IsGatewayStatus]) and no member of its Proxy-Status field
// has an error parameter.
//
// The kind is that of the first member with an error parameter, when it is
// registered; otherwise 503 is [DestinationUnavailable], 504
// [HTTPResponseTimeout] and 502 [Unknown]. That member's extra parameters
// fill the matching fields. The Error records ReceivedStatus, the members in
// Chain (none when the field is invalid or has more than
// [MaxProxyStatusMembers]), and RetryAfter: seconds, or a date relative to
// the response's Date field (else now), bounded by [MaxStatedRetryAfter].
// Its RequestSent is true, and its [Error.ProxyStatus] member reports the
// received status and no error of its own.
//
// ClassifyResponse neither reads nor closes the body.
func ClassifyResponse(resp *http.Response) *Error {
	if resp == nil {
		return nil
	}
	// The culprit member's next-hop names that intermediary's next hop, not
	// this gateway's: it stays in Chain and does not fill NextHop. RetryAfter
	// is recorded as asked; a retry scheduled on it applies MaxRetryAfter.
	chain, _ := ParseProxyStatusHeader(resp.Header)
	if len(chain) > MaxProxyStatusMembers {
		// No real chain of intermediaries is that long, and a gateway that
		// copies the members into its own response must not let an
		// upstream make that response arbitrarily large.
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

// ParseRetryAfter returns the wait a Retry-After field value asks for (RFC
// 9110, Section 10.2.3): a number of seconds, or an HTTP date relative to
// now (a past date is no wait). It reports false, with 0, for an empty or
// malformed value. Too many seconds for a time.Duration yield the largest
// one.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		// An upstream asking for forever asks for longer than any cap.
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

// retryAfter returns the wait the Retry-After field of h asks for, an HTTP
// date taken relative to h's Date field (or to now() without a valid one),
// bounded by MaxStatedRetryAfter; 0 when absent or malformed.
func retryAfter(h http.Header, now func() time.Time) time.Duration {
	base, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		base = now()
	}
	d, _ := ParseRetryAfter(h.Get("Retry-After"), base)
	// A day or a week is told as it is; the bound is against nonsense
	// only. Retries have their own cap, MaxRetryAfter, against a wrong or
	// hostile value stalling them for days.
	return min(d, MaxStatedRetryAfter)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
