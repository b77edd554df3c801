package middleware

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// NewReverseProxy returns an [httputil.ReverseProxy] to target with all of
// the package wired in:
//
//   - Rewrite sets the URL and X-Forwarded headers
//     ([httputil.ProxyRequest.SetURL], [httputil.ProxyRequest.SetXForwarded],
//     replacing the client's) and adds a Via entry naming the proxy; a
//     request whose Via already names it is answered proxy_loop_detected.
//   - Transport is a [Transport] over [Options.Transport] with the
//     options' policies and hooks ([ProxyTransport] returns it); behind
//     [Options.Maintenance], held requests never reach it.
//   - ErrorHandler is [ErrorHandler]'s.
//   - ModifyResponse replaces the upstream's error responses as
//     [Options.Intercept] and [Options.Replace] decide, and adds the
//     trailer; a ModifyResponse of your own should call it, not replace it.
//   - BufferPool recycles 32 KB copy buffers; ErrorLog goes to
//     Options.Logger at debug level, or nowhere.
//
// A response whose body fails after its headers were sent is aborted, or
// ended with a trailer ([Options.ProxyStatusTrailer]), and reported. Under
// the zero Options a long poll whose header takes over 60 s gets a 504. The
// returned ReverseProxy may be changed before use; its Transport redacts the
// upstream's Proxy-Status before ModifyResponse runs and belongs to it
// alone: wrap it rather than replace it.
func NewReverseProxy(target *url.URL, opts Options) *httputil.ReverseProxy {
	p := newProxy(&opts)
	p.target = target
	tr := &Transport{
		Base:                    opts.Transport,
		Retry:                   opts.Retry,
		Breaker:                 opts.Breaker,
		MaxResponseBodyBytes:    opts.MaxResponseBodyBytes,
		ResponseBodyReadTimeout: opts.ResponseBodyReadTimeout,
		Logger:                  opts.Logger,
		OnError:                 opts.OnError,
		OnAttempt:               opts.OnAttempt,
		OnStateChange:           opts.OnStateChange,
		Upstreams:               slices.Clone(opts.Upstreams),
		UpstreamWeights:         maps.Clone(opts.UpstreamWeights),
		HealthCheck:             opts.HealthCheck,
		Outlier:                 opts.Outlier,
		mode:                    &proxyMode{details: p.details, pages: p.pages},
	}
	if len(tr.Upstreams) > 0 {
		// The hosts' breakers exist from the start, and are reported
		// closed now rather than at the first request.
		tr.hostPool()
	} else if tr.Breaker != nil && target != nil && target.Host != "" {
		// The target's breaker exists from the start, and is reported
		// closed now rather than at the first request.
		tr.upstream(target.Host)
	}
	if target != nil {
		tr.health.scheme = target.Scheme
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			if viaNames(pr.In.Header["Via"], p.pseudonym) {
				pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), loopKey{}, true))
				return
			}
			p.addVia(pr.Out)
		},
		Transport:      tr,
		ErrorHandler:   p.serveError,
		ModifyResponse: p.modifyResponse,
		BufferPool:     new(bufferPool),
	}
	if p.maint != nil {
		// Held back before the Transport, so that no retry, breaker or
		// upstream sees the request.
		rp.Transport = &maintenanceTransport{m: opts.Maintenance, next: tr}
	}
	if opts.Logger != nil {
		rp.ErrorLog = slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)
	} else {
		rp.ErrorLog = log.New(io.Discard, "", 0)
	}
	return rp
}

// ErrorHandler returns a function for [httputil.ReverseProxy.ErrorHandler]
// that answers a failure with the branded page for its classification
// ([gatewayerr.Classify]) and a Proxy-Status member naming
// [Options.ProxyName], logs it and reports it to [Options.OnError], with
// the request ID the page quotes. An unidentified error is the gateway's
// own: proxy_internal_error (500). The page and the log describe the
// visitor's request, not the outgoing one. A client that went away gets no
// page.
func ErrorHandler(opts Options) func(http.ResponseWriter, *http.Request, error) {
	return newProxy(&opts).serveError
}

// Private implementation past this point.

// defaultProxyName is the name NewReverseProxy and ErrorHandler use in
// Proxy-Status when Options.ProxyName is empty; in Via, it is followed by
// '-' and 8 random hexadecimal digits, drawn for each proxy.
const defaultProxyName = "gatehouse"

// proxy holds what NewReverseProxy's and ErrorHandler's functions share,
// resolved from Options once.
type proxy struct {
	pages     *errorpage.Pages
	logger    *slog.Logger
	onError   func(*http.Request, *gatewayerr.Error)
	onReplace func(*http.Request, *gatewayerr.Error)
	name      string
	pseudonym string      // the Via received-by naming this proxy alone
	via       [4][]string // "1.0 name", "1.1 name", "2 name", "3 name", shared: never modified
	// members holds, by kind, the Proxy-Status field of a response with
	// only the proxy's own member, "name;error=kind", as a header value
	// shared by every response: it must never be modified in place
	// (net/http does not; appending to it copies it, its capacity being 1).
	members   [][]string
	details   func(*http.Request) bool
	target    *url.URL // NewReverseProxy's, whose base path SetURL puts in front of the visitor's
	trailer   bool
	intercept respwriter.Statuses
	replace   ReplacePolicy
	maint     *maintenancePage // nil without Options.Maintenance

	// recycle reports that no code but the proxy's own and the default
	// pages' can see the visitor's request that serveError makes: no
	// OnError, OnReplace or ProxyStatusDetails, and the default pages,
	// which have no hooks (errorpage.Config's Debug, RequestID and
	// OnServe). Only then does serveError recycle it, in visitors, once
	// the page is written: nothing can keep it past its request.
	recycle  bool
	visitors sync.Pool // *visitor
}

func newProxy(opts *Options) *proxy {
	name, pseudonym := viaPseudonym(opts.ProxyName), ""
	if name == "" {
		// Each proxy needs a name of its own in Via, or two gateways
		// built with the zero Options, one in front of the other, would
		// take each other for a loop.
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], rand.Uint32())
		name, pseudonym = defaultProxyName, defaultProxyName+"-"+hex.EncodeToString(b[:])
	} else {
		pseudonym = name
	}
	pages := opts.pages()
	p := &proxy{
		pages:     pages,
		details:   opts.details(pages),
		logger:    opts.Logger,
		onError:   opts.OnError,
		onReplace: opts.OnReplace,
		name:      name,
		trailer:   opts.ProxyStatusTrailer,
		intercept: opts.intercepted(),
		replace:   opts.Replace,
		recycle: opts.OnError == nil && opts.OnReplace == nil && opts.ProxyStatusDetails == nil &&
			pages == errorpage.Default(),
	}
	kinds := gatewayerr.Kinds()
	p.members = make([][]string, len(kinds))
	for _, k := range kinds {
		if k.Registered() {
			m := gatewayerr.ProxyStatus{Proxy: name, Kind: k, Error: k.String()}.String()
			p.members[k] = []string{m}
		}
	}
	p.pseudonym = pseudonym
	p.maint = newMaintenancePage(opts, name)
	for i, proto := range [...]string{"1.0", "1.1", "2", "3"} {
		p.via[i] = []string{proto + " " + p.pseudonym}
	}
	return p
}

// copyBufferSize is the size of the buffers of a bufferPool: that of the
// buffer ReverseProxy allocates for each response without a BufferPool.
const copyBufferSize = 32 << 10

// bufferPool is NewReverseProxy's httputil.BufferPool. It pools arrays, not
// slices, so that Put does not allocate.
type bufferPool struct{ pool sync.Pool } // *[copyBufferSize]byte

func (b *bufferPool) Get() []byte {
	if a, _ := b.pool.Get().(*[copyBufferSize]byte); a != nil {
		return a[:]
	}
	return new([copyBufferSize]byte)[:]
}

func (b *bufferPool) Put(buf []byte) {
	// Only a buffer of the size Get hands out goes back: a slice of another
	// length or capacity would give the next Get a short buffer, or one
	// whose array holds more than the buffer.
	if len(buf) != copyBufferSize || cap(buf) != copyBufferSize {
		return
	}
	b.pool.Put((*[copyBufferSize]byte)(buf))
}

// serveError is the ErrorHandler. ReverseProxy gives it the outgoing
// request, out.
func (p *proxy) serveError(w http.ResponseWriter, out *http.Request, err error) {
	vis := p.visitorRequest(out)
	r := &vis.r
	upstream := ""
	if out.URL != nil {
		upstream = out.URL.Host
	}
	// ReverseProxy passes on the errors of its Transport and ModifyResponse
	// as they are.
	var e *gatewayerr.Error
	elapsed := time.Duration(-1)
	replaced := false // an upstream response that modifyResponse replaces
	switch v := err.(type) {
	case *transportError:
		e, elapsed, replaced = v.e, v.elapsed, v.replaced
	case *untimedError:
		e = (*gatewayerr.Error)(v)
	case *interceptedError:
		p.serveIntercepted(w, r, upstream, v)
		return
	case *heldBack:
		if p.maint != nil {
			p.maint.serveHeld(w, r, v.until)
			return
		}
	case nil:
		e = &gatewayerr.Error{} // Reported makes it the gateway's own failure
	default:
		// ReverseProxy's own failures, such as http_upgrade_failed, and
		// the errors of another Transport.
		e = gatewayerr.Classify(err)
		if e.Upstream == "" && upstream != "" {
			c := *e
			c.Upstream = upstream
			e = &c
		}
	}
	e = e.Reported() // an unidentified cause is the gateway's own: 500
	if e.Kind != gatewayerr.ClientClosedRequest && clientGone(r.Context().Err()) {
		// Whatever failed, the client is gone: that is the story.
		c := *e
		c.Kind, c.Err = gatewayerr.ClientClosedRequest, err
		e = &c
	}
	gone := e.Kind == gatewayerr.ClientClosedRequest // no page, nor replacement
	id := ""
	if !gone && (p.onError != nil || p.logger != nil || replaced && p.onReplace != nil) {
		// Set before the page quotes it, so that the record and the hooks
		// quote the same; with neither, the page sets it, as it does
		// anyway.
		id = p.pages.SetRequestID(w, r)
	}
	reportError(p.onError, p.pages, r, id, e)
	if replaced && !gone {
		reportError(p.onReplace, p.pages, r, id, e)
	}
	if gone && p.logger != nil {
		// The record carries a request ID all the same; none is set on
		// a response that is never written.
		if id = p.pages.RequestID(r); id == "" {
			id = errorpage.NewRequestID()
		}
	}
	logFailureID(p.logger, r, id, e, elapsed)
	if gone {
		p.release(vis)
		return
	}
	p.appendProxyStatus(w.Header(), e, p.showDetails(r))
	respwriter.PassNext(w) // a Handler around the proxy lets the page through
	p.pages.ServeError(w, r, e)
	p.release(vis)
}

// visitor is the visitor's request that serveError makes, and its URL, in
// one allocation.
type visitor struct {
	r http.Request
	u url.URL
}

// visitorRequest returns a copy of out, the outgoing request that
// ReverseProxy hands its ErrorHandler, as the visitor sent it, for the page,
// the log and OnError, in a visitor recycled when the proxy recycles: with
// the Host the visitor asked for (the X-Forwarded-Host that SetXForwarded
// set, when there is one) and, in a NewReverseProxy, the path without the
// target's base path that SetURL put in front of it; its URL has no scheme
// or host, as a server's request.
func (p *proxy) visitorRequest(out *http.Request) *visitor {
	var v *visitor
	if p.recycle {
		v, _ = p.visitors.Get().(*visitor)
	}
	if v == nil {
		v = new(visitor)
	}
	r := &v.r
	*r = *out
	// The key is canonical: Get would only canonicalize it again.
	if h := out.Header["X-Forwarded-Host"]; len(h) > 0 && h[0] != "" {
		r.Host = h[0]
	}
	if out.URL == nil {
		return v
	}
	u := &v.u
	u.Path, u.RawPath, u.RawQuery = out.URL.Path, out.URL.RawPath, out.URL.RawQuery
	if p.target != nil {
		if base := strings.TrimSuffix(p.target.EscapedPath(), "/"); base != "" {
			if ep := out.URL.EscapedPath(); strings.HasPrefix(ep, base) && (len(ep) == len(base) || ep[len(base)] == '/') {
				if in, err := url.Parse("/" + strings.TrimPrefix(ep[len(base):], "/")); err == nil {
					u.Path, u.RawPath = in.Path, in.RawPath
				}
			}
		}
	}
	r.URL = u
	return v
}

// release recycles v, which serveError made and is done with, when the
// proxy recycles (see proxy.recycle): cleared, so that it holds on to
// nothing of its request.
func (p *proxy) release(v *visitor) {
	if p.recycle {
		*v = visitor{}
		p.visitors.Put(v)
	}
}

// showDetails reports whether the response to r may carry Proxy-Status
// details (see Options.ProxyStatusDetails).
func (p *proxy) showDetails(r *http.Request) bool {
	return r != nil && p.details(r)
}

// reportError passes e to onError, if not nil, with r carrying the request
// ID id, if not "", in the header pages read (see errorpage.Pages.RequestID),
// a copy of r being made when it does not (errorpage.Pages.WithRequestID).
func reportError(onError func(*http.Request, *gatewayerr.Error), pages *errorpage.Pages, r *http.Request, id string, e *gatewayerr.Error) {
	if onError == nil {
		return
	}
	if id != "" {
		r = pages.WithRequestID(r, id)
	}
	onError(r, e)
}

// appendProxyStatus appends to h the Proxy-Status members of e's chain,
// redacted unless details is true, then the proxy's own.
func (p *proxy) appendProxyStatus(h http.Header, e *gatewayerr.Error, details bool) {
	ps := e.ProxyStatus(p.name, details)
	if len(e.Chain) > 0 {
		members := make([]gatewayerr.ProxyStatus, 0, len(e.Chain)+1)
		for _, m := range e.Chain {
			if !details {
				m = m.Redacted()
			}
			members = append(members, m)
		}
		gatewayerr.AppendProxyStatus(h, append(members, ps)...)
		return
	}
	if len(h["Proxy-Status"]) == 0 && ps.Kind.Registered() && int(ps.Kind) < len(p.members) &&
		ps.Error == ps.Kind.String() && ps.ReceivedStatus == 0 && ps.NextHop == "" &&
		ps.NextProtocol == "" && ps.Details == "" && len(ps.Params) == 0 {
		// The common case, formatted once in newProxy.
		h["Proxy-Status"] = p.members[ps.Kind]
		return
	}
	gatewayerr.AppendProxyStatus(h, ps)
}
