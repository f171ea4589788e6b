package loop

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine outlives them: an
// iteration, a watcher or a port-forward that Dev or RunOnce left running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
