// Package respwriter wraps an http.ResponseWriter so that a middleware can
// hold back an error status, discard the body that follows it and write its
// own page instead, while success responses go straight through.
//
// A [Writer] serves one response and is never reused: [Writer.Reset] binds
// it to the response and [Writer.Finish] marks the end of the handler it was
// handed to. [Writer.View] returns it as a ResponseWriter with exactly the
// optional interfaces (http.Flusher, http.Hijacker, io.ReaderFrom,
// http.Pusher, http.CloseNotifier) of the writer it wraps, plus Unwrap for
// http.ResponseController, without allocating. Every view also has
// FlushError, so that http.ResponseController's Flush goes through the
// Writer.
//
// A view stays safe after Finish: when nothing was written before, it keeps
// reaching its own response while the request's context is live; otherwise,
// and once that context is done, it does nothing (see [Writer.Finish]).
//
// Run "go generate" after changing the interface list in gen.go.
package respwriter

//go:generate go run gen.go

import (
	"bufio"
	"context"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Statuses is a set of HTTP status codes from 0 to 639.
type Statuses [10]uint64

// Add adds code to the set; a code out of range is ignored.
func (s *Statuses) Add(code int) {
	if uint(code) < 640 {
		s[code>>6] |= 1 << (code & 63)
	}
}

// Has reports whether code is in the set.
func (s *Statuses) Has(code int) bool {
	return uint(code) < 640 && s[code>>6]&(1<<(code&63)) != 0
}

// Config says which responses a Writer holds back. It is shared by every
// Writer of a middleware and must not change once in use.
type Config struct {
	// Intercept is the set of statuses held back.
	Intercept Statuses

	// KeepHTML lets through a held response whose body turns out to be
	// non-empty and meant for people ([ForPeople]: HTML).
	KeepHTML bool

	// KeepStructured lets through a held response whose body turns out to
	// be non-empty and meant for programs ([ForPrograms]: JSON or XML).
	KeepStructured bool
}

// keeps reports whether a held, non-empty body of the media type ct is let
// through.
func (c *Config) keeps(ct string) bool {
	switch AudienceOf(ct) {
	case ForPeople:
		return c.KeepHTML
	case ForPrograms:
		return c.KeepStructured
	}
	return false
}

// An Audience is whom a response body is meant for, by its media type.
type Audience uint8

const (
	ForNoOne    Audience = iota // plain text, octet-stream, or an unknown, malformed or missing type
	ForPeople                   // HTML: text/html, application/xhtml+xml
	ForPrograms                 // JSON or XML, such as application/problem+json
)

// AudienceOf tells whom a body of the given Content-Type is meant for.
func AudienceOf(contentType string) Audience {
	if contentType == "" {
		return ForNoOne
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ForNoOne
	}
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		return ForPeople
	case mt == "application/json" || strings.HasSuffix(mt, "+json"),
		mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return ForPrograms
	}
	return ForNoOne
}

type mode uint8

const (
	modeIdle     mode = iota // no status written yet
	modeSent                 // the status went to the wrapped writer
	modeHeld                 // an intercepted status is held; the body is discarded
	modeMaybe                // an intercepted status is held until the body, or a flush, shows whether to keep it
	modeHijacked             // the connection was hijacked
)

// Writer is the state of one wrapped response. Its zero value is unbound;
// call Reset before use.
//
// A Writer is not pooled: a view handed to a handler may be kept beyond the
// handler's return (a router's error handler writes through it then, a
// goroutine may), and a recycled Writer would let such a call reach another
// request's response. One allocation per request buys that guarantee.
type Writer struct {
	// The fields are ordered so that the Writer fits the allocator's 80-byte
	// size class with its pointers first: the one allocation of a request
	// through Handler is that much cheaper to make and to scan.
	rw  http.ResponseWriter
	err error
	// After Finish, every call through a view holds mu and first checks
	// ctx, so that late callers are serialised and stop once the request
	// is over; done is what a view checks before anything else. open says
	// whether late calls may reach rw at all: only when nothing was
	// written before Finish (see Finish).
	ctx  context.Context
	cfg  *Config
	mu   sync.Mutex
	done atomic.Bool

	status   int32 // net/http accepts only 100 to 999
	mode     mode
	head     bool
	passNext bool
	open     bool
}

// New returns a Writer bound to rw for one request, as Reset does.
func New(rw http.ResponseWriter, cfg *Config, head bool) *Writer {
	return &Writer{rw: rw, cfg: cfg, head: head}
}

// Reset binds w to rw for one request. head reports whether the request's
// method is HEAD, for which no body is ever expected. It must not be called
// on a Writer whose view was handed out.
func (w *Writer) Reset(rw http.ResponseWriter, cfg *Config, head bool) {
	w.rw, w.cfg, w.head = rw, cfg, head
	w.status, w.mode, w.passNext, w.err = 0, modeIdle, false, nil
	w.done.Store(false)
	w.open = false
	w.ctx = nil
}

// Finish marks the end of the handler w's view was handed to, once the
// caller has written whatever it writes in place of a held response. From
// then on nothing is intercepted any more, a held body stays discarded, and
// the view's methods are serialised. If nothing was written before Finish
// (no status, no page, no hijack), they reach the wrapped writer while ctx
// (the request's context) is live, as a router's error handler that runs
// after the middleware returned needs. Otherwise, and once ctx is done,
// they do nothing and report ErrLate or ctx's error (Header returns a
// fresh map, Unwrap a writer that does nothing), so that a goroutine that
// outlives its handler never touches a response net/http is finishing, or
// has finished and may have recycled: net/http finishes a response without
// any lock, as soon as the handlers outside the middleware return, and
// only cancels ctx just before that. The one exception is that open
// window: a goroutine's call that checks ctx just before net/http cancels
// it reaches the response while net/http finishes it, as it would without
// the Writer. No wrapper can close that window, since net/http takes no
// lock a wrapper could hold; only a synchronous caller (a router's error
// handler) is safe in it.
func (w *Writer) Finish(ctx context.Context) {
	if w.mode == modeMaybe {
		w.mode = modeHeld // the caller wrote a page in its place
	}
	w.passNext = true
	w.open = w.mode == modeIdle
	w.ctx = ctx
	w.done.Store(true)
}

// View returns w as a ResponseWriter that has exactly the optional
// interfaces of the writer it wraps. It does not allocate.
func (w *Writer) View() http.ResponseWriter { return w.view(interfaces(w.rw)) }

// Unwrap returns the wrapped writer, as http.ResponseController expects.
func (w *Writer) Unwrap() http.ResponseWriter { return w.rw }

// Status returns the status written so far: the one sent, or the one held,
// 200 after a body was written without one; 0 when none was written.
func (w *Writer) Status() int { return int(w.status) }

// Committed reports whether a status went to the wrapped writer or the
// connection was hijacked: nothing can be written in the response's place
// any more.
func (w *Writer) Committed() bool { return w.mode == modeSent || w.mode == modeHijacked }

// Hijacked reports whether the connection was hijacked.
func (w *Writer) Hijacked() bool { return w.mode == modeHijacked }

// Held returns the intercepted status whose body was discarded or was not
// one to keep, for the caller to write its own page in its place, and false when
// there is none. Call it only once the handler has returned.
func (w *Writer) Held() (int, bool) {
	if w.mode == modeHeld || w.mode == modeMaybe {
		return int(w.status), true
	}
	return 0, false
}

// Err returns the error recorded by [SetError], if any.
func (w *Writer) Err() error { return w.err }

// Header returns the wrapped writer's header map.
func (w *Writer) Header() http.Header { return w.rw.Header() }

// WriteHeader sends code to the wrapped writer, unless code is to be held.
// Informational statuses other than 101 go through untouched. A second
// status after the first is dropped, and so is any status after a hijack,
// so that the wrapped writer never sees a superfluous WriteHeader.
func (w *Writer) WriteHeader(code int) {
	if w.mode != modeIdle {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code) // 1xx; net/http rejects codes below 100
		return
	}
	w.status = int32(code)
	if w.passNext || code == http.StatusSwitchingProtocols || !w.cfg.Intercept.Has(code) {
		w.mode = modeSent
		w.rw.WriteHeader(code)
		return
	}
	w.hold()
}

// hold decides how to hold w.status.
func (w *Writer) hold() {
	w.mode = modeHeld
	if !w.cfg.KeepHTML && !w.cfg.KeepStructured {
		return
	}
	h := w.rw.Header()
	ct := h.Get("Content-Type")
	switch {
	case ct == "":
		if !w.head {
			w.mode = modeMaybe // net/http would sniff the body; so do we
		}
	case w.cfg.keeps(ct):
		if w.head {
			w.send()
		} else if h.Get("Content-Length") != "0" {
			w.mode = modeMaybe
		}
	}
}

// send sends the held status.
func (w *Writer) send() {
	w.mode = modeSent
	w.rw.WriteHeader(int(w.status))
}

// Write writes p to the wrapped writer, or discards it when the status is
// held.
func (w *Writer) Write(p []byte) (int, error) {
	switch w.mode {
	case modeSent:
	case modeIdle:
		w.mode, w.status = modeSent, http.StatusOK
	case modeMaybe:
		if len(p) == 0 || !w.keep(p) {
			return len(p), nil
		}
	case modeHeld:
		return len(p), nil
	default:
		return 0, http.ErrHijacked
	}
	return w.rw.Write(p)
}

// WriteString is Write for a string.
func (w *Writer) WriteString(s string) (int, error) {
	switch w.mode {
	case modeSent:
	case modeIdle:
		w.mode, w.status = modeSent, http.StatusOK
	case modeMaybe:
		if s == "" || !w.keep([]byte(s)) {
			return len(s), nil
		}
	case modeHeld:
		return len(s), nil
	default:
		return 0, http.ErrHijacked
	}
	return io.WriteString(w.rw, s)
}

// keep decides, from the first non-empty piece of a held body, whether the
// body is to be let through (by its Content-Type, or, when it has none, by
// the type net/http would sniff from it); when it is, it sends the held
// status.
func (w *Writer) keep(p []byte) bool {
	ct := w.rw.Header().Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(p)
	}
	if !w.cfg.keeps(ct) {
		w.mode = modeHeld
		return false
	}
	w.send()
	return true
}

// flush is Flush and http.ResponseController's FlushError. Every view has
// FlushError, even over a writer that cannot flush, so that a
// ResponseController never reaches the wrapped writer through Unwrap and
// sends a held status.
func (w *Writer) flush() error {
	switch w.mode {
	case modeHeld:
		return nil
	case modeHijacked:
		return http.ErrHijacked
	case modeIdle:
		w.mode, w.status = modeSent, http.StatusOK
	case modeMaybe:
		// A flush before the first byte must decide without the body, as
		// for HEAD: by the Content-Type alone, a missing one replaced. A
		// handler that flushes a kept type streams its own page.
		if !w.cfg.keeps(w.rw.Header().Get("Content-Type")) {
			w.mode = modeHeld
			return nil
		}
		w.send()
	}
	return http.NewResponseController(w.rw).Flush()
}

func (w *Writer) hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.mode == modeHijacked {
		return nil, nil, http.ErrHijacked
	}
	c, b, err := w.rw.(http.Hijacker).Hijack()
	if err == nil {
		w.mode = modeHijacked
	}
	return c, b, err
}

func (w *Writer) readFrom(src io.Reader) (int64, error) {
	switch w.mode {
	case modeSent:
	case modeIdle:
		w.mode, w.status = modeSent, http.StatusOK
	case modeHeld:
		return io.Copy(io.Discard, src)
	case modeMaybe:
		return io.Copy(writerOnly{w}, src) // sniff through Write
	default:
		return 0, http.ErrHijacked
	}
	return w.rw.(io.ReaderFrom).ReadFrom(src)
}

// writerOnly hides every method but Write, so that io.Copy uses Write.
type writerOnly struct{ io.Writer }

func (w *Writer) push(target string, opts *http.PushOptions) error {
	return w.rw.(http.Pusher).Push(target, opts)
}

func (w *Writer) closeNotify() <-chan bool {
	//lint:ignore SA1019 kept for the handlers that still use it
	return w.rw.(http.CloseNotifier).CloseNotify()
}

// Find returns the innermost Writer whose view rw is or wraps (through
// Unwrap methods), or nil when there is none.
func Find(rw http.ResponseWriter) *Writer {
	for {
		switch t := rw.(type) {
		case interface{ writer() *Writer }:
			return t.writer()
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return nil
		}
	}
}

// each calls f for every Writer whose view rw is or wraps, innermost first,
// holding the lock of a finished one.
func each(rw http.ResponseWriter, f func(*Writer)) bool {
	found := false
	for w := Find(rw); w != nil; w = Find(w.rw) {
		if w.done.Load() {
			w.mu.Lock()
			f(w)
			w.mu.Unlock()
		} else {
			f(w)
		}
		found = true
	}
	return found
}

// SetError records err as the cause of the response being written through
// rw, in every Writer that rw is or wraps. It reports whether there was one.
func SetError(rw http.ResponseWriter, err error) bool {
	return each(rw, func(w *Writer) { w.err = err })
}

// PassNext makes every Writer that rw is or wraps let the next status
// through, for a page that is already the finished error page.
func PassNext(rw http.ResponseWriter) {
	each(rw, func(w *Writer) { w.passNext = true })
}

// RemoveBodyHeaders deletes from h the fields that describe a body that is
// being discarded, or that the page written in its place sets itself, and
// every trailer.
func RemoveBodyHeaders(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			delete(h, k)
		}
	}
	for _, k := range bodyHeaders {
		delete(h, k)
	}
}

// bodyHeaders are canonical field names, as RemoveBodyHeaders deletes them.
var bodyHeaders = [...]string{
	"Accept-Ranges",
	"Cache-Control",
	"Content-Disposition",
	"Content-Encoding",
	"Content-Language",
	"Content-Length",
	"Content-Location",
	"Content-Md5",
	"Content-Range",
	"Content-Security-Policy",
	"Content-Type",
	"Digest",
	"Etag",
	"Expires",
	"Last-Modified",
	"Link",
	"Trailer",
	"Transfer-Encoding",
	"Vary",
	"X-Content-Type-Options",
}
