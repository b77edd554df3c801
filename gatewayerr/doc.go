// Package gatewayerr names what went wrong between a gateway and its
// upstream, in the terms of RFC 9209 (the Proxy-Status HTTP field), so that a
// gateway can answer with the right status, retry only when it is safe, log
// a precise cause and tell the next hop what happened.
//
// It has no dependency on the rest of Gatehouse: any reverse proxy or HTTP
// client can use it.
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
// (*) RFC 9209 recommends no status for proxy_internal_response, a response
// the intermediary made on its own; a page reporting it is the gateway's own
// failure, so it gets 500.
//
// A Kind is also an error, so errors.Is tests the kind of any chain that
// holds a classified [Error]:
//
//	if errors.Is(err, gatewayerr.ConnectionRefused) { ... }
//
// # Classification
//
// [Classify] turns any error from an HTTP client (an http.Transport, net/http's
// bundled HTTP/2, golang.org/x/net/http2, wrapped in [*url.Error], %w
// chains or [errors.Join]) into an [*Error]: the kind, the cause, the
// upstream, the [Phase] of the exchange, whether the request may have
// reached the upstream ([Error.RequestSent], the retry-safety flag), and the
// RFC 9209 parameters that apply (DNS rcode, TLS alert, sizes, next hop). It
// decides from types and [errors.Is] first; the few failures Go exposes only
// as text are matched in one place, pinned by tests. It never returns nil for
// a non-nil error, never panics, and is idempotent: classifying an *Error
// of a known kind other than Unknown again returns it.
//
// A client that went away ([context.Canceled] anywhere in the chain) is
// [ClientClosedRequest], never an upstream failure; no page should be
// written for it.
//
// The same value can mean different things at different steps: [io.EOF] is a
// TLS hang-up during the handshake and a truncated response in the body;
// [context.DeadlineExceeded] is a DNS, connection, response or read timeout
// depending on when the deadline struck. Whatever knows the step (a
// RoundTripper following the exchange with net/http/httptrace and wrapping
// the response body) calls [ClassifyPhase]; Classify on a bare error makes
// the best call the value allows. A RoundTripper that saw the request
// written should also call [Error.SetRequestSent], since a transport's own
// retries can end in an earlier phase.
//
// [ClassifyResponse] reports an upstream's own failure responses: its 502,
// 503 and 504, with Retry-After (as asked, up to [MaxStatedRetryAfter]; a
// retry scheduled on it waits at most [MaxRetryAfter]), and its
// Proxy-Status field, whose chain of intermediaries it keeps.
//
// # Proxy-Status
//
// [ProxyStatus] is one member of a Proxy-Status field. [Error.ProxyStatus]
// builds the member a gateway adds for a failure, with the next hop and the
// cause's text only when the operator asks for them; [ProxyStatus.String]
// and [FormatProxyStatus] always produce a valid structured-field list
// (RFC 9651), whatever the values hold; [AppendProxyStatus] appends a member
// to a response's field, as each intermediary should. [ParseProxyStatus]
// and [ParseProxyStatusHeader] read any valid field, unknown parameters
// included, and reject invalid ones with an error wrapping
// [ErrInvalidProxyStatus].
//
// Structured fields are parsed and serialized with
// github.com/dunglas/httpsfv; the package's tests run the HTTP Working
// Group's structured-field test vectors through ParseProxyStatus.
package gatewayerr
