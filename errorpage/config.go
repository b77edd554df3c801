package errorpage

import (
	"io/fs"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Config configures [New]. Its zero value gives the embedded default pages:
// unbranded, in every supported language, with no debug details.
type Config struct {
	// Brand is the operator's name, logo, colours, links and footer. The zero
	// Brand is a neutral, unbranded look.
	Brand Brand

	// Templates overrides the embedded templates. For a status such as 503,
	// the page is that of the first of "503.ext", "5xx.ext" and
	// "default.ext" that exists, where ext is "html" (parsed with
	// html/template), "txt" (parsed with text/template) or "json"
	// (text/template; used for application/json only, and checked to
	// produce valid JSON).
	//
	// "default.ext", and any file not named for a status, is parsed over a
	// copy of the embedded templates, so a file that holds only {{define}}
	// blocks replaces those parts of every default page and keeps the rest.
	// Each status file is then parsed on its own Clone of that base, so its
	// {{define}} blocks change only the pages it applies to: a file with
	// nothing outside {{define}} blocks renders the base page with its
	// blocks swapped in, and a file with content of its own renders that
	// content as the whole page. There is no embedded JSON page: a ".json"
	// status file of {{define}}s only needs a "default.json". A
	// "default.ext" or status file of {{define}}s only may define only
	// blocks that the page it overrides has (see the package's Blocks
	// section), or ones its own blocks use; [New] rejects any other.
	//
	// Every page is parsed and executed against sample data in [New], which
	// rejects one that fails or renders nothing with an error naming the
	// file. Templates are read from the top level of the FS only (use
	// fs.Sub for a subdirectory of an embed.FS); New rejects a template
	// file below it, one with a near-miss extension (".htm", ".HTML",
	// ".tmpl") and one named like a status file that is not one
	// ("600.html", "5XX.html"). Other files are ignored. New reads the
	// files once: later changes to them are not seen. If nil, only the
	// embedded templates are used.
	Templates fs.FS

	// Messages overrides the pages' copy: language tag (such as "en", "de",
	// "pt-BR") to message key to text. Keys are those of the embedded
	// catalogs (see [MessageKeys]); a key missing from a language falls back
	// to the embedded text, then to English. A language that has no
	// embedded catalog of its own starts from the embedded one that matches
	// it closely ("zh" and "zh-CN" from "zh-Hans", "pt-BR" from "pt"), else
	// from English. An override must keep the original's format verbs. If
	// nil, the embedded copy is used.
	Messages map[string]map[string]string

	// Debug reports whether a request may see debug details: the kind, the
	// upstream, the cause and the phase of the failure. Use it, for example,
	// to show details to clients on a trusted network; [Always] shows them
	// to everyone. If nil, details are never shown, in any format.
	Debug func(*http.Request) bool

	// ProblemTypeBase is a base URI for the "type" member of problem
	// documents: when set, type is ProblemTypeBase with the kind's token
	// joined as a path segment of its own, a "/" added unless the base ends
	// in one: "https://example.com/problems" and
	// "https://example.com/problems/" both give
	// "https://example.com/problems/connection_refused". It must be an
	// absolute http or https URI without a query or fragment, written with
	// URI characters only (percent-encode others); [New] rejects any other.
	// If empty, type is "about:blank".
	ProblemTypeBase string

	// RequestIDHeader is the header field carrying the request ID a page
	// quotes, such as "X-Correlation-ID": read from the request, and set on
	// the page's response (see [Pages.SetRequestID]). It must be a valid
	// header field name (RFC 9110 token characters: no spaces, colons or
	// control characters) that HTTP and the page give no meaning of their
	// own (not Content-Type, Vary, Set-Cookie, Location, ...); [New] rejects
	// any other. A value is used only if it is 1 to 128 characters of
	// letters, digits and "-._:/=;" (see [ValidRequestID] and
	// [Pages.RequestID]); otherwise a random ID is generated. If empty,
	// "X-Request-ID" is used.
	RequestIDHeader string

	// RequestID returns the ID under which the application logged r, for
	// pages to quote when it lives somewhere other than the request's
	// header: in the request's context (chi's middleware.GetReqID), or a
	// trace ID (OpenTelemetry's trace.SpanContextFromContext). It takes
	// precedence over the request's header, not over an ID the response
	// carries already (see [Pages.SetRequestID]); a value [ValidRequestID]
	// refuses, such as "", is ignored, and the header, then a random ID,
	// are used instead. It is called only when a page is served, and must
	// be safe for concurrent use. If nil, only the headers are read.
	RequestID func(r *http.Request) string

	// RefreshLimit is the longest retry delay for which an HTML page
	// refreshes itself: when a page's retry time is known (Retry-After, a
	// circuit breaker's reopening, the end of maintenance) and no further
	// away than RefreshLimit, the HTML page for a GET or HEAD request
	// carries <meta http-equiv="refresh"> for that moment, and says that it
	// will try again then. Pages for other methods never refresh, and no
	// script is involved (the Content-Security-Policy forbids scripts).
	// If zero, 5 minutes; a negative value turns refreshing off.
	RefreshLimit time.Duration

	// Now returns the current time, shown (in UTC) on the page. If nil,
	// time.Now is used.
	Now func() time.Time

	// OnServe, if not nil, is called after each page that
	// [Pages.ServeError] or [Pages.ServeStatus] writes (a HEAD request's
	// included; not when nothing is written for a client that went away),
	// with what the page was (see [ServedPage]), for metrics. It runs on
	// the request's goroutine and must not block or write to the response.
	OnServe func(ServedPage)
}

// ServedPage describes a page that was served, for [Config.OnServe].
type ServedPage struct {
	// Request is the request the page answered.
	Request *http.Request

	// Status is the page's status.
	Status int

	// Err is the failure the page reports, as classified; nil for a page
	// served by status ([Pages.ServeStatus], or ServeError with a nil
	// error), whose copy is the status's own.
	Err *gatewayerr.Error

	// Format is the format negotiated for the page.
	Format Format
}

// Always is a Config.Debug predicate that shows debug details to every
// request. Use it only during development.
func Always(*http.Request) bool { return true }

// Debug reports whether the pages show r debug details, as Config.Debug
// decides.
func (p *Pages) Debug(r *http.Request) bool {
	if p == nil {
		p = Default()
	}
	return p.debug != nil && p.debug(r)
}
