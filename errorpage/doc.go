// Package errorpage renders calm, precise error pages for a gateway's
// visitors: HTML, RFC 9457 problem documents, JSON or plain text, negotiated
// from the request and localized.
//
// [New] builds [Pages] from a [Config] whose zero value gives the embedded
// defaults; [Default] returns those. [Pages.ServeError] serves the page for
// a failure, classified with gatewayerr.Classify, and [Pages.ServeStatus]
// the page for a status.
package errorpage
