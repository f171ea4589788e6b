package devstatus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// ErrNoSession says no dev session is running: there is no status file, or its
// process is gone.
var ErrNoSession = errors.New("no devloop dev is running")

// DefaultSettle is how long Wait trusts no finished status: longer than the
// watcher's quiet period (watch.DefaultQuiet, 200ms), so that a change saved
// just before Wait started has reached the session.
const DefaultSettle = 500 * time.Millisecond

// WaitOptions tune Wait; the zero value is ready to use.
type WaitOptions struct {
	// Settle is how long after Wait starts a ready or failed status is taken
	// as final; default DefaultSettle.
	Settle time.Duration
	// Poll is how often the file is read; default 100ms.
	Poll time.Duration
	// Alive reports whether a process runs; default: signal 0 (true where
	// that is not available).
	Alive func(pid int) bool
}

// Wait reads the status file at path until the session's iteration is ready or
// failed and returns that status, or until ctx ends. It returns ErrNoSession when
// no session runs, at the start or while waiting.
func Wait(ctx context.Context, path string, o WaitOptions) (Status, error) {
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Alive == nil {
		o.Alive = alive
	}
	settled := time.After(o.Settle)
	var st Status
	for {
		var err error
		st, err = Read(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return st, ErrNoSession
		case err != nil:
			// A partial file cannot happen (rename); anything else is real.
			return st, err
		case !o.Alive(st.PID):
			return st, fmt.Errorf("%w (process %d is gone)", ErrNoSession, st.PID)
		}
		if st.State != StateRunning && settled == nil {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, context.Cause(ctx)
		case <-settled:
			settled = nil
			continue // read again now that changes saved before Wait had their time
		case <-time.After(o.Poll):
		}
	}
}
