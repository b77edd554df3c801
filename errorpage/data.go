package errorpage

// Data is what a page's template is executed with. Its strings are plain
// text: html/template escapes them for HTML, and the JSON encoders for
// JSON. Templates must treat RequestID, Time and RetryAt as opaque text
// (print them, do not test or slice them): rendered pages are cached with
// those three filled in per request.
type Data struct {
	Status     int    // the response status, such as 502
	StatusText string // the status's name in the page's language, such as "Bad Gateway"
	Title      string // what happened, as a headline
	Detail     string // what happened, in a sentence or two

	// Kind is the failure's RFC 9209 error-type token, such as
	// "connection_refused"; empty for a page served by status.
	Kind string

	// Actions is what the visitor can do: advice, and links from the Brand.
	Actions []Action

	// RetryAt is when the visitor may retry, from Retry-After, in UTC and
	// the page's language: its time of day, such as "14:05:09 UTC" (to the
	// minute when it is an hour or more away), with its date when it is
	// not today, such as "7 May 2026, 09:00 UTC". Retry is a sentence
	// saying when to retry, or, when the page refreshes itself, that it
	// will. Both are empty when not known.
	RetryAt string
	Retry   string

	// Refresh is the delay in seconds, such as "30", after which the page
	// reloads itself, for <meta http-equiv="refresh" content="...">; empty
	// when it does not. An HTML page for a GET or HEAD request refreshes
	// itself when the retry time is known and within
	// [Config.RefreshLimit]; no other page does.
	Refresh string

	RequestID string // the request's ID, to quote to support
	Time      string // the time of the failure, in UTC, such as "2026-01-02 14:04:39 UTC"
	TimeISO   string // the same time in RFC 3339, for a <time datetime> attribute

	Lang string // the page's language, a BCP 47 tag such as "pt"
	Dir  string // the language's direction: "ltr" or "rtl"

	// Host and Path are the request's host and path, cleaned of control
	// characters. The default templates do not show them.
	Host, Path string

	// Hops is the "where it failed" strip; empty for a failure on the
	// visitor's side (a 4xx status). HopsTitle is its heading: "Where it
	// failed", or, when nothing failed (maintenance), "Where your request
	// stopped", in the page's language.
	Hops      []Hop
	HopsTitle string

	Brand BrandData

	// Debug holds the details for operators; nil unless debug details are
	// on for the request.
	Debug *Debug

	// T holds every message of the page's language, by key (see
	// [MessageKeys]), for labels: {{index .T "ref.id"}}.
	T map[string]string
}

// An Action is one thing the visitor can do.
type Action struct {
	Text string // such as "Reload the page in a minute or two."
	URL  string // a link, when the action is one; validated
}

// A Hop is one node of the "where it failed" strip: the visitor's browser,
// the gateway, any proxies the upstream's Proxy-Status names, the service.
type Hop struct {
	Label      string // such as "Your browser", in the page's language
	Name       string // a proxy's name; only with debug details
	State      string // [HopOK], [HopFailed], [HopSkipped] or [HopMaintenance]
	StatusText string // "Working", "Error", "Not reached" or "Under maintenance" in the page's language
}

// Debug is what operators see of a failure when debug details are on.
type Debug struct {
	Kind           string   // the RFC 9209 token, such as "connection_refused"
	Phase          string   // the step that failed, such as "dial"; empty when not known
	Upstream       string   // the upstream's address, when known
	Cause          string   // the underlying error's message
	Attempts       int      // the number of attempts; 0 when not counted
	ReceivedStatus int      // the upstream's status, when it answered
	RetryAfter     string   // the Retry-After delay, such as "30s"; empty when not known
	Proxies        []string // the upstream's Proxy-Status members, as "name: error"
	Hint           string   // what to check for a failure of this kind, in English; empty when there is no specific advice
}
