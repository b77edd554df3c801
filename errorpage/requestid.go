package errorpage

import (
	"crypto/rand"
	"encoding/hex"
)

// maxRequestID bounds a request ID taken from a request.
const maxRequestID = 128

// requestID returns v if it is a safe request ID (1 to 128 letters, digits
// and "-._:"), or a new random one: 24 hexadecimal digits.
func requestID(v string) string {
	if validRequestID(v) {
		return v
	}
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	return hex.EncodeToString(b[:])
}

func validRequestID(v string) bool {
	if v == "" || len(v) > maxRequestID {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == ':':
		default:
			return false
		}
	}
	return true
}
