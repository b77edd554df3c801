package middleware

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Options configures [Handler], [ErrorHandler] and [NewReverseProxy]. The
// zero Options is ready to use: the embedded pages, nothing internal shown
// to visitors, nothing logged, bare 502, 503 and 504 responses intercepted,
// no retries and no circuit breakers. A constructor reads its Options once.
type Options struct {
	Pages     *errorpage.Pages  // renders the pages; nil: errorpage.Default()
	Transport http.RoundTripper // NewReverseProxy's [Transport.Base]; nil: a transport made for a gateway (see [NewGatewayTransport])
	Logger    *slog.Logger      // receives a record for every failure reported to OnError; nil: no logs
	// OnError, if not nil, is called once for every failure handled
	// (Handler's recovered panics and aborted responses; NewReverseProxy's
	// own failures, replaced responses and streaming failures;
	// ErrorHandler's errors), gone clients included, before any page is
	// written. It must not block or write to the response.
	OnError func(r *http.Request, err *gatewayerr.Error)
	// OnReplace, if not nil, is called under OnError's rules for every
	// error response Handler or NewReverseProxy replaces (NewReverseProxy
	// reports it to OnError too), with the replaced status as ReceivedStatus.
	OnReplace func(r *http.Request, err *gatewayerr.Error)
	// Intercept lists the statuses (4xx and 5xx; others are ignored) whose
	// responses Handler and NewReverseProxy replace with the page, as
	// Replace decides. A replaced response keeps its status.
	// If nil, 502, 503 and 504. An empty, non-nil slice intercepts nothing.
	Intercept []int
	// Replace decides by their bodies which intercepted responses are
	// replaced; the zero value is [ReplaceBare].
	Replace ReplacePolicy
	// The settings of NewReverseProxy's [Transport], each its field of
	// the same name, and zero by default.
	Retry                   *RetryPolicy   // nil: no retries
	Breaker                 *BreakerPolicy // nil: no circuit breakers
	MaxResponseBodyBytes    int64          // zero: no limit
	ResponseBodyReadTimeout time.Duration  // zero: no limit
	Upstreams               []string       // empty: the target's host alone
	UpstreamWeights         map[string]int // a host missing: weight 1
	HealthCheck             *HealthCheck   // nil: hosts ejected by breakers and Outlier alone
	Outlier                 *OutlierPolicy // nil: with several Upstreams, the zero OutlierPolicy's
	OnAttempt               func(Attempt)  // nil: not called
	// OnStateChange, if not nil, is NewReverseProxy's
	// [Transport.OnStateChange]; the target's breaker, or with Upstreams
	// each listed host's, is reported closed when the proxy is built.
	OnStateChange func(upstream string, from, to BreakerState)
	// ProxyName names this gateway in the Proxy-Status members it adds and
	// in Via, each character a token cannot hold replaced by '-'. It must be
	// unique among the gateways a request may cross.
	// If empty, "gatehouse" in Proxy-Status, and "gatehouse-" with 8 random
	// hexadecimal digits, drawn per NewReverseProxy, in Via.
	ProxyName string
	// ProxyStatusDetails reports whether a request's Proxy-Status may
	// carry details (next-hop and details in the gateway's member, the
	// upstream's members unredacted). If nil, [errorpage.Pages.Debug]
	// decides, as for the page: by default no request.
	ProxyStatusDetails func(*http.Request) bool
	// Maintenance, if not nil and on, answers the requests it does not let
	// through with the 503 maintenance page, unlogged and unreported.
	Maintenance *Maintenance
	// ProxyStatusTrailer makes NewReverseProxy end a streamed response
	// whose upstream fails midway with a Proxy-Status trailer; if false,
	// such a response is aborted.
	ProxyStatusTrailer bool
}

// pages returns the Pages to render with.
func (o *Options) pages() *errorpage.Pages {
	if o.Pages != nil {
		return o.Pages
	}
	return errorpage.Default()
}

// details returns the one decision whether a request may see details, in
// the Proxy-Status field as on the page: ProxyStatusDetails, else the
// pages' own (errorpage.Config.Debug).
func (o *Options) details(pages *errorpage.Pages) func(*http.Request) bool {
	if o.ProxyStatusDetails != nil {
		return o.ProxyStatusDetails
	}
	return pages.Debug
}

// intercepted returns the set of statuses to intercept.
func (o *Options) intercepted() respwriter.Statuses {
	var s respwriter.Statuses
	for c := 400; c <= 599; c++ {
		if o.Intercept == nil && gatewayerr.IsGatewayStatus(c) || slices.Contains(o.Intercept, c) {
			s.Add(c)
		}
	}
	return s
}

// ReplacePolicy decides by their bodies which responses whose status is in
// [Options.Intercept] are replaced with the page. A body is judged by its
// Content-Type, else by the type sniffed from its first bytes (waiting at
// most a second), as meant for people (HTML), programs (JSON or XML,
// +json and +xml types included) or no one in particular (anything else).
// Every policy but ReplaceNever replaces an empty body; for HEAD the
// Content-Type alone decides.
type ReplacePolicy uint8

const (
	ReplaceBare             ReplacePolicy = iota // lets HTML and structured data through
	ReplaceUnlessHTML                            // lets only HTML through
	ReplaceUnlessStructured                      // lets only structured data through
	ReplaceAlways                                // replaces every intercepted response
	ReplaceNever                                 // replaces none; only failures get pages
)

// String returns "bare", "unless-html", "unless-structured", "always" or
// "never".
func (p ReplacePolicy) String() string {
	switch p {
	case ReplaceBare:
		return "bare"
	case ReplaceUnlessHTML:
		return "unless-html"
	case ReplaceUnlessStructured:
		return "unless-structured"
	case ReplaceAlways:
		return "always"
	case ReplaceNever:
		return "never"
	}
	return "ReplacePolicy(" + strconv.Itoa(int(p)) + ")"
}

// keeps reports whether p lets through an intercepted response whose body is
// not empty and is meant for a. A value out of range replaces everything.
func (p ReplacePolicy) keeps(a respwriter.Audience) bool {
	switch p {
	case ReplaceBare:
		return a != respwriter.ForNoOne
	case ReplaceUnlessHTML:
		return a == respwriter.ForPeople
	case ReplaceUnlessStructured:
		return a == respwriter.ForPrograms
	case ReplaceNever:
		return true
	}
	return false
}
