package errorpage

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
)

// maxRequestID bounds a request ID taken from a request.
const maxRequestID = 128

// ValidRequestID reports whether id is a request ID that the pages quote as
// it is: 1 to 128 ASCII letters, digits and "-._:/=;". That takes the IDs
// that request-ID middlewares and tracers produce: UUIDs (Envoy,
// gin-contrib/requestid), chi's "host/Ab3dE5fG7h-000001", echo's random
// alphanumerics, W3C trace IDs and traceparent values, Amazon's
// "Root=1-...;Parent=...;Sampled=1". Any other value could carry markup,
// quotes, spaces, list separators or line breaks into a page or a header
// ("+" is refused too, since HTML escapes it), and is replaced by a random
// ID.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == ':', c == '/', c == '=', c == ';':
		default:
			return false
		}
	}
	return true
}

// NewRequestID returns a new random request ID, 24 hexadecimal digits (96
// bits), as the pages quote for a request without a valid one of its own.
// The bits come from math/rand/v2's generator, which the runtime seeds from
// the operating system: unique in practice and cheap (no system call), but
// not meant to be a secret.
func NewRequestID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return hex.EncodeToString(b[:])
}

// RequestID returns the valid request ID that r carries: the one
// Config.RequestID returns for r, when set and [ValidRequestID] accepts it,
// else the value of r's header named by Config.RequestIDHeader
// ("X-Request-ID" by default), its first line, when valid, else "". A page
// quotes it unless its response already carries a valid ID (see
// [Pages.SetRequestID]).
func (p *Pages) RequestID(r *http.Request) string {
	if p == nil {
		p = Default()
	}
	if p.ridFunc != nil {
		if id := p.ridFunc(r); ValidRequestID(id) {
			return id
		}
	}
	if id := firstValue(r.Header, p.ridHeader); ValidRequestID(id) {
		return id
	}
	return ""
}

// SetRequestID returns the request ID that a page served on w for r
// quotes, and sets it on w's header, in the field named by
// Config.RequestIDHeader: the ID w's header holds already when it is valid
// (one the application chose and logged), else r's own ([Pages.RequestID]:
// from Config.RequestID, else from r's header), else a new random one
// ([NewRequestID]). [Pages.ServeError] and
// [Pages.ServeStatus] call it; a middleware that logs a failure calls it
// first, so that its log and the page agree:
//
//	id := pages.SetRequestID(w, r)
//	logger.Error("upstream failed", "request_id", id, "error", err)
//	pages.ServeError(w, r, err)
func (p *Pages) SetRequestID(w http.ResponseWriter, r *http.Request) string {
	if p == nil {
		p = Default()
	}
	return p.setRequestID(w.Header(), r)
}

// setRequestID is SetRequestID on the response header h.
func (p *Pages) setRequestID(h http.Header, r *http.Request) string {
	if vs := h[p.ridHeader]; len(vs) == 1 && ValidRequestID(vs[0]) {
		return vs[0]
	}
	id := p.RequestID(r)
	if id == "" {
		id = NewRequestID()
	}
	h[p.ridHeader] = []string{id}
	return id
}

// WithRequestID returns r carrying id as its request ID, in the header named
// by Config.RequestIDHeader, so that [Pages.RequestID] returns it and a
// page served for it quotes it (unless the response carries an ID of its
// own, or Config.RequestID returns a valid one for it). It returns r itself when r carries id already, and otherwise a
// shallow copy of r with a copy of its header, so that r, which the
// application may still be reading, is left alone. It suits code that
// hands the request on, such as a hook that reads the ID from it; to make
// a page and a log agree, [Pages.SetRequestID] costs less.
//
// id must be valid (see [ValidRequestID], and [NewRequestID] for a new one):
// an invalid one is never quoted.
func (p *Pages) WithRequestID(r *http.Request, id string) *http.Request {
	if p == nil {
		p = Default()
	}
	if firstValue(r.Header, p.ridHeader) == id {
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
