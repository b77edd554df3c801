package errorpage

import (
	"net/http"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// A group is a family of failures that share their copy: the message keys
// "title.<group>" and "detail.<group>".
type group uint8

const (
	gUpstream group = iota
	gRefused
	gTimeout
	gDepTimeout
	gDepFailure
	gUnavailable
	gRecovering
	gOverloaded
	gBroken
	gUnreachable
	gTLS
	gInternal
	gMaintenance
	gBadRequest
	gAuth
	gDenied
	gNotFound
	gRateLimited
	gClient
)

var groupNames = [...]string{
	gUpstream: "upstream", gRefused: "refused", gTimeout: "timeout", gDepTimeout: "deptimeout",
	gDepFailure: "depfailure", gUnavailable: "unavailable", gRecovering: "recovering", gOverloaded: "overloaded", gBroken: "broken", gUnreachable: "unreachable", gTLS: "tls",
	gInternal: "internal", gMaintenance: "maintenance", gBadRequest: "badrequest", gAuth: "auth",
	gDenied: "denied", gNotFound: "notfound", gRateLimited: "ratelimited", gClient: "client",
}

// groupOfKind returns the copy for a failure of kind k served with status,
// where received is the status of the upstream's own response (0 when it
// did not answer). An upstream that answered with an error speaks for
// itself and what lies behind it, so its 503 and 504 read differently from
// the gateway's own findings: its 503 says it is unavailable, where the
// gateway's destination_unavailable (an open circuit) is the gateway
// holding requests back; its 504 and 502 say that something it depends on
// timed out or failed, where the gateway's timeouts are its own waiting.
func groupOfKind(k gatewayerr.Kind, received, status int) group {
	switch k {
	case gatewayerr.DNSTimeout, gatewayerr.DNSError, gatewayerr.DestinationIPUnroutable:
		return gUnreachable
	case gatewayerr.DestinationUnavailable:
		if received != 0 {
			return gUnavailable
		}
		return gRecovering
	case gatewayerr.ConnectionRefused:
		return gRefused
	case gatewayerr.ConnectionTimeout, gatewayerr.ConnectionReadTimeout,
		gatewayerr.ConnectionWriteTimeout, gatewayerr.HTTPResponseTimeout:
		if received != 0 {
			return gDepTimeout
		}
		return gTimeout
	case gatewayerr.ConnectionLimitReached:
		return gOverloaded
	case gatewayerr.TLSProtocolError, gatewayerr.TLSCertificateError, gatewayerr.TLSAlertReceived:
		return gTLS
	case gatewayerr.HTTPRequestError:
		return gBadRequest
	case gatewayerr.HTTPRequestDenied:
		return gDenied
	case gatewayerr.ConnectionTerminated, gatewayerr.HTTPResponseIncomplete,
		gatewayerr.HTTPResponseHeaderSectionSize, gatewayerr.HTTPResponseHeaderSize,
		gatewayerr.HTTPResponseBodySize, gatewayerr.HTTPResponseTrailerSectionSize,
		gatewayerr.HTTPResponseTrailerSize, gatewayerr.HTTPResponseTransferCoding,
		gatewayerr.HTTPResponseContentCoding, gatewayerr.HTTPUpgradeFailed,
		gatewayerr.HTTPProtocolError:
		return gBroken
	case gatewayerr.DestinationNotFound, gatewayerr.DestinationIPProhibited,
		gatewayerr.ProxyInternalError, gatewayerr.ProxyConfigurationError,
		gatewayerr.ProxyLoopDetected:
		return gInternal
	}
	// Unknown (an upstream's own error response, say) and
	// proxy_internal_response: the upstream's status, else the page's,
	// says the most.
	switch received {
	case http.StatusServiceUnavailable:
		return gUnavailable
	case http.StatusGatewayTimeout:
		return gDepTimeout
	case http.StatusBadGateway:
		return gDepFailure
	}
	switch status {
	case http.StatusServiceUnavailable:
		return gUnavailable
	case http.StatusGatewayTimeout:
		return gTimeout
	case http.StatusBadGateway:
		return gUpstream
	}
	if k == gatewayerr.Unknown && status >= 500 {
		return gUpstream
	}
	return groupOfStatus(status)
}

// groupOfStatus returns the copy for a page served by status alone.
func groupOfStatus(status int) group {
	switch status {
	case http.StatusBadRequest:
		return gBadRequest
	case http.StatusUnauthorized:
		return gAuth
	case http.StatusForbidden:
		return gDenied
	case http.StatusNotFound, http.StatusGone:
		return gNotFound
	case http.StatusTooManyRequests:
		return gRateLimited
	case http.StatusBadGateway:
		return gUpstream
	case http.StatusServiceUnavailable:
		return gMaintenance
	case http.StatusGatewayTimeout:
		return gTimeout
	}
	if status >= 500 {
		return gInternal
	}
	return gClient
}

// clientSide reports whether the group is the visitor's request at fault,
// so that there is no "where it failed" strip.
func (g group) clientSide() bool { return g >= gBadRequest }

// Hop states, as [Hop.State] and CSS classes name them.
const (
	HopOK      = "ok"      // the hop worked
	HopFailed  = "failed"  // the failure is here
	HopSkipped = "skipped" // not reached, or not known
)

// maxChainHops bounds the proxies of an upstream's Proxy-Status chain that
// the strip shows.
const maxChainHops = 6

// hops returns the "where it failed" strip for a failure of group g with
// the upstream's Proxy-Status chain (closest to the origin first); nil for
// a failure on the visitor's side.
func hops(l *locale, g group, chain []gatewayerr.ProxyStatus, debug bool) []Hop {
	if g.clientSide() {
		return nil
	}
	if len(chain) > maxChainHops {
		chain = chain[len(chain)-maxChainHops:] // keep those nearest the gateway
	}
	hs := make([]Hop, 0, 3+len(chain))
	hs = append(hs, Hop{Label: l.msg("hop.browser"), State: HopOK})
	hs = append(hs, Hop{Label: l.msg("hop.gateway"), State: HopOK})
	// The chain, from the proxy nearest the gateway to the one nearest the
	// origin, then the service itself.
	for i := len(chain) - 1; i >= 0; i-- {
		h := Hop{Label: l.msg("hop.proxy"), State: HopOK}
		if debug {
			h.Name = clean(chain[i].Proxy, 100)
		}
		hs = append(hs, h)
	}
	hs = append(hs, Hop{Label: l.msg("hop.upstream"), State: HopOK})
	failed := 1 // the gateway itself, for its own failures
	if g != gInternal {
		failed = len(hs) - 1 // the service, unless a proxy says otherwise
		for i := len(chain) - 1; i >= 0; i-- {
			if chain[i].Error == "" {
				continue
			}
			at := 2 + (len(chain) - 1 - i) // this proxy's hop
			if !proxyOwnFault(chain[i].Kind) {
				at++ // its next hop
			}
			failed = at
			break
		}
	}
	for i := range hs {
		switch {
		case i == failed:
			hs[i].State = HopFailed
		case i > failed:
			hs[i].State = HopSkipped
		}
		switch hs[i].State {
		case HopOK:
			hs[i].StatusText = l.msg("hop.ok")
		case HopFailed:
			hs[i].StatusText = l.msg("hop.error")
		default:
			hs[i].StatusText = l.msg("hop.skipped")
		}
	}
	return hs
}

// proxyOwnFault reports whether a Proxy-Status error of kind k is the
// reporting proxy's own failure rather than its next hop's.
func proxyOwnFault(k gatewayerr.Kind) bool {
	switch k {
	case gatewayerr.ProxyInternalError, gatewayerr.ProxyConfigurationError,
		gatewayerr.ProxyLoopDetected, gatewayerr.DestinationNotFound,
		gatewayerr.DestinationIPProhibited, gatewayerr.HTTPRequestDenied,
		gatewayerr.HTTPRequestError, gatewayerr.ProxyInternalResponse:
		return true
	}
	return false
}

// actions returns what the visitor can do about a failure of group g.
func actions(l *locale, b *BrandData, g group, status int) []Action {
	var as []Action
	switch {
	case g == gMaintenance || g == gRateLimited || g == gOverloaded:
		as = append(as, Action{Text: l.msg("do.wait")})
	case g == gAuth:
	case g.clientSide():
		as = append(as, Action{Text: l.msg("do.check")})
	default:
		as = append(as, Action{Text: l.msg("do.reload")})
	}
	if b.StatusURL != "" && status >= 500 {
		as = append(as, Action{Text: l.msg("do.status"), URL: b.StatusURL})
	}
	if b.SupportURL != "" {
		as = append(as, Action{Text: l.msg("do.support"), URL: b.SupportURL})
	}
	if b.HomeURL != "" {
		as = append(as, Action{Text: l.msg("do.home"), URL: b.HomeURL})
	}
	return as
}
