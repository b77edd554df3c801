package gatewayerr

import (
	"net/http"
	"strings"

	"github.com/dunglas/httpsfv"
)

// ProxyStatus is one member of a Proxy-Status field (RFC 9209): what one
// intermediary reports about the response. It has an error parameter when
// Error is not empty or else Kind is registered.
type ProxyStatus struct {
	// Proxy names the intermediary: a token when valid, else a string.
	Proxy string

	// Kind is the type of the error parameter when it is a registered one,
	// and [Unknown] otherwise.
	Kind Kind

	// Error is the error parameter's token; empty when there is none. An
	// unregistered token is kept, with Kind [Unknown].
	Error string

	// ReceivedStatus is the received-status parameter; zero when absent.
	ReceivedStatus int

	// NextHop is the next-hop parameter; empty when absent.
	NextHop string

	// NextProtocol is the next-protocol parameter (an ALPN token); empty
	// when absent.
	NextProtocol string

	// Details is the details parameter; empty when absent.
	Details string

	// Params holds every other parameter, in order, the extra parameters
	// of RFC 9209, Section 2.3 and unknown ones alike.
	Params []Param
}

// Param is one parameter of a [ProxyStatus] member other than those it has
// fields for. Parsing gives Value one of the types string, int64, bool,
// float64, [Token], []byte, [time.Time] and [DisplayString]; formatting also
// accepts the other integer types and float32, and leaves out any other
// value, or one it cannot represent.
type Param struct {
	Key   string
	Value any
}

// Token is a structured-field token (RFC 9651, Section 3.3.4).
type Token string

// DisplayString is a structured-field display string (RFC 9651, Section
// 3.3.8).
type DisplayString string

// String formats the member as one member of a structured-field list, such
// as `gatehouse;error=connection_refused;received-status=502`. The result
// always parses with [ParseProxyStatus]: characters a string cannot carry
// become '?', and a Param that cannot be represented, that duplicates a
// field, or that ParseProxyStatus would reject is left out, as is a
// ReceivedStatus outside 100 to 599.
func (p ProxyStatus) String() string {
	item := httpsfv.Item{Value: nameValue(p.Proxy), Params: httpsfv.NewParams()}
	tok := p.errorToken()
	if tok != "" {
		item.Params.Add(paramError, httpsfv.Token(tok))
	}
	if validStatus(p.ReceivedStatus) {
		item.Params.Add(paramReceivedStatus, int64(p.ReceivedStatus))
	}
	if p.NextHop != "" {
		item.Params.Add(paramNextHop, nameValue(p.NextHop))
	}
	if p.NextProtocol != "" {
		if isToken(p.NextProtocol) {
			item.Params.Add(paramNextProtocol, httpsfv.Token(p.NextProtocol))
		} else {
			item.Params.Add(paramNextProtocol, []byte(p.NextProtocol))
		}
	}
	for _, prm := range p.Params {
		switch prm.Key {
		case paramError, paramReceivedStatus, paramNextHop, paramNextProtocol, paramDetails:
			continue
		}
		if !isKey(prm.Key) {
			continue
		}
		v, ok := toSFV(prm.Value)
		if ok && extraParam(tok, prm.Key).check(fromSFV(v)) == "" {
			item.Params.Add(prm.Key, v)
		}
	}
	if p.Details != "" {
		item.Params.Add(paramDetails, sanitizeString(p.Details))
	}
	s, err := httpsfv.Marshal(item)
	if err != nil {
		// Unreachable: every value was checked above. Fall back to the
		// member's name alone rather than to invalid output.
		s, _ = httpsfv.Marshal(httpsfv.Item{Value: nameValue(p.Proxy), Params: httpsfv.NewParams()})
	}
	return s
}

// FormatProxyStatus formats members as one Proxy-Status field value, in
// order, separated by ", ".
func FormatProxyStatus(members ...ProxyStatus) string {
	var b strings.Builder
	for i, m := range members {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.String())
	}
	return b.String()
}

// AppendProxyStatus appends members, in order, to the Proxy-Status field of
// h, on one line. An existing field that is not a valid list is replaced.
func AppendProxyStatus(h http.Header, members ...ProxyStatus) {
	if len(members) == 0 {
		return
	}
	// A recipient would discard an invalid combined field anyway (RFC 9651,
	// Section 4.2). The existing field is parsed once, however many members.
	member := FormatProxyStatus(members...)
	if lines := proxyStatusLines(h); len(lines) > 0 {
		if _, err := httpsfv.UnmarshalList(lines); err == nil {
			member = strings.Join(lines, ", ") + ", " + member
		}
	}
	h.Set("Proxy-Status", member)
}

// ProxyStatus returns the member that the intermediary named proxy adds to
// the Proxy-Status field of its response for e. Its error parameter is e's
// kind, proxy_internal_error for [Unknown], and none for
// [ClientClosedRequest] or an upstream's own error response (see
// [ClassifyResponse]). It carries received-status when e.ReceivedStatus is
// set, and the extra parameters e's fields know. next-hop and details (the
// cause's text) are included only when details is true. A nil e gives the
// name alone.
func (e *Error) ProxyStatus(proxy string, details bool) ProxyStatus {
	p := ProxyStatus{Proxy: proxy}
	if e == nil {
		return p
	}
	// An upstream's error response was not this intermediary's error (RFC
	// 9209, Section 2.1.1); a client that left has no RFC 9209 type, and
	// no response reaches it anyway.
	switch {
	case e.fromResponse:
		// Not our error: only what we received.
	case e.Kind == ClientClosedRequest:
	case e.Kind.Registered():
		p.Kind = e.Kind
		p.Error = e.Kind.String()
	default:
		p.Kind = ProxyInternalError
		p.Error = ProxyInternalError.String()
	}
	p.ReceivedStatus = e.ReceivedStatus
	if !e.fromResponse {
		p.Params = e.kindParams(p.Params)
	}
	if details {
		p.NextHop = e.NextHop
		if p.NextHop == "" {
			p.NextHop = e.Upstream
		}
		if e.Err != nil {
			p.Details = errorText(e.Err)
		}
		if e.Kind == ClientClosedRequest && !e.fromResponse {
			if p.Details != "" {
				p.Details = "client closed request: " + p.Details
			} else {
				p.Details = "client closed request"
			}
		}
	}
	return p
}

// errorToken returns the error parameter to send: Error when it is a valid
// token, else the token of a registered Kind, else "".
func (p ProxyStatus) errorToken() string {
	if p.Error != "" && isToken(p.Error) {
		return p.Error
	}
	if p.Kind.Registered() {
		return p.Kind.String()
	}
	return ""
}

// The parameters that [ProxyStatus] has fields for.
const (
	paramError          = "error"
	paramReceivedStatus = "received-status"
	paramNextHop        = "next-hop"
	paramNextProtocol   = "next-protocol"
	paramDetails        = "details"
)
