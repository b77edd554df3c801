package middleware

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Options configures [Handler] and the other constructors of this package.
// The zero Options is ready to use and production-safe: the embedded
// default pages, nothing internal shown to visitors, nothing logged.
//
// An Options is read when a constructor is called; changing it afterwards
// has no effect on what was built.
type Options struct {
	// Pages renders the error pages.
	// If nil, the embedded default pages (errorpage.Default()) are used.
	Pages *errorpage.Pages

	// Transport is the upstream transport for NewReverseProxy, wrapped in a
	// Transport.
	// If nil, http.DefaultTransport is used.
	Transport http.RoundTripper

	// Logger receives a record for every failure handled: a recovered panic
	// with its stack, an aborted response with its cause.
	// If nil, nothing is logged.
	Logger *slog.Logger

	// OnError, if not nil, is called for every failure handled: with an
	// error of kind gatewayerr.ProxyInternalError wrapping a [*PanicError]
	// for a recovered panic, and with the recorded cause (see [SetError]) of
	// a response aborted with http.ErrAbortHandler. It runs on the request's
	// goroutine before the page is written; it must not write to the
	// response. Intercepted error responses are not reported: the handler
	// that wrote them knows.
	OnError func(r *http.Request, err *gatewayerr.Error)

	// Intercept lists the statuses whose responses [Handler] replaces with
	// the branded page, like nginx's proxy_intercept_errors. Only 4xx and
	// 5xx statuses are considered; others are ignored.
	// If nil, 502, 503 and 504 are intercepted. An empty, non-nil slice
	// intercepts nothing.
	Intercept []int

	// InterceptPolicy decides which intercepted responses are replaced.
	// The zero value, [InterceptAlways], replaces them all.
	InterceptPolicy InterceptPolicy
}

// pages returns the Pages to render with.
func (o *Options) pages() *errorpage.Pages {
	if o.Pages != nil {
		return o.Pages
	}
	return errorpage.Default()
}

// intercepted returns the set of statuses to intercept.
func (o *Options) intercepted() respwriter.Statuses {
	var s respwriter.Statuses
	codes := o.Intercept
	if codes == nil {
		codes = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	}
	for _, c := range codes {
		if c >= 400 && c <= 599 {
			s.Add(c)
		}
	}
	return s
}

// InterceptPolicy decides which of the intercepted responses (see
// [Options.Intercept]) [Handler] replaces with the branded page.
type InterceptPolicy uint8

const (
	// InterceptAlways replaces every intercepted response, so that no
	// upstream's or application's error body ever reaches a visitor.
	InterceptAlways InterceptPolicy = iota

	// InterceptUnlessHTML replaces an intercepted response only when its
	// body is empty or is not HTML (by its Content-Type, or by sniffing
	// the body when it has none), so that an application's own designed
	// error page survives while stack traces in text/plain and JSON errors
	// are replaced. The decision waits for the first non-empty write or a
	// flush, only for an intercepted status.
	InterceptUnlessHTML
)

// String returns "always" or "unless-html".
func (p InterceptPolicy) String() string {
	switch p {
	case InterceptAlways:
		return "always"
	case InterceptUnlessHTML:
		return "unless-html"
	}
	return "InterceptPolicy(" + strconv.Itoa(int(p)) + ")"
}
