package gatewayerr

import (
	"net/http"
	"strings"

	"github.com/dunglas/httpsfv"
)

// ProxyStatus is one member of a Proxy-Status header field (RFC 9209): what
// one intermediary reports about how it handled the response.
//
// The member has an error parameter when Error is not empty or, failing
// that, when Kind is a registered kind (see [Kind.Registered]).
type ProxyStatus struct {
	// Proxy names the intermediary. It is sent as a token when it is a valid
	// one, as a string otherwise.
	Proxy string

	// Kind is the type of the error parameter when it is a registered one,
	// and [Unknown] otherwise.
	Kind Kind

	// Error is the error parameter's token as it was received or is to be
	// sent; empty when the member has no error parameter. For a registered
	// type it is Kind.String(); an unregistered token is kept as it is, with
	// Kind [Unknown].
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

	// Params holds every other parameter, in order: the error-specific ones
	// (rcode, info-code, alert-id, alert-message, header-name, ...) and any
	// unknown one, so that a parsed member can be formatted again unchanged.
	Params []Param
}

// Param is one parameter of a [ProxyStatus] member other than the ones it has
// fields for. Value is a bare item: a string, an int64, a bool, a float64, a
// [Token], a []byte (a byte sequence), a [time.Time] (a date) or a
// [DisplayString]. Parsing produces only these types; when formatting, any
// other integer type and float32 are accepted too, and a parameter of any
// other type, or whose key or value cannot be represented, is left out.
type Param struct {
	Key   string
	Value any
}

// Token is a structured-field token value (RFC 9651, Section 3.3.4), kept
// distinct from a string so that a parsed member formats back the same.
type Token string

// DisplayString is a structured-field display string (RFC 9651, Section
// 3.3.8): Unicode text, kept distinct from a string (which is ASCII only).
type DisplayString string

// The parameters that [ProxyStatus] has fields for.
const (
	paramError          = "error"
	paramReceivedStatus = "received-status"
	paramNextHop        = "next-hop"
	paramNextProtocol   = "next-protocol"
	paramDetails        = "details"
)

// String formats the member as one member of a structured-field list, such
// as `gatehouse;error=connection_refused;received-status=502`. The result is
// always a valid list member, whatever the fields hold: a Proxy that is not a
// valid token is sent as a string; in strings, every character that a
// structured-field string cannot carry (control characters, non-ASCII) is
// replaced with '?'; a Param whose key or value cannot be represented, or
// whose key is one of the parameters the member has fields for, is left out.
// So is a value that [ParseProxyStatus] would reject: a ReceivedStatus that
// is not an HTTP status code (100 to 599), and an extra parameter of the
// member's error type whose value has the wrong type or is out of range
// (such as alert-id=300 on tls_alert_received); the result therefore always
// parses.
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

// FormatProxyStatus formats members as the value of one Proxy-Status field,
// in order (the one closest to the origin first), separated by ", ".
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
// h, as RFC 9209 asks each intermediary to do, and leaves the field on one
// line. An existing field that is not a valid list is replaced by members
// alone: a recipient would discard the combined field anyway (RFC 9651,
// Section 4.2). The existing field is parsed once, however many members
// are appended.
func AppendProxyStatus(h http.Header, members ...ProxyStatus) {
	if len(members) == 0 {
		return
	}
	member := FormatProxyStatus(members...)
	if lines := proxyStatusLines(h); len(lines) > 0 {
		if _, err := httpsfv.UnmarshalList(lines); err == nil {
			member = strings.Join(lines, ", ") + ", " + member
		}
	}
	h.Set("Proxy-Status", member)
}

// ProxyStatus returns the member that an intermediary named proxy adds to the
// Proxy-Status field of the response it sends for e (RFC 9209).
//
// The member's error parameter is e's kind; [Unknown] is reported as
// proxy_internal_error. [ClientClosedRequest] has no RFC 9209 type and no
// response reaches the client anyway: its member has no error parameter
// (and, with details, says so in the details parameter). For an upstream's
// own error response, as [ClassifyResponse] returns it, the member carries
// received-status and no error parameter: the error was not the
// intermediary's (RFC 9209, Section 2.1.1). Otherwise received-status is set
// when e.ReceivedStatus is.
//
// The kind-specific parameters come from e's fields: rcode and info-code for
// dns_error (RFC 9209 defines none for dns_timeout), alert-id and
// alert-message for tls_alert_received, header-name and the sizes for the
// size kinds.
// next-hop and details (the cause's text) reveal the gateway's internals and
// are included only when details is true.
//
// A nil e gives a member with the proxy's name alone.
func (e *Error) ProxyStatus(proxy string, details bool) ProxyStatus {
	p := ProxyStatus{Proxy: proxy}
	if e == nil {
		return p
	}
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
