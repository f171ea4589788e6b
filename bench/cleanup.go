package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/devloop/devloop/pkg/sideload"
)

// cleanupTimeout bounds each undo step; they run after Ctrl-C too.
const cleanupTimeout = 2 * time.Minute

// cleanups is a stack of undo steps, run last-in first-out. Each scenario
// registers the removal of what it creates before creating it, so an interrupted
// or failed run leaves nothing behind.
type cleanups struct {
	mu    sync.Mutex
	steps []cleanupStep
}

type cleanupStep struct {
	what string
	fn   func(context.Context) error
}

// add registers fn, described by what in error messages.
func (c *cleanups) add(what string, fn func(context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, cleanupStep{what, fn})
}

// run runs every step, newest first, even when ctx is done, and returns their
// errors joined.
func (c *cleanups) run(ctx context.Context, log io.Writer) error {
	c.mu.Lock()
	steps := c.steps
	c.steps = nil
	c.mu.Unlock()
	var errs []error
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		err := s.fn(sctx)
		cancel()
		if err != nil {
			fmt.Fprintf(log, "cleanup: %s: %v\n", s.what, err)
			errs = append(errs, fmt.Errorf("cleaning up %s: %w", s.what, err))
		}
	}
	return errors.Join(errs...)
}

// runCmd runs a command and returns its stdout; a failure is a *sideload.RunError
// carrying the command and its stderr.
func runCmd(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	var out bytes.Buffer
	err := sideload.ExecRunner{}.Run(ctx, stdin, &out, nil, args...)
	return out.Bytes(), err
}

// withEnv prefixes a command with env(1) so it runs with extra variables (kind
// with the docker shim first on PATH, docker build without BuildKit).
func withEnv(vars []string, args ...string) []string {
	return append(append([]string{"env"}, vars...), args...)
}
