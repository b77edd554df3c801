package middleware

import (
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync/atomic"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// tracker follows the phases of one attempt through httptrace. Trackers are
// pooled: the hooks are method values made once per tracker.
type tracker struct {
	phase   atomic.Uint32 // a gatewayerr.Phase
	wrote   atomic.Bool   // the request's headers were written (since the last GetConn)
	written atomic.Bool   // the whole request was written (since the last GetConn)
	hooks   httptrace.ClientTrace
	trace   httptrace.ClientTrace // hooks, copied for each request that carries it: WithClientTrace may change it

	// got1xxHook is got1xx, bound once; next1xx is the Got1xxResponse hook
	// it replaced in ReverseProxy's trace, if any (see hookInto).
	got1xxHook func(int, textproto.MIMEHeader) error
	next1xx    func(int, textproto.MIMEHeader) error

	// shared marks a tracker hooked into ReverseProxy's trace when other
	// attempts may follow and compose with it: it is never pooled, unless
	// its response, not dropped for a retry, is the one returned.
	shared, dropped bool
}

func (t *Transport) tracker() *tracker {
	tr, _ := t.trackers.Get().(*tracker)
	if tr == nil {
		tr = new(tracker)
		tr.hooks = httptrace.ClientTrace{
			GetConn:              tr.getConn,
			TLSHandshakeStart:    tr.tlsHandshakeStart,
			GotConn:              tr.gotConn,
			WroteHeaders:         tr.wroteHeaders,
			WroteRequest:         tr.wroteRequest,
			GotFirstResponseByte: tr.gotFirstResponseByte,
		}
		tr.got1xxHook = tr.got1xx
	}
	tr.next1xx = nil
	tr.phase.Store(uint32(gatewayerr.PhaseUnknown))
	tr.wrote.Store(false)
	tr.written.Store(false)
	tr.shared, tr.dropped = false, false
	return tr
}

// putTracker returns tr to the pool when no hook can fire on it any more:
// once the request was written in full. Otherwise it is left to the garbage
// collector.
func (t *Transport) putTracker(tr *tracker) {
	if tr.written.Load() && !tr.shared {
		t.trackers.Put(tr)
	}
}

// hookInto sets the tracker's hooks in ct and reports whether it could: only
// when ct has the shape of the trace that ReverseProxy.ServeHTTP makes for
// each outgoing request (Got1xxResponse alone), so that a trace shared
// between requests is never written to. With redact, ct's Got1xxResponse
// is wrapped by got1xx.
func (tr *tracker) hookInto(ct *httptrace.ClientTrace, redact bool) bool {
	if ct == nil || ct.Got1xxResponse == nil ||
		ct.GetConn != nil || ct.GotConn != nil || ct.PutIdleConn != nil || ct.GotFirstResponseByte != nil ||
		ct.Got100Continue != nil || ct.DNSStart != nil || ct.DNSDone != nil || ct.ConnectStart != nil ||
		ct.ConnectDone != nil || ct.TLSHandshakeStart != nil || ct.TLSHandshakeDone != nil ||
		ct.WroteHeaderField != nil || ct.WroteHeaders != nil || ct.Wait100Continue != nil || ct.WroteRequest != nil {
		return false
	}
	ct.GetConn = tr.hooks.GetConn
	ct.TLSHandshakeStart = tr.hooks.TLSHandshakeStart
	ct.GotConn = tr.hooks.GotConn
	ct.WroteHeaders = tr.hooks.WroteHeaders
	ct.WroteRequest = tr.hooks.WroteRequest
	ct.GotFirstResponseByte = tr.hooks.GotFirstResponseByte
	if redact {
		tr.next1xx = ct.Got1xxResponse
		ct.Got1xxResponse = tr.got1xxHook
	}
	return true
}

// got1xx redacts the Proxy-Status field of a 1xx response, as
// gatewayerr.RedactProxyStatusHeader does for a final one, before the hook it replaced
// (ReverseProxy's, which passes the 1xx on) sees it. When the tracker's
// trace is composed with ReverseProxy's instead, got1xx runs first.
func (tr *tracker) got1xx(code int, h textproto.MIMEHeader) error {
	if len(h["Proxy-Status"]) > 0 {
		gatewayerr.RedactProxyStatusHeader(http.Header(h))
	}
	if tr.next1xx != nil {
		return tr.next1xx(code, h)
	}
	return nil
}

func (tr *tracker) currentPhase() gatewayerr.Phase { return gatewayerr.Phase(tr.phase.Load()) }

func (tr *tracker) getConn(string) {
	tr.wrote.Store(false)
	tr.written.Store(false)
	tr.phase.Store(uint32(gatewayerr.PhaseDial))
}

// tlsHandshakeStart moves the phase from dial to TLS only: net/http may go
// on dialing for a request that was served by another connection, and call
// it once the tracker serves another request.
func (tr *tracker) tlsHandshakeStart() {
	tr.phase.CompareAndSwap(uint32(gatewayerr.PhaseDial), uint32(gatewayerr.PhaseTLS))
}

func (tr *tracker) gotConn(httptrace.GotConnInfo) {
	tr.phase.Store(uint32(gatewayerr.PhaseWriteRequest))
}

func (tr *tracker) wroteHeaders() { tr.wrote.Store(true) }

func (tr *tracker) wroteRequest(info httptrace.WroteRequestInfo) {
	// A request that could not be written in full failed while writing.
	// The response may already be in: never move the phase back.
	if info.Err == nil {
		tr.phase.CompareAndSwap(uint32(gatewayerr.PhaseWriteRequest), uint32(gatewayerr.PhaseAwaitHeaders))
	}
	tr.written.Store(true)
}

func (tr *tracker) gotFirstResponseByte() {
	tr.phase.Store(uint32(gatewayerr.PhaseReadHeaders))
}
