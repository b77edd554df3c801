package gatewayerr

// errnoClass is what a system call error says about a connection.
type errnoClass uint8

const (
	errnoNone errnoClass = iota
	errnoOther
	errnoRefused
	errnoUnroutable
	errnoProhibited
	errnoLimit
	errnoTimeout
	errnoTerminated
	errnoNoSocket
)

// errnoOf reports nothing on Plan 9, whose system call errors are text.
func errnoOf(error) (errnoClass, bool) { return errnoNone, false }
