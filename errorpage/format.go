package errorpage

// A Format is the representation of an error page: HTML, an RFC 9457
// problem document, plain JSON or plain text. [Negotiate] chooses one from a
// request.
//
// The zero Format is [HTML].
type Format uint8

// The formats, in the order [Negotiate] prefers them on a tie.
const (
	HTML        Format = iota // text/html
	ProblemJSON               // application/problem+json (RFC 9457)
	JSON                      // application/json
	Text                      // text/plain

	numFormats // not a format: the count of formats
)

var formatInfo = [numFormats]struct{ name, mediaType, contentType string }{
	HTML:        {"html", "text/html", "text/html; charset=utf-8"},
	ProblemJSON: {"problem+json", "application/problem+json", "application/problem+json; charset=utf-8"},
	JSON:        {"json", "application/json", "application/json; charset=utf-8"},
	Text:        {"text", "text/plain", "text/plain; charset=utf-8"},
}

// String returns the format's short name: "html", "problem+json", "json" or
// "text"; "html" for a value that is not a format.
func (f Format) String() string { return formatInfo[f.valid()].name }

// MediaType returns the format's media type, such as "text/html".
func (f Format) MediaType() string { return formatInfo[f.valid()].mediaType }

// ContentType returns the Content-Type header value for the format, with its
// charset, such as "text/html; charset=utf-8".
func (f Format) ContentType() string { return formatInfo[f.valid()].contentType }

// valid returns f, or HTML when f is not a format.
func (f Format) valid() Format {
	if f >= numFormats {
		return HTML
	}
	return f
}
