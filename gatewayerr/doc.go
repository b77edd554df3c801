// Package gatewayerr names what went wrong between a gateway and its
// upstream, in the terms of RFC 9209 (the Proxy-Status HTTP field), so that a
// gateway can answer with the right status, retry only when it is safe, log
// a precise cause and tell the next hop what happened.
//
// It does not depend on the rest of Gatehouse.
//
// # Kinds
//
// A [Kind] is one of RFC 9209's error types, plus [Unknown] and
// [ClientClosedRequest]. Its String is the type's token, its
// [Kind.StatusCode] the status RFC 9209 recommends:
//
//	kind                                 status   kind                                  status
//	dns_timeout                          504      http_request_error                    400
//	dns_error                            502      http_request_denied                   403
//	destination_not_found                500      http_response_incomplete              502
//	destination_unavailable              503      http_response_header_section_size     502
//	destination_ip_prohibited            502      http_response_header_size             502
//	destination_ip_unroutable            502      http_response_body_size               502
//	connection_refused                   502      http_response_trailer_section_size    502
//	connection_terminated                502      http_response_trailer_size            502
//	connection_timeout                   504      http_response_transfer_coding         502
//	connection_read_timeout              504      http_response_content_coding          502
//	connection_write_timeout             504      http_response_timeout                 504
//	connection_limit_reached             503      http_upgrade_failed                   502
//	tls_protocol_error                   502      http_protocol_error                   502
//	tls_certificate_error                502      proxy_internal_response (*)           500
//	tls_alert_received                   502      proxy_internal_error                  500
//	unknown (not an RFC 9209 type)       502      proxy_configuration_error             500
//	client_closed_request (nginx's)      499      proxy_loop_detected                   502
//
// (*) RFC 9209 recommends none.
//
// # Classification
//
// [Classify] and [ClassifyPhase] turn any error from an HTTP client into an
// [*Error]: its kind, cause, upstream, [Phase], whether the request may have
// reached the upstream ([Error.RequestSent]) and the RFC 9209 parameters that
// apply. [ClassifyResponse] reports an upstream's own 502, 503 and 504 and its
// Proxy-Status chain. A client that went away is [ClientClosedRequest].
//
// The status a failure is answered with is [Error.StatusCode]; how a gateway
// reports a failure it cannot attribute is [Error.Reported].
//
// # Proxy-Status
//
// [ProxyStatus] is one member of a Proxy-Status field: [Error.ProxyStatus]
// builds a gateway's own, [ParseProxyStatus] reads a field,
// [AppendProxyStatus] adds to one, and [ProxyStatus.Redacted] hides what a
// visitor must not see. Structured fields (RFC 9651) are handled with
// github.com/dunglas/httpsfv.
package gatewayerr
