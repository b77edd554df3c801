package gatewayerr

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

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

// ErrInvalidProxyStatus is wrapped by every error that [ParseProxyStatus] and
// [ParseProxyStatusHeader] return.
var ErrInvalidProxyStatus = errors.New("gatewayerr: invalid Proxy-Status")

// ParseProxyStatus parses the value of a Proxy-Status header field: a
// structured-field list (RFC 9651) whose members are tokens or strings naming
// intermediaries, each with parameters (RFC 9209). It returns the members in
// order, the one closest to the origin first; an empty value is an empty list.
//
// Unknown parameters are kept in [ProxyStatus.Params]. A value that is not a
// valid list, a member that is not a token or a string, or a known parameter
// of the wrong type or out of its range is rejected with an error that wraps
// [ErrInvalidProxyStatus] and names the member and the parameter. The known
// parameters are those of RFC 9209, Section 2.1: error (a token),
// received-status (an integer from 100 to 599, an HTTP status code), next-hop
// (a string or token), next-protocol (a token or byte sequence) and details
// (a string); and the extra parameters of Section 2.3, which it defines for
// one error type each and which are known only on a member whose error
// parameter is that type (on any other, RFC 9209 has them ignored, and they
// are kept as they are): for dns_error, rcode (a string) and info-code (an
// integer from 0 to 65535, an Extended DNS Error INFO-CODE of RFC 8914); for
// tls_alert_received, alert-id (an integer from 0 to 255, a TLS
// AlertDescription of RFC 8446) and alert-message (a token or string); for
// the http_response_*_size types, header-name and trailer-name (strings) and
// header-section-size, header-size, body-size, trailer-section-size and
// trailer-size (integers from 0).
func ParseProxyStatus(value string) ([]ProxyStatus, error) {
	return parseProxyStatus([]string{value})
}

// ParseProxyStatusHeader parses every Proxy-Status field line of h as one
// list, as [ParseProxyStatus] does for one line; empty lines add nothing,
// as [AppendProxyStatus] reads them. It returns nil and no error when h has
// no Proxy-Status field, or only empty lines.
func ParseProxyStatusHeader(h http.Header) ([]ProxyStatus, error) {
	lines := proxyStatusLines(h)
	if len(lines) == 0 {
		return nil, nil
	}
	return parseProxyStatus(lines)
}

// proxyStatusLines returns the Proxy-Status field lines of h that are not
// empty: an empty line adds nothing to a list.
func proxyStatusLines(h http.Header) []string {
	var lines []string
	for _, v := range h.Values("Proxy-Status") {
		if strings.TrimSpace(v) != "" {
			lines = append(lines, v)
		}
	}
	return lines
}

func parseProxyStatus(lines []string) ([]ProxyStatus, error) {
	list, err := httpsfv.UnmarshalList(lines)
	if err != nil {
		return nil, fmt.Errorf("%w: not a structured-field list: %w", ErrInvalidProxyStatus, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	members := make([]ProxyStatus, 0, len(list))
	for i, m := range list {
		p, err := parseMember(m)
		if err != nil {
			return nil, fmt.Errorf("%w: member %d: %s", ErrInvalidProxyStatus, i+1, err)
		}
		members = append(members, p)
	}
	return members, nil
}

func parseMember(m httpsfv.Member) (ProxyStatus, error) {
	var p ProxyStatus
	item, ok := m.(httpsfv.Item)
	if !ok {
		return p, errors.New("an inner list, not a token or string naming an intermediary")
	}
	switch v := item.Value.(type) {
	case httpsfv.Token:
		p.Proxy = string(v)
	case string:
		p.Proxy = v
	default:
		return p, fmt.Errorf("%s, not a token or string naming an intermediary", sfType(v))
	}
	if item.Params == nil {
		return p, nil
	}
	for _, k := range item.Params.Names() {
		v, _ := item.Params.Get(k)
		switch k {
		case paramError:
			t, ok := v.(httpsfv.Token)
			if !ok {
				return p, fmt.Errorf("%q: error parameter is %s, want a token", p.Proxy, sfType(v))
			}
			p.Error = string(t)
			if kind, ok := ParseKind(p.Error); ok && kind.Registered() {
				p.Kind = kind
			}
		case paramReceivedStatus:
			n, ok := v.(int64)
			if !ok {
				return p, fmt.Errorf("%q: received-status parameter is %s, want an integer", p.Proxy, sfType(v))
			}
			if !validStatus(n) {
				return p, fmt.Errorf("%q: received-status parameter %d is not an HTTP status code (100 to 599)", p.Proxy, n)
			}
			p.ReceivedStatus = int(n)
		case paramNextHop:
			switch v := v.(type) {
			case httpsfv.Token:
				p.NextHop = string(v)
			case string:
				p.NextHop = v
			default:
				return p, fmt.Errorf("%q: next-hop parameter is %s, want a token or string", p.Proxy, sfType(v))
			}
		case paramNextProtocol:
			switch v := v.(type) {
			case httpsfv.Token:
				p.NextProtocol = string(v)
			case []byte:
				p.NextProtocol = string(v)
			default:
				return p, fmt.Errorf("%q: next-protocol parameter is %s, want a token or byte sequence", p.Proxy, sfType(v))
			}
		case paramDetails:
			s, ok := v.(string)
			if !ok {
				return p, fmt.Errorf("%q: details parameter is %s, want a string", p.Proxy, sfType(v))
			}
			p.Details = s
		default:
			p.Params = append(p.Params, Param{Key: k, Value: fromSFV(v)})
		}
	}
	// The error parameter may come after its extra parameters.
	for _, prm := range p.Params {
		if problem := extraParam(p.Error, prm.Key).check(prm.Value); problem != "" {
			return p, fmt.Errorf("%q: %s parameter %s", p.Proxy, prm.Key, problem)
		}
	}
	return p, nil
}

// validStatus reports whether n is an HTTP status code: RFC 9110, Section
// 15, has every valid one from 100 to 599.
func validStatus[T int | int64](n T) bool { return n >= 100 && n <= 599 }

// A paramRule is the type and range that RFC 9209, Section 2.3, gives an
// extra parameter of a proxy error type.
type paramRule uint8

const (
	ruleNone          paramRule = iota // not an extra parameter: anything goes
	ruleString                         // a string
	ruleTokenOrString                  // a token or a string
	ruleInfoCode                       // an integer from 0 to 65535 (RFC 8914 INFO-CODE)
	ruleAlertID                        // an integer from 0 to 255 (TLS AlertDescription)
	ruleSize                           // an integer from 0
)

// extraParam returns the rule for the parameter key on a member whose error
// parameter is errType: ruleNone unless RFC 9209 defines key as an extra
// parameter of errType.
func extraParam(errType, key string) paramRule {
	switch errType {
	case "dns_error": // RFC 9209, Section 2.3.2
		switch key {
		case "rcode":
			return ruleString
		case "info-code":
			return ruleInfoCode
		}
	case "tls_alert_received": // Section 2.3.15
		switch key {
		case "alert-id":
			return ruleAlertID
		case "alert-message":
			return ruleTokenOrString
		}
	case "http_response_header_section_size": // Section 2.3.19
		if key == "header-section-size" {
			return ruleSize
		}
	case "http_response_header_size": // Section 2.3.20
		switch key {
		case "header-name":
			return ruleString
		case "header-size":
			return ruleSize
		}
	case "http_response_body_size": // Section 2.3.21
		if key == "body-size" {
			return ruleSize
		}
	case "http_response_trailer_section_size": // Section 2.3.22
		if key == "trailer-section-size" {
			return ruleSize
		}
	case "http_response_trailer_size": // Section 2.3.23
		switch key {
		case "trailer-name":
			return ruleString
		case "trailer-size":
			return ruleSize
		}
	}
	return ruleNone
}

// check returns what is wrong with v, a value of the types that parsing puts
// in [Param], as a parameter with rule r, or "" when it is valid.
func (r paramRule) check(v any) string {
	var lo, hi int64
	switch r {
	case ruleNone:
		return ""
	case ruleString:
		if _, ok := v.(string); !ok {
			return "is " + paramType(v) + ", want a string"
		}
		return ""
	case ruleTokenOrString:
		switch v.(type) {
		case string, Token:
			return ""
		}
		return "is " + paramType(v) + ", want a token or string"
	case ruleInfoCode:
		lo, hi = 0, 65535
	case ruleAlertID:
		lo, hi = 0, 255
	case ruleSize:
		lo, hi = 0, math.MaxInt64
	}
	n, ok := v.(int64)
	if !ok {
		return "is " + paramType(v) + ", want an integer"
	}
	if n < lo || n > hi {
		if hi == math.MaxInt64 {
			return fmt.Sprintf("%d is negative", n)
		}
		return fmt.Sprintf("%d is out of range (%d to %d)", n, lo, hi)
	}
	return ""
}

// paramType names the structured-field type of a [Param] value as parsing
// produces it.
func paramType(v any) string {
	switch v := v.(type) {
	case Token:
		return sfType(httpsfv.Token(v))
	case DisplayString:
		return sfType(httpsfv.DisplayString(v))
	}
	return sfType(v)
}

// sfType names a parsed bare item's structured-field type for error messages.
func sfType(v any) string {
	switch v.(type) {
	case int64:
		return "an integer"
	case float64:
		return "a decimal"
	case string:
		return "a string"
	case httpsfv.Token:
		return "a token"
	case []byte:
		return "a byte sequence"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date"
	case httpsfv.DisplayString:
		return "a display string"
	}
	return "a value of an unknown type"
}

// fromSFV converts a parsed bare item to the types of [Param].
func fromSFV(v any) any {
	switch v := v.(type) {
	case httpsfv.Token:
		return Token(v)
	case httpsfv.DisplayString:
		return DisplayString(v)
	}
	return v
}

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

// nameValue returns s as a token when it is a valid one, as a string with
// its invalid characters replaced otherwise.
func nameValue(s string) any {
	if isToken(s) {
		return httpsfv.Token(s)
	}
	return sanitizeString(s)
}

// toSFV converts a Param value to a bare item that httpsfv serializes without
// error, reporting false when that is impossible.
func toSFV(v any) (any, bool) {
	const maxInt = 999_999_999_999_999
	switch v := v.(type) {
	case string:
		return sanitizeString(v), true
	case Token:
		if isToken(string(v)) {
			return httpsfv.Token(v), true
		}
		return sanitizeString(string(v)), true
	case httpsfv.Token:
		return toSFV(Token(v))
	case DisplayString:
		return httpsfv.DisplayString(strings.ToValidUTF8(string(v), "\uFFFD")), true
	case bool:
		return v, true
	case []byte:
		return v, true
	case int64:
		return v, v >= -maxInt && v <= maxInt
	case int:
		return toSFV(int64(v))
	case int32:
		return int64(v), true
	case int16:
		return int64(v), true
	case int8:
		return int64(v), true
	case uint:
		return toSFV(uint64(v))
	case uint64:
		if v > maxInt {
			return nil, false
		}
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint8:
		return int64(v), true
	case float64:
		// httpsfv rounds to three decimals and accepts 12 integer digits.
		if math.IsNaN(v) || math.Abs(v) >= 999_999_999_999.5 {
			return nil, false
		}
		return v, true
	case float32:
		return toSFV(float64(v))
	case time.Time:
		u := v.Unix()
		return v, u >= -maxInt && u <= maxInt
	}
	return nil, false
}

// sanitizeString returns s with every character that a structured-field
// string cannot carry (anything but printable ASCII and space) replaced with
// '?', one per character.
func sanitizeString(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteByte(byte(r))
	}
	return b.String()
}

// isToken reports whether s is a valid structured-field token (RFC 9651,
// Section 3.3.4).
func isToken(s string) bool {
	if s == "" || !(isAlpha(s[0]) || s[0] == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isTchar reports whether c may follow the first character of a token: a
// tchar (RFC 9110), ':' or '/'.
func isTchar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

// isKey reports whether s is a valid structured-field key (RFC 9651, Section
// 3.1.2).
func isKey(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			return false
		}
	}
	return true
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

// kindParams appends the RFC 9209 parameters specific to e's kind that e's
// fields know.
func (e *Error) kindParams(ps []Param) []Param {
	size := func(key string) {
		if e.Size > 0 {
			ps = append(ps, Param{key, e.Size})
		}
	}
	name := func(key string) {
		if e.FieldName != "" {
			ps = append(ps, Param{key, e.FieldName})
		}
	}
	switch e.Kind {
	case DNSError:
		if e.DNSRcode != "" {
			ps = append(ps, Param{"rcode", e.DNSRcode})
		}
		if e.DNSInfoCode > 0 && e.DNSInfoCode <= 65535 {
			ps = append(ps, Param{"info-code", int64(e.DNSInfoCode)})
		}
	case TLSAlertReceived:
		if e.TLSAlertID > 0 && e.TLSAlertID <= 255 {
			ps = append(ps, Param{"alert-id", int64(e.TLSAlertID)})
		}
		if e.TLSAlertMessage != "" {
			ps = append(ps, Param{"alert-message", e.TLSAlertMessage})
		}
	case HTTPResponseHeaderSectionSize:
		size("header-section-size")
	case HTTPResponseHeaderSize:
		name("header-name")
		size("header-size")
	case HTTPResponseBodySize:
		size("body-size")
	case HTTPResponseTrailerSectionSize:
		size("trailer-section-size")
	case HTTPResponseTrailerSize:
		name("trailer-name")
		size("trailer-size")
	}
	return ps
}
