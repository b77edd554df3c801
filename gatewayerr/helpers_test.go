package gatewayerr

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// textErr is an error with only text, as net/http's unexported errors are.
type textErr struct {
	msg     string
	timeout bool
}

func (e *textErr) Error() string { return e.msg }

func (e *textErr) Timeout() bool { return e.timeout }

func (e *textErr) Temporary() bool { return e.timeout }

func (e *textErr) Is(target error) bool {
	return e.timeout && target == context.DeadlineExceeded
}
