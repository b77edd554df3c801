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
	gLoop
	gConfig
	gDropped
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
	gInternal: "internal", gLoop: "loop", gConfig: "config", gDropped: "dropped", gMaintenance: "maintenance", gBadRequest: "badrequest", gAuth: "auth",
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
	case gatewayerr.ConnectionTerminated:
		return gDropped
	case gatewayerr.HTTPResponseIncomplete,
		gatewayerr.HTTPResponseHeaderSectionSize, gatewayerr.HTTPResponseHeaderSize,
		gatewayerr.HTTPResponseBodySize, gatewayerr.HTTPResponseTrailerSectionSize,
		gatewayerr.HTTPResponseTrailerSize, gatewayerr.HTTPResponseTransferCoding,
		gatewayerr.HTTPResponseContentCoding, gatewayerr.HTTPUpgradeFailed,
		gatewayerr.HTTPProtocolError:
		return gBroken
	case gatewayerr.ProxyInternalError:
		return gInternal
	case gatewayerr.ProxyLoopDetected:
		return gLoop
	case gatewayerr.DestinationNotFound, gatewayerr.DestinationIPProhibited,
		gatewayerr.ProxyConfigurationError:
		return gConfig
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

// gatewaySide reports whether the group is a failure the gateway decided
// itself, so that the strip marks the gateway and the service is not
// reached.
func (g group) gatewaySide() bool { return g == gInternal || g == gLoop || g == gConfig }

// waitOnly reports whether the group is a failure that nothing on the
// visitor's side fixes, reloading included: only the site's team can.
func (g group) waitOnly() bool { return g.gatewaySide() || g == gTLS }

// Hop states, as [Hop.State] and CSS classes name them.
const (
	HopOK          = "ok"          // the hop worked
	HopFailed      = "failed"      // the failure is here
	HopSkipped     = "skipped"     // not reached, or not known
	HopMaintenance = "maintenance" // down for planned maintenance: not a failure
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
	if g == gMaintenance {
		chain = nil // the gateway held the request back: no proxy saw it
	}
	failed := 1 // the gateway itself, for its own failures
	if !g.gatewaySide() {
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
		case i == failed && g == gMaintenance:
			hs[i].State = HopMaintenance
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
		case HopMaintenance:
			hs[i].StatusText = l.msg("hop.maintenance")
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

// actions returns what the visitor can do about a failure of group g: the
// advice that applies to it, then the brand's links. retryKnown reports
// whether the page tells when to try again (Data.Retry), which then
// replaces the advice to reload or wait "a little while", so that the page
// never gives two different times.
func actions(l *locale, b *BrandData, g group, status int, retryKnown bool) []Action {
	var as []Action
	add := func(key string) { as = append(as, Action{Text: l.msg(key)}) }
	switch {
	case g.waitOnly():
		add("do.nothing")
		if !retryKnown {
			add("do.comeback")
		}
	case g == gMaintenance || g == gRecovering:
		if !retryKnown {
			add("do.comeback")
		}
	case g == gOverloaded:
		if !retryKnown {
			add("do.wait")
		}
	case g == gRateLimited:
		if !retryKnown {
			add("do.wait")
		}
		add("do.vpn")
	case g == gAuth:
	case g == gDenied:
		add("do.check")
		add("do.vpn")
	case g == gBadRequest || g == gClient:
		add("do.check")
		add("do.connection")
	case g.clientSide():
		add("do.check")
	default:
		if !retryKnown {
			add("do.reload")
		}
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

// operatorHint returns, for the debug section, what an operator should
// check for a failure of kind k in group g. It is English, as the rest of
// the debug section.
func operatorHint(k gatewayerr.Kind, g group) string {
	switch k {
	case gatewayerr.DNSTimeout, gatewayerr.DNSError:
		return "Check that the upstream's host name resolves (its DNS records, the gateway's resolver and its reachability)."
	case gatewayerr.DestinationNotFound:
		return "Check the gateway's route for this request: it names no upstream, or one that does not exist."
	case gatewayerr.DestinationIPProhibited:
		return "The upstream's address is one the gateway is configured not to reach: check the upstream address and the gateway's allowed destinations."
	case gatewayerr.DestinationIPUnroutable:
		return "Check the network path from the gateway to the upstream's address: routes, firewalls, the address itself."
	case gatewayerr.ConnectionRefused:
		return "Check that the upstream is running and listening on the address and port the gateway dials (its process, its container, a deploy in progress)."
	case gatewayerr.ConnectionTerminated:
		return "Check the upstream's logs for crashes or restarts, and keep-alive timeouts: an upstream that closes idle connections sooner than the gateway resets reused ones."
	case gatewayerr.ConnectionTimeout:
		return "Check that the upstream's host is up and that a firewall does not drop the gateway's connections; check the dial timeout."
	case gatewayerr.ConnectionReadTimeout, gatewayerr.ConnectionWriteTimeout, gatewayerr.HTTPResponseTimeout:
		if g == gDepTimeout {
			return "The upstream answered with a timeout of its own: check its logs and the systems it depends on."
		}
		return "Check the upstream's load and its logs for slow requests, and compare the gateway's timeouts with the upstream's response times."
	case gatewayerr.ConnectionLimitReached:
		return "Check the upstream's capacity and the gateway's connection limits."
	case gatewayerr.TLSProtocolError:
		return "Check the TLS versions, cipher suites and ALPN protocols that the gateway and the upstream allow, and that the upstream speaks TLS on that port."
	case gatewayerr.TLSCertificateError:
		return "Check the upstream's certificate: its expiry, the host names it covers (the one the gateway dials), its chain, and the CAs the gateway trusts."
	case gatewayerr.TLSAlertReceived:
		return "The upstream refused the TLS handshake with an alert: check its TLS configuration, and any client certificate it requires."
	case gatewayerr.ProxyInternalError:
		return "Read the gateway's log for this request ID: a panic is logged with its stack."
	case gatewayerr.ProxyConfigurationError:
		return "Check the gateway's configuration for this route: the upstream's URL, scheme and transport settings."
	case gatewayerr.ProxyLoopDetected:
		return "The request came back to this gateway: check that the upstream's address does not lead back to the gateway (its own port, a DNS name or load balancer pointing at it)."
	case gatewayerr.DestinationUnavailable:
		switch g {
		case gMaintenance:
			return "Maintenance mode is on: requests from allowed addresses pass, others get this page until it ends or is switched off."
		case gRecovering:
			return "The circuit breaker is open after repeated failures of this upstream; it lets a probe through at the time stated. Check the upstream's health."
		}
		return "The upstream answered 503: check its logs, its health and its capacity."
	}
	switch g {
	case gBroken:
		return "Check the upstream's response: its status line and headers, their sizes against the gateway's limits, its transfer and content codings, its protocol."
	case gDepFailure, gDepTimeout, gUnavailable, gUpstream:
		return "The upstream answered with this error status: check its logs and the systems it depends on."
	}
	return ""
}
