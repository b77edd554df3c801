package header

import "strings"

const (
	// MaxLength is the number of bytes of a header value the parsers look
	// at; the rest is ignored.
	MaxLength = 4096

	// MaxEntries is the number of elements the parsers keep; later ones are
	// ignored.
	MaxEntries = 32
)

// A MediaRange is one element of an Accept header, such as "text/*;q=0.5".
type MediaRange struct {
	// Type and Subtype are lower-cased; either may be "*".
	Type, Subtype string

	// Params holds the parameters other than q and charset, unparsed,
	// lower-cased names and values, such as "level=1"; empty when there is
	// none. A range with parameters matches only an offer with the same.
	Params string

	// Q is the quality in thousandths, 0 to 1000; 1000 when absent.
	Q int
}

// ParseAccept appends the media ranges of an Accept header value to dst and
// returns the result. Elements that are malformed, such as one without a
// slash or with an invalid q, are skipped; a lone "*" is read as "*/*".
func ParseAccept(dst []MediaRange, s string) []MediaRange {
	if len(s) > MaxLength {
		s = s[:MaxLength]
	}
	n := 0
	for s != "" && n < MaxEntries {
		var elem string
		elem, s = cutUnquoted(s, ',')
		mr, ok := parseMediaRange(elem)
		if !ok {
			continue
		}
		dst = append(dst, mr)
		n++
	}
	return dst
}

// cutUnquoted returns the part of s before the first sep that is outside a
// quoted string (where a backslash escapes the next byte), and the remainder
// after it; s and "" when there is none.
func cutUnquoted(s string, sep byte) (before, after string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func parseMediaRange(elem string) (MediaRange, bool) {
	mr := MediaRange{Q: 1000}
	rng, params, _ := strings.Cut(elem, ";")
	rng = trimOWS(rng)
	if rng == "*" {
		mr.Type, mr.Subtype = "*", "*"
	} else {
		t, st, ok := strings.Cut(rng, "/")
		if !ok || !isToken(t) || !isToken(st) || (t == "*" && st != "*") {
			return mr, false
		}
		mr.Type, mr.Subtype = lower(t), lower(st)
	}
	var extra []byte // rarely used: only for ranges with parameters
	for params != "" {
		var p string
		p, params = cutUnquoted(params, ';')
		p = trimOWS(p)
		if p == "" {
			continue
		}
		name, value, ok := strings.Cut(p, "=")
		name, value = trimOWS(name), trimOWS(value)
		if !ok || !isToken(name) {
			return mr, false
		}
		switch lname := lower(name); lname {
		case "q":
			q, ok := parseQ(value)
			if !ok {
				return mr, false
			}
			mr.Q = q
			// Parameters after q are accept-ext (RFC 9110); ignore them.
			params = ""
		case "charset":
			// Every page is UTF-8; a charset parameter is not a constraint
			// on the media type.
		default:
			if value == "" {
				return mr, false
			}
			if len(extra) > 0 {
				extra = append(extra, ';')
			}
			extra = append(extra, lname...)
			extra = append(extra, '=')
			extra = append(extra, strings.ToLower(strings.Trim(value, `"`))...)
		}
	}
	if len(extra) > 0 {
		mr.Params = string(extra)
	}
	return mr, true
}

// parseQ parses a qvalue (RFC 9110, Section 12.4.2) into thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	mult := 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * mult
		mult /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

// Match returns the quality with which the ranges accept the media type
// typ/subtype (lower-case, without parameters): the Q of the most specific
// range that matches, or 1000 when ranges is empty (no Accept header
// accepts everything), and 0 when none matches.
func Match(ranges []MediaRange, typ, subtype string) int {
	if len(ranges) == 0 {
		return 1000
	}
	best, q := -1, 0
	for _, r := range ranges {
		if r.Params != "" {
			continue // our offers carry no parameters
		}
		spec := -1
		switch {
		case r.Type == typ && r.Subtype == subtype:
			spec = 2
		case r.Type == typ && r.Subtype == "*":
			spec = 1
		case r.Type == "*" && r.Subtype == "*":
			spec = 0
		}
		if spec > best || spec == best && spec >= 0 && r.Q > q {
			best, q = spec, r.Q
		}
	}
	if best < 0 {
		return 0
	}
	return q
}

// Negotiate returns the index of the offer (a lower-case "type/subtype")
// that the Accept ranges prefer, the first offer winning a tie, and its
// quality; it returns -1 and 0 when the ranges accept none of them.
func Negotiate(ranges []MediaRange, offers []string) (index, q int) {
	index = -1
	for i, o := range offers {
		t, st, _ := strings.Cut(o, "/")
		if oq := Match(ranges, t, st); oq > q {
			index, q = i, oq
		}
	}
	return index, q
}

// trimOWS trims spaces and horizontal tabs.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = [128]bool{
	'!': true, '#': true, '$': true, '%': true, '&': true, '\'': true, '*': true,
	'+': true, '-': true, '.': true, '^': true, '_': true, '`': true, '|': true, '~': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true, 'H': true, 'I': true,
	'J': true, 'K': true, 'L': true, 'M': true, 'N': true, 'O': true, 'P': true, 'Q': true, 'R': true,
	'S': true, 'T': true, 'U': true, 'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true, 'h': true, 'i': true,
	'j': true, 'k': true, 'l': true, 'm': true, 'n': true, 'o': true, 'p': true, 'q': true, 'r': true,
	's': true, 't': true, 'u': true, 'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
}

// lower returns s in ASCII lower case, without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
