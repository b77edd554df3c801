package errorpage

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// maxRequestID bounds a request ID taken from a request.
const maxRequestID = 128

// ValidRequestID reports whether id is a request ID that the pages quote as
// it is: 1 to 128 ASCII letters, digits and "-._:". Any other value could
// carry markup, spaces or line breaks into a page or a header, and is
// replaced by a random ID.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == ':':
		default:
			return false
		}
	}
	return true
}

// NewRequestID returns a new random request ID, 24 hexadecimal digits, as
// the pages quote for a request without a valid one of its own.
func NewRequestID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	return hex.EncodeToString(b[:])
}

// RequestID returns the request ID that [Pages.ServeError] and
// [Pages.ServeStatus] quote for r: the value of r's header named by
// Config.RequestIDHeader ("X-Request-ID" by default), its first line, when
// [ValidRequestID] accepts it. It returns "" when r has none or an invalid
// one; the page then quotes a random ID, unless the caller gives r one with
// [Pages.WithRequestID]. A middleware that logs a failure calls it to log
// the ID the visitor sees.
func (p *Pages) RequestID(r *http.Request) string {
	if p == nil {
		p = Default()
	}
	if id := r.Header.Get(p.ridHeader); ValidRequestID(id) {
		return id
	}
	return ""
}

// WithRequestID returns r carrying id as its request ID, in the header named
// by Config.RequestIDHeader, so that the page served for it quotes id and
// [Pages.RequestID] returns it. It returns r itself when r carries id
// already, and otherwise a shallow copy of r with a copy of its header, so
// that r, which the application may still be reading, is left alone.
//
// id must be valid (see [ValidRequestID], and [NewRequestID] for a new one):
// the page quotes a random ID in place of an invalid one.
//
// A middleware that logs a failure and then serves its page calls
// [Pages.RequestID], and, when that is "", gives the request an ID of its
// choosing before serving the page, so that the log and the page agree:
//
//	id := pages.RequestID(r)
//	if id == "" {
//		id = errorpage.NewRequestID()
//		r = pages.WithRequestID(r, id)
//	}
//	logger.Error("upstream failed", "request_id", id, "error", err)
//	pages.ServeError(w, r, err)
func (p *Pages) WithRequestID(r *http.Request, id string) *http.Request {
	if p == nil {
		p = Default()
	}
	if r.Header.Get(p.ridHeader) == id {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = cloneHeaderWith(r.Header, p.ridHeader, id)
	return r2
}

// cloneHeaderWith returns a copy of h, as [http.Header.Clone] makes it, in
// which the field key (canonical) holds the single value id. The map is
// sized for the new field and all the values, id included, share one
// backing array, each slice capped at its own length, so that the copy
// costs two allocations whatever h holds.
func cloneHeaderWith(h http.Header, key, id string) http.Header {
	nv := 1
	for _, vv := range h {
		nv += len(vv)
	}
	sv := make([]string, nv)
	h2 := make(http.Header, len(h)+1)
	for k, vv := range h {
		if k == key {
			continue
		}
		if vv == nil {
			// Preserve nil values, as Header.Clone does.
			h2[k] = nil
			continue
		}
		n := copy(sv, vv)
		h2[k] = sv[:n:n]
		sv = sv[n:]
	}
	sv[0] = id
	h2[key] = sv[:1:1]
	return h2
}

// requestID returns v if it is a valid request ID, or a new random one.
func requestID(v string) string {
	if ValidRequestID(v) {
		return v
	}
	return NewRequestID()
}
