package errorpage

import (
	"net/http"
	"strings"

	"github.com/gatehouse-go/gatehouse/internal/header"
)

// offers are the media types of the formats, in Format order.
var offers = []string{"text/html", "application/problem+json", "application/json", "text/plain"}

// Negotiate returns the format of the error page for r.
//
// A format the Accept header prefers explicitly wins, by q-value and then
// in [Format] order (so "application/*" gets a problem document). When the
// header is absent, or its best offer comes only from "*/*", or it accepts
// none of the formats, the default is: a problem document for an
// API-looking request (a path under /api/, an XMLHttpRequest or fetch, or
// a JSON request body), plain text for a command-line client (curl, Wget,
// HTTPie), and HTML otherwise.
func Negotiate(r *http.Request) Format {
	f, _ := negotiate(r, headerValue(r.Header, "Accept"))
	return f
}

// negotiate is Negotiate for r, whose Accept value is accept. decided
// reports whether accept alone decided the format, so that any request
// with the same value gets the same.
func negotiate(r *http.Request, accept string) (f Format, decided bool) {
	if accept == "" {
		// No ranges: every format is acceptable, the first default wins.
		return defaults(r)[0], false
	}
	var buf, spec [header.MaxEntries]header.MediaRange
	ranges := header.ParseAccept(buf[:0], accept)
	star := 0 // the q of */*
	specific := spec[:0]
	for _, mr := range ranges {
		if mr.Type == "*" {
			if mr.Params == "" && mr.Q > star {
				star = mr.Q
			}
			continue
		}
		specific = append(specific, mr)
	}
	if len(ranges) == 0 {
		star = 1000
	}
	if len(specific) > 0 {
		if i, q := header.Negotiate(specific, offers); i >= 0 && q >= star {
			return Format(i), true
		}
	}
	// The defaults, in order of preference, first acceptable one wins.
	pref := defaults(r)
	for _, f := range pref {
		if t, st := f.mediaTypeParts(); header.Match(ranges, t, st) > 0 {
			return f, false
		}
	}
	return pref[0], false
}

// defaults returns the formats for r in order of preference, when its
// Accept field does not decide.
func defaults(r *http.Request) [3]Format {
	switch {
	case apiLooking(r):
		return [3]Format{ProblemJSON, JSON, HTML}
	case cliLooking(r):
		return [3]Format{Text, HTML, ProblemJSON}
	}
	return [3]Format{HTML, ProblemJSON, Text}
}

// A memo is the result of parsing a header field's value, for the value
// parsed last: a browser sends the same Accept and Accept-Language with
// every request, and parsing them cost more than the rest of a page.
type memo struct {
	value  string
	result int
}

// maxMemo is the length of the longest value memoized: a longer one is
// parsed every time, and not kept.
const maxMemo = 512

// negotiate is Negotiate, the format being memoized by Accept value when
// that alone decided it.
func (p *Pages) negotiate(r *http.Request) Format {
	accept := headerValue(r.Header, "Accept")
	if m := p.acceptMemo.Load(); m != nil && m.value == accept && accept != "" {
		return Format(m.result)
	}
	f, decided := negotiate(r, accept)
	if decided && len(accept) <= maxMemo {
		p.acceptMemo.Store(&memo{value: accept, result: int(f)})
	}
	return f
}

// mediaTypeParts returns the format's media type and subtype.
func (f Format) mediaTypeParts() (string, string) {
	t, st, _ := strings.Cut(f.MediaType(), "/")
	return t, st
}

// apiLooking reports whether r looks like a call from a program.
func apiLooking(r *http.Request) bool {
	if r.URL != nil && (strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/api" || strings.Contains(r.URL.Path, "/api/")) {
		return true
	}
	h := r.Header
	if strings.EqualFold(firstValue(h, "X-Requested-With"), "XMLHttpRequest") {
		return true
	}
	switch firstValue(h, "Sec-Fetch-Mode") {
	case "cors", "same-origin", "no-cors":
		if firstValue(h, "Sec-Fetch-Dest") == "empty" {
			return true
		}
	}
	ct := firstValue(h, "Content-Type")
	return strings.HasPrefix(ct, "application/json") || strings.Contains(ct, "+json")
}

// cliLooking reports whether r comes from a command-line HTTP client.
func cliLooking(r *http.Request) bool {
	ua := firstValue(r.Header, "User-Agent")
	return strings.HasPrefix(ua, "curl/") || strings.HasPrefix(ua, "Wget/") || strings.HasPrefix(ua, "HTTPie/")
}
