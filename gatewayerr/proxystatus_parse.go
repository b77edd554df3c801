package gatewayerr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

// ErrInvalidProxyStatus is wrapped by the errors of [ParseProxyStatus] and
// [ParseProxyStatusHeader].
var ErrInvalidProxyStatus = errors.New("gatewayerr: invalid Proxy-Status")

// ParseProxyStatus parses a Proxy-Status field value (RFC 9209), a
// structured-field list (RFC 9651) of intermediaries with parameters, the
// one closest to the origin first; an empty value is an empty list.
//
// It rejects, with an error wrapping [ErrInvalidProxyStatus] that names the
// member and parameter, an invalid list, a member that is not a token or
// string, and a known parameter of the wrong type or range: those of RFC
// 9209, Section 2.1, and the extra parameters of Section 2.3 on a member of
// their error type. Unknown parameters, and extra ones on another type, are
// kept in [ProxyStatus.Params].
func ParseProxyStatus(value string) ([]ProxyStatus, error) {
	return parseProxyStatus([]string{value})
}

// ParseProxyStatusHeader parses every Proxy-Status line of h as one list,
// as [ParseProxyStatus] does; empty lines add nothing. It returns nil and no
// error when there is no member.
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
