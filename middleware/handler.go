package middleware

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Handler returns a middleware that recovers panics and replaces error
// responses with the branded pages of opts.Pages.
//
// A panic before the response's status was sent becomes a 500 page of kind
// gatewayerr.ProxyInternalError ("the service failed"), logged with its
// stack and reported to opts.OnError. A panic after the status was sent
// cannot be turned into a page any more: it is logged and reported the same
// way, and the response is aborted with panic(http.ErrAbortHandler), which
// net/http answers by closing the connection (HTTP/1) or resetting the
// stream (HTTP/2), so that the client sees a truncated response rather than
// a page glued to a partial body. A panic with http.ErrAbortHandler itself
// is passed on untouched.
//
// A response whose status is in opts.Intercept (502, 503 and 504 by
// default) has its body discarded and the branded page written in its
// place, as opts.Replace decides from its body (see [ReplacePolicy]); see
// [SetError] for choosing the page's copy. The decision is taken when the
// status is written, or, when it depends on the body, at the first
// non-empty write; other responses are neither buffered nor delayed. A
// flush before the first byte decides by the Content-Type alone, as for a
// HEAD request, so that GET and HEAD get the same answer: a response
// without one, or with one that opts.Replace does not keep, is replaced,
// and one with a kept type (a handler streaming its own page) is sent.
// Informational (1xx) responses, 101 Switching Protocols and hijacked
// connections are never intercepted.
//
// A page keeps the headers the application set, except those that
// describe the discarded body; its Vary field lists the application's
// tokens followed by Accept and Accept-Language.
//
// Every page, log record and report carries one request ID: the request's
// X-Request-ID when it is a valid one (1 to 128 ASCII letters, digits and
// "-._:"), else the X-Request-Id the application set on its response,
// else a random one. The page quotes it and sets it as the response's
// X-Request-Id, the log records have it as request_id, and the request
// passed to opts.OnError (and to opts.Pages) carries it in its
// X-Request-ID header, a copy of the request being made when the original
// did not. This holds for Pages whose errorpage.Config.RequestIDHeader is
// left empty; others quote the ID of the header they name.
//
// The ResponseWriter the next handler gets has exactly the optional
// interfaces of the one Handler gets (http.Flusher, http.Hijacker,
// io.ReaderFrom, http.Pusher, http.CloseNotifier) and an Unwrap method, so
// streaming, WebSocket upgrades, sendfile and every http.ResponseController
// method keep working. It is recycled once the next handler returns: as
// net/http requires, it must not be used after that, not even from a
// goroutine the handler started.
func Handler(opts Options) func(http.Handler) http.Handler {
	cfg := &respwriter.Config{
		KeepHTML:       opts.Replace.keeps(respwriter.ForPeople),
		KeepStructured: opts.Replace.keeps(respwriter.ForPrograms),
	}
	if opts.Replace != ReplaceNever {
		cfg.Intercept = opts.intercepted()
	}
	pages := opts.pages()
	logger, onError := opts.Logger, opts.OnError
	return func(next http.Handler) http.Handler {
		h := &handler{next: next, cfg: cfg, pages: pages, logger: logger, onError: onError}
		h.pool.New = func() any { return new(respwriter.Writer) }
		return h
	}
}

type handler struct {
	next    http.Handler
	cfg     *respwriter.Config
	pages   *errorpage.Pages
	logger  *slog.Logger
	onError func(*http.Request, *gatewayerr.Error)
	pool    sync.Pool // of *respwriter.Writer
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := h.pool.Get().(*respwriter.Writer)
	rw.Reset(w, h.cfg, r.Method == http.MethodHead)
	defer h.finish(rw, r)
	h.next.ServeHTTP(rw.View(), r)
}

// finish runs when the next handler has returned or panicked. It is the
// deferred function itself, so that recover works in it.
func (h *handler) finish(rw *respwriter.Writer, r *http.Request) {
	if v := recover(); v != nil {
		h.recovered(rw, r, v)
		return
	}
	if status, ok := rw.Held(); ok {
		h.replace(rw, r, status, h.cause(rw, r, status))
	}
	h.release(rw)
}

func (h *handler) release(rw *respwriter.Writer) {
	rw.Release()
	h.pool.Put(rw)
}

// recovered handles the panic value v.
func (h *handler) recovered(rw *respwriter.Writer, r *http.Request, v any) {
	if v == http.ErrAbortHandler {
		if err := rw.Err(); err != nil {
			r, id := withRequestID(r, rw.Header())
			ge := gatewayerr.Classify(err)
			h.report(r, id, ge, slog.LevelWarn, "gatehouse: response aborted")
		} else if h.logger != nil {
			_, id := withRequestID(r, rw.Header())
			h.logger.LogAttrs(r.Context(), slog.LevelDebug, "gatehouse: response aborted",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("request_id", id))
		}
		h.release(rw)
		panic(http.ErrAbortHandler)
	}
	ge := &gatewayerr.Error{
		Kind: gatewayerr.ProxyInternalError,
		Err:  &PanicError{Value: v, Stack: debug.Stack()},
	}
	r, id := withRequestID(r, rw.Header())
	h.report(r, id, ge, slog.LevelError, "gatehouse: panic recovered")
	if rw.Committed() {
		h.release(rw)
		panic(http.ErrAbortHandler)
	}
	h.serve(rw, r, id, http.StatusInternalServerError, ge)
	h.release(rw)
}

// replace writes the page for status and err (which may be nil) in place
// of the response held in rw.
func (h *handler) replace(rw *respwriter.Writer, r *http.Request, status int, err error) {
	r, id := withRequestID(r, rw.Header())
	h.serve(rw, r, id, status, err)
}

// serve writes the page for status and err (which may be nil) in place of
// the response held in rw, quoting the request ID id, which r carries in
// its X-Request-ID header. The page's Vary field keeps the tokens of the
// application's.
func (h *handler) serve(rw *respwriter.Writer, r *http.Request, id string, status int, err error) {
	var w http.ResponseWriter = rw.Unwrap()
	hdr := w.Header()
	vary := hdr["Vary"]
	respwriter.RemoveBodyHeaders(hdr)
	hdr[requestIDField] = []string{id}
	respwriter.PassNext(w) // an enclosing Handler lets the page through
	if len(vary) > 0 {
		w = &varyWriter{ResponseWriter: w, vary: vary}
	}
	if err != nil {
		h.pages.ServeError(w, r, err)
	} else {
		h.pages.ServeStatus(w, r, status)
	}
}

// varyWriter merges the application's Vary field into the one the page
// sets, as the status is written.
type varyWriter struct {
	http.ResponseWriter
	vary []string // the application's Vary field lines
}

func (w *varyWriter) WriteHeader(code int) {
	h := w.Header()
	h["Vary"] = mergeVary(w.vary, h["Vary"])
	w.ResponseWriter.WriteHeader(code)
}

// mergeVary returns the Vary field lines of app followed by the tokens of
// page that app does not already list (field names are case-insensitive),
// or "*" when either has it.
func mergeVary(app, page []string) []string {
	var b strings.Builder
	seen := make(map[string]bool)
	for _, lines := range [2][]string{app, page} {
		for _, line := range lines {
			for tok := range strings.SplitSeq(line, ",") {
				tok = strings.TrimSpace(tok)
				if tok == "*" {
					return []string{"*"}
				}
				if tok == "" || seen[strings.ToLower(tok)] {
					continue
				}
				seen[strings.ToLower(tok)] = true
				if b.Len() > 0 {
					b.WriteString(", ")
				}
				b.WriteString(tok)
			}
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return []string{b.String()}
}

// requestIDField is the header field, in canonical form, that carries a
// request ID: the one errorpage reads from the request (with a Config's
// RequestIDHeader left empty) and sets on the page.
const requestIDField = "X-Request-Id"

// withRequestID returns the request ID of r for the page, the logs and
// Options.OnError, and r carrying it in its X-Request-ID header: r's own
// ID when it is one that errorpage quotes, else the one the application
// set on its response header h, else a random one. When r does not carry
// the ID already, it is a shallow copy of r with its own header map, so
// that the request the application saw (and may still read from a
// goroutine) is left alone. It runs only on the error path.
func withRequestID(r *http.Request, h http.Header) (*http.Request, string) {
	id := r.Header.Get(requestIDField)
	if isRequestID(id) {
		return r, id
	}
	if id = h.Get(requestIDField); !isRequestID(id) {
		// An ID is a reference, not a secret: math/rand/v2's generator
		// spares a system call per failure.
		var b [12]byte
		binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
		binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
		id = hex.EncodeToString(b[:])
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header, 1)
	}
	r2.Header[requestIDField] = []string{id}
	return r2, id
}

// isRequestID reports whether id is a request ID that errorpage quotes as
// it is: 1 to 128 ASCII letters, digits and "-._:".
func isRequestID(id string) bool {
	if id == "" || len(id) > 128 {
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

// cause returns the error that decides the copy of the page replacing a
// response of the given status, or nil when none is known: the one recorded
// with SetError, else a *gatewayerr.Error that cancelled the request's
// context, else what the response's own status and headers (Proxy-Status,
// Retry-After) report, through gatewayerr.ClassifyResponse.
func (h *handler) cause(rw *respwriter.Writer, r *http.Request, status int) error {
	if err := rw.Err(); err != nil {
		return err
	}
	var ge *gatewayerr.Error
	if errors.As(context.Cause(r.Context()), &ge) {
		return ge
	}
	if ge := gatewayerr.ClassifyResponse(&http.Response{StatusCode: status, Header: rw.Header()}); ge != nil {
		return ge
	}
	return nil
}

// report logs ge at level, with the request ID id, when there is a logger,
// and calls the hook with r, which carries id in its X-Request-ID header.
func (h *handler) report(r *http.Request, id string, ge *gatewayerr.Error, level slog.Level, msg string) {
	if h.logger != nil {
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("request_id", id),
			slog.String("error.type", ge.ErrorType()),
			slog.String("error", ge.Error()),
		}
		var pe *PanicError
		if errors.As(ge, &pe) {
			attrs = append(attrs, slog.String("stack", string(pe.Stack)))
		}
		h.logger.LogAttrs(r.Context(), level, msg, attrs...)
	}
	if h.onError != nil {
		h.onError(r, ge)
	}
}

// SetError records err as the cause of the error response being written to
// w, for every [Handler] that w comes from; it reports whether there was
// one. When such a Handler replaces the response, err decides the page's
// status and copy (through errorpage.Pages.ServeError); when the response is
// aborted with panic(http.ErrAbortHandler) after its status was sent, err is
// logged and reported to [Options.OnError].
//
// A handler calls it before writing an intercepted status:
//
//	middleware.SetError(w, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused, Err: err})
//	w.WriteHeader(http.StatusBadGateway)
//
// The cause is kept with the ResponseWriter rather than in the request's
// context, because putting it in the context would cost every request an
// allocation. Handler also honours a *gatewayerr.Error that cancelled the
// request's context (see context.WithCancelCause and
// context.WithTimeoutCause), as a timeout middleware outside the handler
// may set, and otherwise classifies the response's own status and headers
// (Proxy-Status, Retry-After) with gatewayerr.ClassifyResponse.
func SetError(w http.ResponseWriter, err error) bool {
	return respwriter.SetError(w, err)
}

// PanicError is a panic recovered by [Handler]. It reaches operators (logs
// and [Options.OnError]) as the Err of a *gatewayerr.Error of kind
// gatewayerr.ProxyInternalError; it never reaches a visitor.
type PanicError struct {
	// Value is the value the handler panicked with.
	Value any

	// Stack is the panicking goroutine's stack trace, as formatted by
	// runtime/debug.Stack.
	Stack []byte
}

// Error returns "middleware: panic: " followed by the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("middleware: panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error, and nil otherwise.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
