package gatewayerr

// ProxyStatus is one member of a Proxy-Status header field (RFC 9209): what
// one intermediary reports about how it handled the response.
type ProxyStatus struct {
	// Proxy names the intermediary: a token or a string.
	Proxy string

	// Kind is the error parameter's type; meaningful only when HasError.
	Kind Kind

	// Error is the error parameter's token as it was received or is to be
	// sent; empty when the member has no error parameter. For a registered
	// type it is Kind.String(); an unregistered token is kept as it is, with
	// Kind [Unknown].
	Error string

	// ReceivedStatus is the received-status parameter; zero when absent.
	ReceivedStatus int

	// NextHop is the next-hop parameter; empty when absent.
	NextHop string

	// NextProtocol is the next-protocol parameter (an ALPN token); empty
	// when absent.
	NextProtocol string

	// Details is the details parameter; empty when absent.
	Details string

	// Params holds every other parameter, in order: the error-specific ones
	// (rcode, info-code, alert-id, alert-message, header-name, ...) and any
	// unknown one, so that a parsed member can be formatted again unchanged.
	Params []Param
}

// Param is one parameter of a [ProxyStatus] member other than the ones it has
// fields for. Value is a string, an int64, a bool, a float64 or a [Token].
type Param struct {
	Key   string
	Value any
}

// Token is a structured-field token value (RFC 9651, Section 3.3.4), kept
// distinct from a string so that a parsed member formats back the same.
type Token string
