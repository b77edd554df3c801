package middleware

import (
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/internal/respwriter"
)

// Maintenance is a switch for planned downtime ([Options.Maintenance]):
// while it is on, [Handler] and [NewReverseProxy] answer every request it
// does not let through with the 503 maintenance page. Its zero value is off;
// it is safe for concurrent use and must not be copied after first use.
type Maintenance struct {
	// Allow lists the client addresses (the host of RemoteAddr, never
	// X-Forwarded-For) that pass while maintenance is on. Set it before
	// first use.
	// If empty, no request passes by its address.
	Allow []netip.Prefix

	// AllowRequest, if not nil, lets through the requests it reports true
	// for, such as those with the team's cookie. It is called while
	// maintenance is on, for requests not in Allow, and must be fast.
	// Set it before first use.
	AllowRequest func(*http.Request) bool

	w atomic.Pointer[window] // nil: off
}

// Allow is read against RemoteAddr's host, an IPv4-mapped IPv6 address as
// its IPv4 address; X-Forwarded-For is never consulted, since a client can
// forge it. An AllowRequest that checks a secret should compare it with
// crypto/subtle.ConstantTimeCompare. On, Off and Schedule may be called from
// any goroutine while requests are served and apply to the requests that
// arrive after them.

// A window is a period of maintenance: from its start (zero: already
// started) to its end (zero: until Off).
type window struct{ from, until time.Time }

// On turns maintenance on now until until, which pages tell visitors
// (Retry-After); a zero until is unknown: on until Off. An until in the past
// turns it off.
func (m *Maintenance) On(until time.Time) {
	if !until.IsZero() && !until.After(time.Now()) {
		m.Off()
		return
	}
	m.w.Store(&window{until: until})
}

// Off turns maintenance off now, and cancels a window set with Schedule.
func (m *Maintenance) Off() { m.w.Store(nil) }

// Schedule replaces any window with one from from (zero: now) until until
// (zero: unknown, as for On); a window that has ended turns maintenance off.
func (m *Maintenance) Schedule(from, until time.Time) {
	if !until.IsZero() && (!until.After(from) || !until.After(time.Now())) {
		m.Off()
		return
	}
	m.w.Store(&window{from: from, until: until})
}

// Active reports whether maintenance is on at the moment now, and the end
// it was given (zero when unknown). A nil Maintenance is never on.
func (m *Maintenance) Active(now time.Time) (on bool, until time.Time) {
	if m == nil {
		return false, time.Time{}
	}
	w := m.w.Load()
	if w == nil || (!w.from.IsZero() && now.Before(w.from)) || (!w.until.IsZero() && !now.Before(w.until)) {
		return false, time.Time{}
	}
	return true, w.until
}

// allowed reports whether r comes from an address in Allow, or
// AllowRequest lets it through.
func (m *Maintenance) allowed(r *http.Request) bool {
	return m.allowedAddr(r) || (m.AllowRequest != nil && m.AllowRequest(r))
}

// allowedAddr reports whether r comes from an address in Allow.
func (m *Maintenance) allowedAddr(r *http.Request) bool {
	if len(m.Allow) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	var a netip.Addr
	if err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(r.RemoteAddr); err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range m.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// blocks reports whether r is to get the maintenance page, and the
// maintenance's end (zero when unknown).
func (m *Maintenance) blocks(r *http.Request) (bool, time.Time) {
	on, until := m.Active(time.Now())
	if !on || m.allowed(r) {
		return false, time.Time{}
	}
	return true, until
}

// Private implementation past this point.

// maintenancePage serves the maintenance page: what Handler and
// NewReverseProxy share.
type maintenancePage struct {
	m       *Maintenance
	pages   *errorpage.Pages
	member  []string // "name;error=destination_unavailable", shared: never modified
	detail  []string // the same with details="maintenance", shared: never modified
	details func(*http.Request) bool
}

func newMaintenancePage(opts *Options, name string) *maintenancePage {
	if opts.Maintenance == nil {
		return nil
	}
	ps := gatewayerr.ProxyStatus{Proxy: name, Kind: gatewayerr.DestinationUnavailable, Error: gatewayerr.DestinationUnavailable.String()}
	mp := &maintenancePage{m: opts.Maintenance, pages: opts.pages(), details: opts.details(opts.pages())}
	mp.member = []string{ps.String()}
	ps.Details = "maintenance"
	mp.detail = []string{ps.String()}
	return mp
}

// serve answers r with the maintenance page if maintenance is on and r is
// not allowed through, and reports whether it did.
func (mp *maintenancePage) serve(w http.ResponseWriter, r *http.Request) bool {
	if mp == nil {
		return false
	}
	block, until := mp.m.blocks(r)
	if block {
		mp.serveHeld(w, r, until)
	}
	return block
}

// serveHeld writes the maintenance page for a request held back by a
// maintenance that ends at until (zero: unknown). Pages set Retry-After
// from the error's RetryAfter.
func (mp *maintenancePage) serveHeld(w http.ResponseWriter, r *http.Request, until time.Time) {
	e := &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: errorpage.ErrMaintenance}
	if !until.IsZero() {
		e.RetryAfter = max(time.Until(until), time.Second)
	}
	h := w.Header()
	if mp.details(r) {
		h["Proxy-Status"] = append(h["Proxy-Status"], mp.detail...)
	} else {
		h["Proxy-Status"] = append(h["Proxy-Status"], mp.member...)
	}
	mp.pages.SetRequestID(w, r)
	respwriter.PassNext(w) // an enclosing Handler lets the page through
	mp.pages.ServeError(w, r, e)
}

// maintenanceTransport answers, in NewReverseProxy, the requests that
// maintenance holds back, without calling next; ReverseProxy hands the
// error to the proxy's ErrorHandler, which serves the page.
type maintenanceTransport struct {
	m    *Maintenance
	next http.RoundTripper
}

// heldBack is what maintenanceTransport returns for a request held back,
// with the maintenance's end; the proxy's ErrorHandler serves the
// maintenance page for it.
type heldBack struct{ until time.Time }

func (*heldBack) Error() string { return "middleware: held back by maintenance" }

func (t *maintenanceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if block, until := t.m.blocks(req); block {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &heldBack{until: until}
	}
	return t.next.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the transport
// underneath.
func (t *maintenanceTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// proxyStatusName returns the name of the gateway in its Proxy-Status
// members, as NewReverseProxy names it.
func proxyStatusName(name string) string {
	if name = viaPseudonym(name); name == "" {
		return defaultProxyName
	}
	return name
}
