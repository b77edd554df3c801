package gatewayerr

import "net/http"

// Redacted returns p as a visitor may see it without details: p's name if
// it is a plain name (a letter, then letters, digits, '-' or '_', at most 64
// bytes, so never an IP address, a host:port or a dotted domain name), else
// "upstream-proxy"; its error type, if registered or a plain name; its
// received-status; and the parameters RFC 9209 defines for that error type
// whose value is a number or a plain name. next-hop, next-protocol, details
// and every other parameter are dropped.
func (p ProxyStatus) Redacted() ProxyStatus {
	r := ProxyStatus{Proxy: upstreamProxyPseudonym, Kind: p.Kind, ReceivedStatus: p.ReceivedStatus}
	if plainName(p.Proxy) {
		r.Proxy = p.Proxy
	}
	if p.Kind.Registered() || plainName(p.Error) {
		r.Error = p.Error
	}
	for _, prm := range p.Params {
		// None of the extra parameters names an address; their values
		// are checked anyway, since the upstream chose them.
		if extraParam(r.Error, prm.Key) == fieldNone {
			continue
		}
		switch v := prm.Value.(type) {
		case int64:
		case string:
			if !plainName(v) {
				continue
			}
		case Token:
			if !plainName(string(v)) {
				continue
			}
		default:
			continue
		}
		r.Params = append(r.Params, prm)
	}
	return r
}

// RedactProxyStatusHeader replaces the Proxy-Status field of h with its
// members redacted (see [ProxyStatus.Redacted]), on one line. A field that
// does not parse, is empty, or has more than [MaxProxyStatusMembers]
// members is removed.
func RedactProxyStatusHeader(h http.Header) {
	members, err := ParseProxyStatusHeader(h)
	if err != nil || len(members) == 0 || len(members) > MaxProxyStatusMembers {
		delete(h, "Proxy-Status")
		return
	}
	for i, m := range members {
		members[i] = m.Redacted()
	}
	h["Proxy-Status"] = []string{FormatProxyStatus(members...)}
}

// upstreamProxyPseudonym replaces, in a redacted member, a name that may be
// an address.
const upstreamProxyPseudonym = "upstream-proxy"

// plainName reports whether s is a name that cannot be an IP address, a
// host:port or a domain name with dots: a letter followed by letters,
// digits, '-' and '_', at most 64 bytes.
func plainName(s string) bool {
	if s == "" || len(s) > 64 || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
