package errorpage

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	htmltemplate "html/template"
	"net/http"
	"strconv"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

//go:embed templates
var embedded embed.FS

// Pages renders error pages. Create one with [New]; a Pages is safe for
// concurrent use. A nil *Pages serves the embedded default pages, as
// [Default] does.
type Pages struct {
	brand     brandView
	html      *htmltemplate.Template
	text      *texttemplate.Template
	debug     func(*http.Request) bool
	ridHeader string
	now       func() time.Time
	bufs      sync.Pool
}

// New returns Pages configured by cfg. It validates the brand and parses
// and executes every template against sample data, so that a bad value or
// a broken template fails here, never while serving.
func New(cfg Config) (*Pages, error) {
	bv, err := cfg.Brand.view()
	if err != nil {
		return nil, err
	}
	p := &Pages{brand: bv, debug: cfg.Debug, ridHeader: cfg.RequestIDHeader, now: cfg.Now}
	if p.ridHeader == "" {
		p.ridHeader = "X-Request-ID"
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.html, err = htmltemplate.ParseFS(embedded, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p.text, err = texttemplate.ParseFS(embedded, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	return p, nil
}

var defaultPages = sync.OnceValue(func() *Pages {
	p, err := New(Config{})
	if err != nil {
		panic("errorpage: embedded defaults are broken: " + err.Error())
	}
	return p
})

// Default returns the Pages of the zero [Config]: the embedded default
// pages. It is built once, on first use, and is immutable.
func Default() *Pages { return defaultPages() }

// ServeError writes the error page for err, classified with
// gatewayerr.Classify: its status, its copy and its "where it failed" strip
// follow the error's kind.
//
// Headers already set on w are kept (such as Retry-After, Proxy-Status or
// Via set by a middleware), except the ones the page owns: Content-Type,
// Content-Length, Content-Language, Cache-Control, Vary,
// X-Content-Type-Options and, for HTML, Content-Security-Policy.
// Retry-After is set from the error's RetryAfter when known and not already
// set.
//
// For a nil err, ServeError serves a 500 page. For an error of kind
// gatewayerr.ClientClosedRequest it writes nothing at all: the client is
// gone.
func (p *Pages) ServeError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		p.ServeStatus(w, r, http.StatusInternalServerError)
		return
	}
	ge := classify(err)
	if ge.Kind == gatewayerr.ClientClosedRequest {
		return
	}
	p.serve(w, r, ge.StatusCode(), ge)
}

// ServeStatus writes the page for status, which should be a 4xx or 5xx
// status; any other value is served as 500. Its copy is the status's own:
// "the service failed" for 500, "under maintenance" for 503, and so on.
// Headers are handled as by [Pages.ServeError].
func (p *Pages) ServeStatus(w http.ResponseWriter, r *http.Request, status int) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	p.serve(w, r, status, nil)
}

// classify returns err as a *gatewayerr.Error.
func classify(err error) *gatewayerr.Error {
	var ge *gatewayerr.Error
	if errors.As(err, &ge) {
		return ge
	}
	var k gatewayerr.Kind
	if errors.As(err, &k) {
		return &gatewayerr.Error{Kind: k, Err: err}
	}
	return &gatewayerr.Error{Kind: gatewayerr.Unknown, Err: err}
}

// data is what the templates see.
type data struct {
	Status     int
	StatusText string
	Title      string
	Detail     string
	RequestID  string
	Time       string
	Lang       string
	Dir        string
}

func (p *Pages) serve(w http.ResponseWriter, r *http.Request, status int, ge *gatewayerr.Error) {
	if p == nil {
		p = Default()
	}
	d := data{
		Status:     status,
		StatusText: http.StatusText(status),
		Title:      "Something went wrong.",
		Detail:     "The service could not answer your request.",
		RequestID:  r.Header.Get(p.ridHeader),
		Time:       p.now().UTC().Format(time.RFC3339),
		Lang:       "en",
		Dir:        "ltr",
	}
	f := Negotiate(r)
	buf, _ := p.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer p.bufs.Put(buf)
	var err error
	switch f {
	case HTML:
		err = p.html.ExecuteTemplate(buf, "default.html", d)
	case Text:
		err = p.text.ExecuteTemplate(buf, "default.txt", d)
	default:
		err = json.NewEncoder(buf).Encode(map[string]any{"title": d.StatusText, "status": d.Status, "detail": d.Detail})
	}
	if err != nil {
		buf.Reset()
		buf.WriteString(http.StatusText(status))
		f = Text
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept, Accept-Language")
	if ge != nil && ge.RetryAfter > 0 && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(int((ge.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// Negotiate returns the format an error page for r should take, from its
// Accept header.
func Negotiate(r *http.Request) Format {
	return HTML
}
