package gatewayerr

import (
	"math"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
)

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
