package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Handler returns a middleware that recovers panics and replaces error
// responses with the pages of opts.Pages. A panic becomes the 500 page
// (gatewayerr.ProxyInternalError), or, once the status was sent, aborts the
// response with http.ErrAbortHandler; it is logged with its stack and
// reported. A response whose status is in opts.Intercept is replaced,
// keeping its status, as opts.Replace decides ([SetError] gives its cause);
// others are neither buffered nor delayed. Page, log and report carry one
// request ID. The ResponseWriter passed on keeps the optional interfaces of
// the one Handler gets, unwraps, and, once next returned, writes nothing
// into a response already written, nor once the request's context is done.
func Handler(opts Options) func(http.Handler) http.Handler {
	// How it behaves where the contract above is short:
	//   - A panic with http.ErrAbortHandler itself passes untouched; 1xx,
	//     101 and hijacked responses are never intercepted.
	//   - The decision to intercept is taken when the status is written, or,
	//     when it depends on the body, at the first non-empty write. A flush
	//     before the first byte decides by the Content-Type alone, as for
	//     HEAD, so that GET and HEAD get the same answer.
	//   - A page keeps the application's headers except those describing
	//     the discarded body; Vary lists the application's tokens, then
	//     Accept and Accept-Language.
	//   - Aborting after the status is the honest answer: net/http closes
	//     the connection (HTTP/1) or resets the stream (HTTP/2), and the
	//     client sees a truncated response, not a page glued to a body.
	//   - The writer stays its request's after next returns: on a response
	//     nothing was written to, while the request is served (echo's error
	//     handler behind WrapMiddleware), it writes straight through; on a
	//     written one it writes nothing and reports respwriter.ErrLate, since
	//     net/http finishes the response without a lock once the handlers
	//     outside return; once the context Handler got is done it writes
	//     nothing and reports the context's error. A middleware outside
	//     Handler that cancels the context it hands on when it returns
	//     (echo's ContextTimeout) ends that window early.
	cfg := &respwriter.Config{
		KeepHTML:       opts.Replace.keeps(respwriter.ForPeople),
		KeepStructured: opts.Replace.keeps(respwriter.ForPrograms),
	}
	if opts.Replace != ReplaceNever {
		cfg.Intercept = opts.intercepted()
	}
	pages := opts.pages()
	logger, onError, onReplace := opts.Logger, opts.OnError, opts.OnReplace
	maint := newMaintenancePage(&opts, proxyStatusName(opts.ProxyName))
	return func(next http.Handler) http.Handler {
		return &handler{next: next, cfg: cfg, pages: pages, logger: logger, onError: onError, onReplace: onReplace, maint: maint}
	}
}

type handler struct {
	next      http.Handler
	cfg       *respwriter.Config
	pages     *errorpage.Pages
	logger    *slog.Logger
	onError   func(*http.Request, *gatewayerr.Error)
	onReplace func(*http.Request, *gatewayerr.Error)
	maint     *maintenancePage // nil without Options.Maintenance
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.maint.serve(w, r) {
		return
	}
	// A Writer per request, never pooled: its view may outlive the call
	// (see respwriter.Writer.Finish), and this is the one allocation of
	// the success path.
	rw := respwriter.New(w, h.cfg, r.Method == http.MethodHead)
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
		cause := h.cause(rw, r, status)
		if h.onReplace != nil {
			h.replaced(rw, r, status, cause)
		}
		h.serve(rw, r, status, cause)
	}
	rw.Finish(r.Context())
}

// recovered handles the panic value v.
func (h *handler) recovered(rw *respwriter.Writer, r *http.Request, v any) {
	if v == http.ErrAbortHandler {
		if err := rw.Err(); err != nil {
			id := h.pages.SetRequestID(rw, r)
			ge := gatewayerr.Classify(err)
			h.report(r, id, ge, slog.LevelWarn, "gatehouse: response aborted")
		} else if h.logger != nil {
			id := h.pages.SetRequestID(rw, r)
			h.logger.LogAttrs(r.Context(), slog.LevelDebug, "gatehouse: response aborted",
				slog.String(keyMethod, r.Method), slog.String(keyPath, r.URL.Path),
				slog.String(keyRequestID, id))
		}
		rw.Finish(r.Context())
		panic(http.ErrAbortHandler)
	}
	ge := &gatewayerr.Error{
		Kind: gatewayerr.ProxyInternalError,
		Err:  &PanicError{Value: v, Stack: debug.Stack()},
	}
	id := h.pages.SetRequestID(rw, r)
	h.report(r, id, ge, slog.LevelError, "gatehouse: panic recovered")
	if rw.Committed() {
		rw.Finish(r.Context())
		panic(http.ErrAbortHandler)
	}
	h.serve(rw, r, http.StatusInternalServerError, ge)
	rw.Finish(r.Context())
}

// serve writes the page for status and err (which may be nil) in place of
// the response held in rw, quoting the request ID set on rw's header. The
// application's Vary field is kept for the page to add its own tokens to.
func (h *handler) serve(rw *respwriter.Writer, r *http.Request, status int, err error) {
	w := rw.Unwrap()
	hdr := w.Header()
	vary := hdr["Vary"]
	respwriter.RemoveBodyHeaders(hdr)
	if len(vary) > 0 {
		hdr["Vary"] = vary
	}
	respwriter.PassNext(w) // an enclosing Handler lets the page through
	if err != nil {
		h.pages.ServeError(w, r, err)
	} else {
		h.pages.ServeStatus(w, r, status)
	}
}

// replaced reports to onReplace the response of the given status that is
// about to be replaced, with cause (which may be nil) as the page will
// show it, and the request carrying the page's request ID.
func (h *handler) replaced(rw *respwriter.Writer, r *http.Request, status int, cause error) {
	var e *gatewayerr.Error
	if cause != nil {
		e = gatewayerr.Classify(cause)
	}
	if e == nil || e.ReceivedStatus != status {
		// The page keeps the replaced response's status whatever the
		// cause: the report says which it was.
		c := &gatewayerr.Error{Kind: gatewayerr.Unknown, Err: cause}
		if e != nil {
			*c = *e
		}
		c.ReceivedStatus = status
		e = c
	}
	id := h.pages.SetRequestID(rw, r)
	reportError(h.onReplace, h.pages, r, id, e)
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
// and calls the hook with r carrying id (see reportError).
func (h *handler) report(r *http.Request, id string, ge *gatewayerr.Error, level slog.Level, msg string) {
	if h.logger != nil {
		attrs := []slog.Attr{
			slog.String(keyMethod, r.Method),
			slog.String(keyPath, r.URL.Path),
			slog.String(keyRequestID, id),
			slog.String(keyKind, ge.ErrorType()),
			slog.String(keyError, ge.Error()),
		}
		var pe *PanicError
		if errors.As(ge, &pe) {
			attrs = append(attrs, slog.String(keyStack, string(pe.Stack)))
		}
		h.logger.LogAttrs(r.Context(), level, msg, attrs...)
	}
	reportError(h.onError, h.pages, r, id, ge)
}

// SetError records err as the cause of the error response being written to
// w, for every [Handler] that w comes from, and reports whether there was
// one: a replaced response's page follows err, and an aborted response
// logs and reports it. Without it, Handler uses a *gatewayerr.Error that
// cancelled the request's context, else the response's status and headers
// ([gatewayerr.ClassifyResponse]).
func SetError(w http.ResponseWriter, err error) bool {
	// The cause is kept with the ResponseWriter, not in the request's
	// context, which would cost every request an allocation.
	return respwriter.SetError(w, err)
}

// PanicError is a panic recovered by [Handler]. It reaches operators (logs
// and [Options.OnError]) as the Err of a *gatewayerr.Error of kind
// gatewayerr.ProxyInternalError; it never reaches a visitor.
type PanicError struct {
	// Value is the value the handler panicked with.
	Value any

	// Stack is the panicking goroutine's stack, from runtime/debug.Stack.
	Stack []byte
}

// Error returns "middleware: panic: " followed by the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("middleware: panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error, and nil otherwise.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
