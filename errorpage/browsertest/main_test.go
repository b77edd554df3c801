package browsertest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the browser's connection, the gateway and its
// upstreams leave no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
