package errorpage

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/header"
	"golang.org/x/net/http/httpguts"
)

//go:embed templates
var embedded embed.FS

// Pages renders error pages. Create one with [New]; a Pages is safe for
// concurrent use. A nil *Pages serves the embedded default pages, as
// [Default] does.
type Pages struct {
	brand       BrandData
	locales     []*locale
	langs       func() *header.LanguageMatcher // made on first use
	debug       func(*http.Request) bool
	onServe     func(ServedPage)
	ridHeader   string
	ridFunc     func(*http.Request) string
	now         func() time.Time
	problemBase string
	refresh     time.Duration // the longest retry delay a page refreshes for; <= 0 for none

	bufs sync.Pool // *bytes.Buffer

	// length is the Content-Length header value of the page served last,
	// shared by every response of that length (see contentLength).
	length atomic.Pointer[numberValue]

	// retryAfter is the Retry-After header value set last, shared the
	// same way (see retryAfterValue).
	retryAfter atomic.Pointer[numberValue]

	// stamp and lastRetry are the time and the retry moment of the page
	// served last, formatted, shared by the pages that show the same
	// (see stampOf and retryAt).
	stamp     atomic.Pointer[stamp]
	lastRetry atomic.Pointer[retryText]

	// acceptMemo and langMemo hold the format and the locale for the
	// Accept and Accept-Language values seen last.
	acceptMemo, langMemo atomic.Pointer[memo]

	mu       sync.RWMutex
	cache    map[pageKey]*segments    // rendered pages, by what they depend on
	lastPage atomic.Pointer[segments] // the page of cache served last

	// files are the operator's template files, read once by New, from
	// which sets are parsed on first use (see set); uncacheable marks,
	// by format and status, the pages New found cannot be cached.
	files       map[string]string
	sets        [numFormats]atomic.Pointer[pageSet]
	parseMu     sync.Mutex
	uncacheable [numFormats][200]bool
}

// New returns Pages configured by cfg. It validates the brand, the
// messages and the problem type base, reads the operator's templates, and
// parses every template and executes it against sample data in every
// language (see the package documentation), so that a bad value or a
// broken template fails here. Later changes to the files of
// cfg.Templates are not seen.
func New(cfg Config) (*Pages, error) {
	bv, err := cfg.Brand.view()
	if err != nil {
		return nil, err
	}
	p := &Pages{
		brand:       bv,
		debug:       cfg.Debug,
		onServe:     cfg.OnServe,
		ridHeader:   cfg.RequestIDHeader,
		ridFunc:     cfg.RequestID,
		now:         cfg.Now,
		problemBase: cfg.ProblemTypeBase,
		refresh:     cfg.RefreshLimit,
		cache:       make(map[pageKey]*segments),
	}
	if p.refresh == 0 {
		p.refresh = DefaultRefreshLimit
	}
	if p.ridHeader == "" {
		p.ridHeader = "X-Request-ID"
	} else if !httpguts.ValidHeaderFieldName(p.ridHeader) {
		return nil, fmt.Errorf("errorpage: RequestIDHeader %q is not a valid header field name (RFC 9110 token characters only)", p.ridHeader)
	} else if reservedField(http.CanonicalHeaderKey(p.ridHeader)) {
		return nil, fmt.Errorf("errorpage: RequestIDHeader %q names a field that HTTP or the page itself gives another meaning", p.ridHeader)
	}
	// Canonical, so that looking it up costs no allocation.
	p.ridHeader = http.CanonicalHeaderKey(p.ridHeader)
	if p.now == nil {
		p.now = time.Now
	}
	if p.problemBase != "" {
		u, err := url.Parse(p.problemBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !uriChars(p.problemBase) {
			return nil, fmt.Errorf("errorpage: ProblemTypeBase %q is not an absolute http or https URI", p.problemBase)
		}
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(p.problemBase, "?#") {
			return nil, fmt.Errorf("errorpage: ProblemTypeBase %q has a query or fragment; the kind's token is joined to its path", p.problemBase)
		}
		// The kind's token is a path segment of its own.
		p.problemBase = strings.TrimSuffix(p.problemBase, "/") + "/"
	}
	if p.locales, err = buildLocales(cfg.Messages); err != nil {
		return nil, err
	}
	tags := make([]string, len(p.locales))
	for i, l := range p.locales {
		tags[i] = l.tag
	}
	p.langs = sync.OnceValue(func() *header.LanguageMatcher { return header.NewLanguageMatcher(tags...) })
	if p.files, err = readTemplates(cfg.Templates); err != nil {
		return nil, err
	}
	// The templates are parsed and checked here, so that New reports what
	// is wrong with them, and then let go: a parsed template is thousands
	// of small objects, which every garbage collection marks for as long
	// as they live. The pages are parsed again when first served.
	sets, err := parseSets(p.files)
	if err != nil {
		return nil, err
	}
	if err := p.check(sets); err != nil {
		return nil, err
	}
	return p, nil
}

// set returns the pages of format f, parsed on first use from the
// templates New checked; their pages that New found cannot be cached are
// marked so again. Its pages are nil for a format rendered in Go.
func (p *Pages) set(f Format) *pageSet {
	if s := p.sets[f].Load(); s != nil {
		return s
	}
	p.parseMu.Lock()
	defer p.parseMu.Unlock()
	if s := p.sets[f].Load(); s != nil {
		return s
	}
	s, err := parseSet(p.files, f)
	if err != nil || s == nil {
		// New parsed the same sources without error; nil for
		// ProblemJSON, which is rendered in Go.
		s = &pageSet{}
	}
	for i, pg := range s.pages {
		if pg != nil && p.uncacheable[f][i] {
			pg.cacheable = false
		}
	}
	p.sets[f].Store(s)
	return s
}

var defaultPages = sync.OnceValue(func() *Pages {
	p, err := New(Config{})
	if err != nil {
		panic("errorpage: the embedded defaults are broken: " + err.Error())
	}
	return p
})

// Default returns the Pages of the zero [Config]: the embedded default
// pages. It is built once, on first use, and shared; it holds no
// configuration that can change.
func Default() *Pages { return defaultPages() }

// ErrMaintenance marks a failure as planned maintenance: an error that
// matches it (errors.Is) gets the maintenance page, whose copy and "where
// it failed" strip say the service is under maintenance, rather than that
// it failed. middleware.Maintenance serves it as the cause of a
// destination_unavailable (503) error:
//
//	p.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: errorpage.ErrMaintenance, RetryAfter: time.Hour})
var ErrMaintenance = errors.New("errorpage: down for maintenance")

// ServeError writes the error page for err, classified with
// gatewayerr.Classify: its status, copy and "where it failed" strip follow
// the error's kind, and its upstream Proxy-Status chain if any.
//
// The page is rendered into a buffer before any header is written. Headers
// already set on w are kept (such as Retry-After, Proxy-Status or Via set
// by a middleware), except those the page owns, which are replaced:
// Content-Type, Content-Length, Content-Language, Cache-Control,
// X-Content-Type-Options and, for HTML, Content-Security-Policy.
// Content-Encoding and Content-Range, which would misdescribe the page, are
// removed. The Vary field is merged: its tokens, from all its lines, are
// kept, each once, and Accept and Accept-Language added unless listed (field
// names are case-insensitive), in one line; a "*" stays "*". Retry-After is
// set from the error's RetryAfter when known and not already set, as long
// as it is (bounded only by gatewayerr.MaxStatedRetryAfter). The
// request ID the page quotes is set in the field named by
// Config.RequestIDHeader (see [Pages.SetRequestID]: the response's own ID
// when valid, else the request's, else a random one). A HEAD request gets
// the headers and no body.
//
// For a nil err, ServeError serves a 500 page. For an error of kind
// gatewayerr.ClientClosedRequest it writes nothing at all, not even a
// status, when r's context is done: the client is gone. When the client is
// still there (something else cancelled the work, such as a context of the
// application's own), it gets the 499 page rather than the empty 200 that
// net/http would send for a handler that wrote nothing.
func (p *Pages) ServeError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		p.ServeStatus(w, r, http.StatusInternalServerError)
		return
	}
	ge := classify(err)
	if ge.Kind == gatewayerr.ClientClosedRequest && r.Context().Err() != nil {
		return
	}
	p.serve(w, r, ge.StatusCode(), ge)
}

// ServeStatus writes the page for status, a 4xx or 5xx status. Its copy is
// the status's own: for 500 "something went wrong on our side" (the
// gateway's own error, as after a panic), for 502 an upstream in trouble,
// for 503 maintenance, for 504 a timeout, for 404 a missing page, and so on.
// Headers are handled as by [Pages.ServeError].
//
// A status outside 400 to 599 (such as 0, 200, 302 or 600) is a mistake of
// the caller's, not something to tell a visitor: ServeStatus serves the 500
// page for it, with status 500. For 499 (gatewayerr.StatusClientClosedRequest)
// it writes nothing at all, not even a status, when r's context is done, as
// ServeError does for gatewayerr.ClientClosedRequest: the client is gone.
// Otherwise the 499 page is served.
func (p *Pages) ServeStatus(w http.ResponseWriter, r *http.Request, status int) {
	if status == gatewayerr.StatusClientClosedRequest && r.Context().Err() != nil {
		return
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	p.serve(w, r, status, nil)
}

// classify returns err as a *gatewayerr.Error; err is not nil.
func classify(err error) *gatewayerr.Error { return gatewayerr.Classify(err) }

// Owned header values, shared by every response to save allocations; they
// must never be modified in place (net/http does not).
var (
	hdrNoStore = []string{"no-store"}
	hdrNosniff = []string{"nosniff"}
	hdrVary    = []string{"Accept, Accept-Language"}
	hdrVaryAll = []string{"*"}
	hdrCSP     = []string{"default-src 'none';style-src 'unsafe-inline';img-src data:;base-uri 'none';form-action 'none';frame-ancestors 'none'"}
	hdrType    = [numFormats][]string{{HTML.ContentType()}, {ProblemJSON.ContentType()}, {JSON.ContentType()}, {Text.ContentType()}}
)

// DefaultRefreshLimit is the longest retry delay for which an HTML page
// refreshes itself when Config.RefreshLimit is zero.
const DefaultRefreshLimit = 5 * time.Minute

// A job is one rendering: everything a page depends on.
type job struct {
	format  Format
	loc     int
	status  int
	ge      *gatewayerr.Error // nil for a page served by status
	debug   bool
	rid     string
	now     time.Time
	retry   time.Duration
	refresh bool // the page reloads itself after retry
	host    string
	path    string   // escaped; if empty, u's
	u       *url.URL // the request's URL, whose escaped path is computed only when a page shows it
}

// escapedPath returns the request's path, escaped.
func (j *job) escapedPath() string {
	if j.path == "" && j.u != nil {
		return j.u.EscapedPath()
	}
	return j.path
}

// dated reports whether j's retry moment is told with its date: it is not
// today.
func (j *job) dated() bool { return j.retry > 0 && !sameDay(j.now, j.retry) }

// refreshes reports whether a page in format for a request with method,
// whose retry delay is retry (0 when not known), reloads itself.
func (p *Pages) refreshes(format Format, method string, retry time.Duration) bool {
	return format == HTML && (method == http.MethodGet || method == http.MethodHead) &&
		retry > 0 && retry <= p.refresh
}

// group returns the copy of j's page.
func (j *job) group() group {
	if j.ge == nil {
		return groupOfStatus(j.status)
	}
	if j.ge.Kind == gatewayerr.DestinationUnavailable && errors.Is(j.ge.Err, ErrMaintenance) {
		return gMaintenance
	}
	return groupOfKind(j.ge.Kind, j.ge.ReceivedStatus, j.status)
}

func (p *Pages) serve(w http.ResponseWriter, r *http.Request, status int, ge *gatewayerr.Error) {
	if p == nil {
		p = Default()
	}
	h := w.Header()
	j := job{
		format: p.negotiate(r),
		loc:    p.language(headerValue(r.Header, "Accept-Language")),
		status: status,
		ge:     ge,
		debug:  p.debug != nil && p.debug(r),
		rid:    p.setRequestID(h, r),
		now:    p.now(),
		host:   r.Host,
	}
	j.u = r.URL
	// Retry-After is told as the operator or upstream gave it, bounded
	// only against nonsense (MaxRetryAfter is for scheduling retries).
	setRetry := false
	if ge != nil && ge.RetryAfter > 0 {
		j.retry = min(ge.RetryAfter, gatewayerr.MaxStatedRetryAfter)
		setRetry = len(h["Retry-After"]) == 0
	} else if v := firstValue(h, "Retry-After"); v != "" {
		j.retry, _ = gatewayerr.ParseRetryAfter(v, j.now)
		j.retry = min(j.retry, gatewayerr.MaxStatedRetryAfter)
	}

	j.refresh = p.refreshes(j.format, r.Method, j.retry)

	buf := p.buffer()
	defer p.release(buf)
	p.render(buf, &j)

	// What is read or removed goes first: a header of at most 8 fields
	// is searched without hashing, and the page's own make it larger.
	v := vary(h["Vary"])
	delete(h, "Content-Encoding")
	delete(h, "Content-Range")
	h["Content-Type"] = hdrType[j.format]
	h["Content-Length"] = p.contentLength(buf.Len())
	h["Content-Language"] = p.locales[j.loc].contentLanguage
	h["Cache-Control"] = hdrNoStore
	h["Vary"] = v
	h["X-Content-Type-Options"] = hdrNosniff
	if j.format == HTML {
		h["Content-Security-Policy"] = hdrCSP
	}
	if setRetry {
		h["Retry-After"] = p.retryAfterValue(int64((j.retry + time.Second - 1) / time.Second))
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes()) //nolint:errcheck // the client may be gone; nothing to do
	}
	if p.onServe != nil {
		p.onServe(ServedPage{Request: r, Status: status, Err: ge, Format: j.format})
	}
}

// A numberValue is a header value stating a number, and the number.
type numberValue struct {
	n int64
	v []string
}

// contentLength returns the Content-Length header value for a page of n
// bytes. The pages of one kind and format all have the same length (the
// request ID and the time shown have fixed widths), so the value of the
// last length served is kept and shared by the responses of that length,
// which saves two allocations each; like the other owned header values, it
// must never be modified in place.
func (p *Pages) contentLength(n int) []string {
	if c := p.length.Load(); c != nil && c.n == int64(n) {
		return c.v
	}
	c := &numberValue{n: int64(n), v: []string{strconv.Itoa(n)}}
	p.length.Store(c)
	return c.v
}

// retryAfterValue returns the Retry-After header value for a delay of secs
// seconds. The pages served while a breaker is open or a maintenance lasts
// state the same delay for a second at a time, so the value of the last
// delay set is kept and shared, as contentLength does; it must never be
// modified in place.
func (p *Pages) retryAfterValue(secs int64) []string {
	if c := p.retryAfter.Load(); c != nil && c.n == secs {
		return c.v
	}
	c := &numberValue{n: secs, v: []string{strconv.FormatInt(secs, 10)}}
	p.retryAfter.Store(c)
	return c.v
}

// vary returns the page's Vary field, given the lines of the one already
// set: the tokens of those lines, each once (field names are
// case-insensitive), followed by Accept and Accept-Language unless they are
// among them, in one line; "*" if any token is "*". Without lines it is the
// shared hdrVary, at no allocation.
func vary(lines []string) []string {
	if len(lines) == 0 || (len(lines) == 1 && lines[0] == hdrVary[0]) {
		return hdrVary
	}
	var b strings.Builder
	seen := make(map[string]bool) // lower-cased tokens
	add := func(tok string) {
		k := strings.ToLower(tok)
		if seen[k] {
			return
		}
		seen[k] = true
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tok)
	}
	for _, line := range lines {
		for tok := range strings.SplitSeq(line, ",") {
			switch tok = strings.Trim(tok, " \t"); tok {
			case "":
			case "*":
				return hdrVaryAll
			default:
				add(tok)
			}
		}
	}
	add("Accept")
	add("Accept-Language")
	return []string{b.String()}
}

// headerValue returns the value of the header field name, its lines joined
// with commas when it has several.
func headerValue(h http.Header, name string) string {
	vs := h[name]
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs, ",")
}

// firstValue is h.Get(key) for a key in canonical form, which it does not
// canonicalize again: that cost more than the rest of negotiation.
func firstValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// maxBuffer is the largest buffer kept for reuse.
const maxBuffer = 64 << 10

func (p *Pages) buffer() *bytes.Buffer {
	if b, ok := p.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return bytes.NewBuffer(make([]byte, 0, 16<<10))
}

func (p *Pages) release(b *bytes.Buffer) {
	if b.Cap() > maxBuffer {
		return
	}
	b.Reset()
	p.bufs.Put(b)
}

// language returns the index of the locale for an Accept-Language value,
// memoized for the value seen last.
func (p *Pages) language(acceptLanguage string) int {
	if m := p.langMemo.Load(); m != nil && m.value == acceptLanguage {
		return m.result
	}
	loc := p.matchLanguage(acceptLanguage)
	if len(acceptLanguage) <= maxMemo {
		p.langMemo.Store(&memo{value: acceptLanguage, result: loc})
	}
	return loc
}

// matchLanguage returns the index of the locale for an Accept-Language
// value.
func (p *Pages) matchLanguage(acceptLanguage string) int {
	var buf [header.MaxEntries]header.LanguageRange
	return p.langs().Match(header.ParseAcceptLanguage(buf[:0], acceptLanguage))
}

// Sample describes a page for [Pages.Render]: a way to render any variant
// of a page without a request, for a gallery or a test.
type Sample struct {
	// Status is the page's status. If zero, it is Err's status, or 500
	// when Err is nil too.
	Status int

	// Err is the failure, classified with gatewayerr.Classify. If nil, the
	// page is the one [Pages.ServeStatus] serves for Status.
	Err error

	// Format is the page's format.
	Format Format

	// Language is a BCP 47 tag or an Accept-Language value, such as "ar"
	// or "pt-BR,pt;q=0.9". If empty, the page is in English.
	Language string

	// Debug shows the debug details.
	Debug bool

	// RequestID is the reference shown; if empty or invalid, a random one.
	RequestID string

	// Time is the time shown; if zero, Config.Now's.
	Time time.Time

	// RetryAfter is the delay before a retry; if zero, Err's RetryAfter, if
	// any.
	RetryAfter time.Duration

	// Host and Path are the request's host and path, for templates that
	// show them.
	Host, Path string

	// Method is the request's method; an HTML page for GET or HEAD whose
	// retry time is near enough refreshes itself (see
	// [Config.RefreshLimit]). If empty, GET.
	Method string
}

// Render writes the body of the page that s describes to w, exactly as
// ServeError or ServeStatus would serve it. Its Content-Type is
// s.Format.ContentType(). A ClientClosedRequest error is rendered as a
// 499 page, as ServeError serves it to a client that is still there.
func (p *Pages) Render(w io.Writer, s Sample) error {
	if p == nil {
		p = Default()
	}
	j := job{
		format: s.Format.valid(),
		loc:    p.language(s.Language),
		status: s.Status,
		debug:  s.Debug,
		rid:    requestID(s.RequestID),
		now:    s.Time,
		retry:  s.RetryAfter,
		host:   s.Host,
		path:   s.Path,
	}
	if s.Err != nil {
		j.ge = classify(s.Err)
		if j.status == 0 {
			j.status = j.ge.StatusCode()
		}
		if j.retry == 0 {
			j.retry = j.ge.RetryAfter
		}
	}
	if j.status < 400 || j.status > 599 {
		if j.ge == nil || j.status != gatewayerr.StatusClientClosedRequest {
			j.status = http.StatusInternalServerError
		}
	}
	if j.now.IsZero() {
		j.now = p.now()
	}
	method := s.Method
	if method == "" {
		method = http.MethodGet
	}
	j.refresh = p.refreshes(j.format, method, j.retry)
	buf := p.buffer()
	defer p.release(buf)
	p.render(buf, &j)
	_, err := w.Write(buf.Bytes())
	return err
}

// uriChars reports whether s holds only the characters a URI may (RFC
// 3986: unreserved, reserved and "%"), so that a problem type built on it
// is a URI as it stands.
func uriChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// reservedField reports whether name, a canonical header field name, has a
// meaning of its own in HTTP or on the page, so that it cannot carry a
// request ID: a page would overwrite it, or it would mean something else
// to the client.
func reservedField(name string) bool {
	switch name {
	case "Accept", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Age", "Authorization",
		"Cache-Control", "Connection", "Content-Disposition", "Content-Encoding", "Content-Language",
		"Content-Length", "Content-Location", "Content-Range", "Content-Security-Policy", "Content-Type",
		"Cookie", "Date", "Etag", "Expect", "Expires", "Forwarded", "Host", "Keep-Alive", "Last-Modified",
		"Link", "Location", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Status", "Range",
		"Referer", "Refresh", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security", "Te",
		"Trailer", "Transfer-Encoding", "Upgrade", "User-Agent", "Vary", "Via", "Www-Authenticate",
		"X-Content-Type-Options", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}
