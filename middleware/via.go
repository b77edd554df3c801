package middleware

import (
	"errors"
	"net/http"
	"strings"
)

// ErrProxyLoop is the cause of the proxy_loop_detected error with which
// [NewReverseProxy] answers a request that already passed through it.
var ErrProxyLoop = errors.New("middleware: request already passed through this proxy")

// viaPseudonym returns name as a Via received-by token: characters a token
// cannot hold become '-'.
func viaPseudonym(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !isTokenChar(c) {
			b[i] = '-'
		}
	}
	return string(b)
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// loopKey marks, in an outgoing request's context, a request that already
// passed through the proxy; the Transport answers it with ErrProxyLoop.
type loopKey struct{}

// addVia appends the proxy's Via entry to out's header, without allocating
// when there is none yet.
func (p *proxy) addVia(out *http.Request) {
	i := 1
	switch {
	case out.ProtoMajor == 1 && out.ProtoMinor == 0:
		i = 0
	case out.ProtoMajor == 2:
		i = 2
	case out.ProtoMajor == 3:
		i = 3
	}
	if prior := out.Header["Via"]; len(prior) > 0 {
		out.Header["Via"] = append(prior[:len(prior):len(prior)], p.via[i][0])
		return
	}
	// The slice is shared by every request: appending to it copies it
	// (its capacity is full) and nothing writes into it.
	out.Header["Via"] = p.via[i]
}

// viaNames reports whether one of the Via field values names pseudonym as a
// received-by (RFC 9110, Section 7.6.3), case-insensitively.
func viaNames(values []string, pseudonym string) bool {
	for _, v := range values {
		if viaValueNames(v, pseudonym) {
			return true
		}
	}
	return false
}

// viaValueNames is viaNames for one field value. Members are split at
// commas outside comments, whose parentheses may nest; a comment that is
// never closed is no comment, and what follows its "(" is read again, so
// that a stray "(" cannot hide the members after it.
func viaValueNames(v, pseudonym string) bool {
	for {
		depth, start, open := 0, 0, -1
		for i := 0; i < len(v); i++ {
			switch v[i] {
			case '(':
				if depth == 0 {
					open = i
				}
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			case '\\':
				if depth > 0 {
					i++ // a quoted-pair in a comment
				}
			case ',':
				if depth == 0 {
					if viaMemberNames(v[start:i], pseudonym) {
						return true
					}
					start = i + 1
				}
			}
		}
		if depth == 0 {
			return viaMemberNames(v[start:], pseudonym)
		}
		if viaMemberNames(v[start:open], pseudonym) {
			return true
		}
		v = v[open+1:]
	}
}

// viaMemberNames reports whether the Via member m, "received-protocol RWS
// received-by [RWS comment]", has pseudonym as its received-by.
func viaMemberNames(m, pseudonym string) bool {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' }
	i := 0
	for i < len(m) && isSpace(m[i]) {
		i++
	}
	for i < len(m) && !isSpace(m[i]) { // received-protocol
		i++
	}
	for i < len(m) && isSpace(m[i]) {
		i++
	}
	j := i
	for j < len(m) && !isSpace(m[j]) && m[j] != '(' {
		j++
	}
	return j > i && strings.EqualFold(m[i:j], pseudonym)
}
