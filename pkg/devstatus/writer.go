package devstatus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/devloop/devloop/pkg/event"
)

// Writer keeps the status file of one dev session up to date from the session's
// events. It is an event.Sink; Close removes the file.
type Writer struct {
	mu   sync.Mutex
	path string
	now  func() time.Time
	st   Status
	// pending is set by a batch of changes and cleared by the start of the
	// iteration that takes it: an iteration that ends while a batch waits does
	// not make the session ready.
	pending bool
	err     error // the first write error, reported by Close
}

var _ event.Sink = (*Writer)(nil)

// NewWriter writes a running status for the dev process pid running config and
// returns the Writer that keeps it current. now may be nil (time.Now).
func NewWriter(path, config string, pid int, now func() time.Time) (*Writer, error) {
	if now == nil {
		now = time.Now
	}
	w := &Writer{path: path, now: now, st: Status{PID: pid, Config: config, State: StateRunning, Time: now()}}
	if err := write(path, w.st); err != nil {
		return nil, fmt.Errorf("writing the dev status: %w", err)
	}
	return w, nil
}

// Send implements event.Sink. Only change batches and iteration boundaries
// change the status; the rest is ignored.
func (w *Writer) Send(_ context.Context, e event.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case e.Phase == event.PhaseWatch && len(e.Files) > 0:
		w.pending = true
		w.st.State = StateRunning
	case e.Phase != event.PhaseIteration:
		return
	case e.Status == event.StatusStart:
		w.pending = false
		w.st.Iteration, w.st.State = e.Iteration, StateRunning
	case e.Status == event.StatusSuccess, e.Status == event.StatusFailure:
		w.st.Iteration, w.st.Message = e.Iteration, e.Message
		w.st.State = StateRunning
		switch {
		case w.pending:
		case e.Status == event.StatusSuccess:
			w.st.State = StateReady
		default:
			w.st.State = StateFailed
		}
	default: // skipped: cancelled for newer changes, or stopping
		w.st.State = StateRunning
	}
	w.st.Time = w.now()
	if err := write(w.path, w.st); err != nil && w.err == nil {
		w.err = err
	}
}

// Close removes the status file, unless another process has taken it over.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st, err := Read(w.path); err == nil && st.PID == w.st.PID {
		if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) && w.err == nil {
			w.err = err
		}
	}
	return w.err
}
