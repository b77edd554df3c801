package middleware

// Keys of the attributes in the records this package logs, one key per fact
// in every record (Handler's, Transport's and the proxy's), as log/slog names
// its built-in keys (slog.TimeKey). A failure record always carries keyKind
// and keyRequestID; a retry record carries keyRequestID when the request has
// its own.
const (
	keyKind           = "kind"            // the RFC 9209 error type, gatewayerr.Error.ErrorType
	keyStatus         = "status"          // the status the client got
	keyReceivedStatus = "received_status" // the upstream's own status, when it answered
	keyUpstream       = "upstream"        // the upstream host
	keyMethod         = "method"
	keyPath           = "path"
	keyRequestID      = "request_id" // the reference a page quotes
	keyAttempts       = "attempts"   // attempts made for a failed request
	keyAttempt        = "attempt"    // the number of an attempt being retried
	keyWait           = "wait"       // the wait before the next attempt
	keyDuration       = "duration"
	keyPhase          = "phase"       // gatewayerr.Phase
	keyError          = "error"       // the error's text, for operators only
	keyStack          = "stack"       // a recovered panic's stack
	keyFrom           = "from"        // a breaker's previous state
	keyTo             = "to"          // a breaker's new state
	keyEjectedFor     = "ejected_for" // how long an upstream is ejected
	keyEjections      = "ejections"   // an upstream's ejections counted for its ejection time
)
