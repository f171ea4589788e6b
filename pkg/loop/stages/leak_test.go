package stages

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine outlives them: a
// port-forward or a log tail left running after its context ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
