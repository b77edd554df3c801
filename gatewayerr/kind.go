package gatewayerr

import (
	"fmt"
	"net/http"
	"strconv"
)

// A Kind is the type of a gateway failure: one of the error types of RFC
// 9209, Section 2.3, [Unknown] or [ClientClosedRequest]. A Kind is an error,
// so errors.Is(err, gatewayerr.ConnectionRefused) tests any chain holding an
// [*Error]. The zero Kind is Unknown.
type Kind uint8

// The kinds, in the order of RFC 9209, Section 2.3.
const (
	// Unknown is a failure whose cause could not be identified; not an RFC
	// 9209 type (see [Error.Reported]).
	Unknown Kind = iota

	DNSTimeout                     // dns_timeout: the upstream's name did not resolve in time.
	DNSError                       // dns_error: the upstream's name did not resolve.
	DestinationNotFound            // destination_not_found: the gateway cannot determine the upstream.
	DestinationUnavailable         // destination_unavailable: the upstream is considered down (for example, an open circuit).
	DestinationIPProhibited        // destination_ip_prohibited: the gateway is configured not to connect to the upstream's address.
	DestinationIPUnroutable        // destination_ip_unroutable: there is no route to the upstream's address.
	ConnectionRefused              // connection_refused: the upstream refused the connection.
	ConnectionTerminated           // connection_terminated: the connection closed or reset before a response arrived.
	ConnectionTimeout              // connection_timeout: the connection could not be opened in time.
	ConnectionReadTimeout          // connection_read_timeout: the upstream stopped sending.
	ConnectionWriteTimeout         // connection_write_timeout: the upstream stopped accepting data.
	ConnectionLimitReached         // connection_limit_reached: the gateway's connection limit to the upstream was reached.
	TLSProtocolError               // tls_protocol_error: the TLS handshake failed.
	TLSCertificateError            // tls_certificate_error: the upstream's certificate could not be verified.
	TLSAlertReceived               // tls_alert_received: the upstream sent a TLS alert.
	HTTPRequestError               // http_request_error: the client's request cannot be forwarded.
	HTTPRequestDenied              // http_request_denied: the gateway refused to forward the request.
	HTTPResponseIncomplete         // http_response_incomplete: the response ended before it was complete.
	HTTPResponseHeaderSectionSize  // http_response_header_section_size: the response's header section is too large.
	HTTPResponseHeaderSize         // http_response_header_size: one response header field is too large.
	HTTPResponseBodySize           // http_response_body_size: the response body is too large.
	HTTPResponseTrailerSectionSize // http_response_trailer_section_size: the response's trailer section is too large.
	HTTPResponseTrailerSize        // http_response_trailer_size: one response trailer field is too large.
	HTTPResponseTransferCoding     // http_response_transfer_coding: the response's transfer coding is broken.
	HTTPResponseContentCoding      // http_response_content_coding: the response's content coding is broken.
	HTTPResponseTimeout            // http_response_timeout: the upstream did not answer in time.
	HTTPUpgradeFailed              // http_upgrade_failed: a protocol upgrade (WebSocket) failed.
	HTTPProtocolError              // http_protocol_error: the upstream broke the HTTP protocol.
	ProxyInternalResponse          // proxy_internal_response: the gateway generated the response itself.
	ProxyInternalError             // proxy_internal_error: the gateway failed, not the upstream.
	ProxyConfigurationError        // proxy_configuration_error: the gateway is misconfigured.
	ProxyLoopDetected              // proxy_loop_detected: the request already passed through this gateway.

	// ClientClosedRequest is a client that went away before it was answered;
	// not an upstream failure nor an RFC 9209 type. No page is written for it.
	ClientClosedRequest

	numKinds // not a kind: the count of kinds
)

// StatusClientClosedRequest is [ClientClosedRequest]'s status, nginx's 499,
// for logs; it is never sent.
const StatusClientClosedRequest = 499

// String returns the kind's RFC 9209 token, such as "connection_refused";
// "unknown", "client_closed_request", or "Kind(N)" for a value that is not a
// kind.
func (k Kind) String() string {
	if k >= numKinds {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindInfo[k].token
}

// Format prints a Kind as its token for %v and %s, and as a number for the
// integer verbs.
func (k Kind) Format(f fmt.State, verb rune) {
	// Kind is also an error: without Format, fmt would print Error's
	// "gatewayerr: " message for %v and %s.
	switch verb {
	case 'd', 'x', 'X', 'o', 'b', 'c', 'U':
		fmt.Fprintf(f, fmt.FormatString(f, verb), uint8(k))
	default:
		fmt.Fprintf(f, fmt.FormatString(f, verb), k.String())
	}
}

// Error returns "gatewayerr: " and the kind's token.
func (k Kind) Error() string { return "gatewayerr: " + k.String() }

// StatusCode returns the HTTP status that RFC 9209 recommends for the kind,
// 500 for [ProxyInternalResponse], 502 for [Unknown], 499 for
// [ClientClosedRequest], and 502 for a value that is not a kind.
func (k Kind) StatusCode() int {
	// RFC 9209 recommends no status for proxy_internal_response (the
	// intermediary answered on its own); a page reporting it is the
	// gateway's own failure, hence kindInfo's 500.
	if k >= numKinds {
		return http.StatusBadGateway
	}
	return kindInfo[k].status
}

// IsGatewayStatus reports whether code is a gateway failure status: 502, 503
// or 504.
func IsGatewayStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// Timeout reports whether the kind is a timeout: dns_timeout,
// connection_timeout, connection_read_timeout, connection_write_timeout or
// http_response_timeout.
func (k Kind) Timeout() bool {
	switch k {
	case DNSTimeout, ConnectionTimeout, ConnectionReadTimeout, ConnectionWriteTimeout, HTTPResponseTimeout:
		return true
	}
	return false
}

// Registered reports whether the kind is an RFC 9209 error type: neither
// [Unknown], nor [ClientClosedRequest], nor a value that is not a kind.
func (k Kind) Registered() bool {
	return k > Unknown && k < ClientClosedRequest
}

// ParseKind returns the kind whose token is s, "unknown" and
// "client_closed_request" included, and false for any other s.
func ParseKind(s string) (Kind, bool) {
	for k := Kind(0); k < numKinds; k++ {
		if kindInfo[k].token == s {
			return k, true
		}
	}
	return Unknown, false
}

// Kinds returns every kind, [Unknown] first and [ClientClosedRequest] last,
// in a new slice.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// kindInfo holds what the package knows of each kind.
var kindInfo = [numKinds]struct {
	token  string
	status int
}{
	Unknown:                        {"unknown", http.StatusBadGateway},
	DNSTimeout:                     {"dns_timeout", http.StatusGatewayTimeout},
	DNSError:                       {"dns_error", http.StatusBadGateway},
	DestinationNotFound:            {"destination_not_found", http.StatusInternalServerError},
	DestinationUnavailable:         {"destination_unavailable", http.StatusServiceUnavailable},
	DestinationIPProhibited:        {"destination_ip_prohibited", http.StatusBadGateway},
	DestinationIPUnroutable:        {"destination_ip_unroutable", http.StatusBadGateway},
	ConnectionRefused:              {"connection_refused", http.StatusBadGateway},
	ConnectionTerminated:           {"connection_terminated", http.StatusBadGateway},
	ConnectionTimeout:              {"connection_timeout", http.StatusGatewayTimeout},
	ConnectionReadTimeout:          {"connection_read_timeout", http.StatusGatewayTimeout},
	ConnectionWriteTimeout:         {"connection_write_timeout", http.StatusGatewayTimeout},
	ConnectionLimitReached:         {"connection_limit_reached", http.StatusServiceUnavailable},
	TLSProtocolError:               {"tls_protocol_error", http.StatusBadGateway},
	TLSCertificateError:            {"tls_certificate_error", http.StatusBadGateway},
	TLSAlertReceived:               {"tls_alert_received", http.StatusBadGateway},
	HTTPRequestError:               {"http_request_error", http.StatusBadRequest},
	HTTPRequestDenied:              {"http_request_denied", http.StatusForbidden},
	HTTPResponseIncomplete:         {"http_response_incomplete", http.StatusBadGateway},
	HTTPResponseHeaderSectionSize:  {"http_response_header_section_size", http.StatusBadGateway},
	HTTPResponseHeaderSize:         {"http_response_header_size", http.StatusBadGateway},
	HTTPResponseBodySize:           {"http_response_body_size", http.StatusBadGateway},
	HTTPResponseTrailerSectionSize: {"http_response_trailer_section_size", http.StatusBadGateway},
	HTTPResponseTrailerSize:        {"http_response_trailer_size", http.StatusBadGateway},
	HTTPResponseTransferCoding:     {"http_response_transfer_coding", http.StatusBadGateway},
	HTTPResponseContentCoding:      {"http_response_content_coding", http.StatusBadGateway},
	HTTPResponseTimeout:            {"http_response_timeout", http.StatusGatewayTimeout},
	HTTPUpgradeFailed:              {"http_upgrade_failed", http.StatusBadGateway},
	HTTPProtocolError:              {"http_protocol_error", http.StatusBadGateway},
	ProxyInternalResponse:          {"proxy_internal_response", http.StatusInternalServerError},
	ProxyInternalError:             {"proxy_internal_error", http.StatusInternalServerError},
	ProxyConfigurationError:        {"proxy_configuration_error", http.StatusInternalServerError},
	ProxyLoopDetected:              {"proxy_loop_detected", http.StatusBadGateway},
	ClientClosedRequest:            {"client_closed_request", StatusClientClosedRequest},
}
