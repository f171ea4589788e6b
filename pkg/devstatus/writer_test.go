package devstatus

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devloop/devloop/pkg/event"
)

func TestWriterStates(t *testing.T) {
	start := func(n int) event.Event {
		return event.Event{Iteration: n, Phase: event.PhaseIteration, Status: event.StatusStart}
	}
	end := func(n int, s event.Status) event.Event {
		return event.Event{Iteration: n, Phase: event.PhaseIteration, Status: s, Message: "iteration"}
	}
	batch := event.Event{Phase: event.PhaseWatch, Status: event.StatusProgress, Files: []string{"app.py"}}
	tests := []struct {
		name          string
		events        []event.Event
		want          State
		wantIteration int
	}{
		{name: "nothing yet", want: StateRunning},
		{name: "first iteration running", events: []event.Event{start(1), {Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusSuccess}}, want: StateRunning, wantIteration: 1},
		{name: "first iteration ready", events: []event.Event{start(1), end(1, event.StatusSuccess)}, want: StateReady, wantIteration: 1},
		{name: "first iteration failed", events: []event.Event{start(1), end(1, event.StatusFailure)}, want: StateFailed, wantIteration: 1},
		{name: "a batch after a ready iteration", events: []event.Event{start(1), end(1, event.StatusSuccess), batch}, want: StateRunning, wantIteration: 1},
		{name: "a batch during an iteration keeps it running after its end", events: []event.Event{start(1), batch, end(1, event.StatusSuccess)}, want: StateRunning, wantIteration: 1},
		{name: "the next iteration takes the batch", events: []event.Event{start(1), batch, end(1, event.StatusSuccess), start(2), end(2, event.StatusFailure)}, want: StateFailed, wantIteration: 2},
		{name: "cancelled for newer changes", events: []event.Event{start(2), batch, end(2, event.StatusSkipped)}, want: StateRunning, wantIteration: 2},
		{name: "progress and logs change nothing", events: []event.Event{start(1), end(1, event.StatusSuccess), {Phase: event.PhaseLog, Status: event.StatusProgress, Message: "hello"}, {Phase: event.PhaseWatch, Status: event.StatusProgress, Message: "warning: x"}}, want: StateReady, wantIteration: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p", "dev-status.json")
			w, err := NewWriter(path, "/src/devloop.yaml", 4242, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.events {
				w.Send(context.Background(), e)
			}
			st, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tc.want || st.Iteration != tc.wantIteration || st.PID != 4242 || st.Config != "/src/devloop.yaml" {
				t.Errorf("status = %+v, want %s at iteration %d", st, tc.want, tc.wantIteration)
			}
			if err := w.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
			if _, err := Read(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("status file after Close: %v, want it gone", err)
			}
		})
	}
}

func TestWriterCloseLeavesAnotherSessionsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev-status.json")
	old, err := NewWriter(path, "/a/devloop.yaml", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(path, "/a/devloop.yaml", 2, nil); err != nil {
		t.Fatal(err)
	}
	old.Close()
	if st, err := Read(path); err != nil || st.PID != 2 {
		t.Errorf("status after the old session closed = %+v, %v; want the new session's", st, err)
	}
}

func TestWait(t *testing.T) {
	alive := func(int) bool { return true }
	fast := WaitOptions{Settle: 50 * time.Millisecond, Poll: 5 * time.Millisecond, Alive: alive}
	t.Run("ready, after the settle time", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.json")
		w, _ := NewWriter(path, "c", 1, nil)
		w.Send(context.Background(), event.Event{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusSuccess, Message: "iteration 1: build 1.0s"})
		start := time.Now()
		st, err := Wait(context.Background(), path, fast)
		if err != nil || st.State != StateReady || st.Message != "iteration 1: build 1.0s" {
			t.Errorf("Wait() = %+v, %v; want ready with the summary", st, err)
		}
		if d := time.Since(start); d < fast.Settle {
			t.Errorf("Wait returned after %s, before the settle time %s", d, fast.Settle)
		}
	})
	t.Run("a change saved just before is waited for", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.json")
		w, _ := NewWriter(path, "c", 1, nil)
		w.Send(context.Background(), event.Event{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusSuccess})
		go func() {
			time.Sleep(20 * time.Millisecond) // within the settle time: the watcher's batch
			w.Send(context.Background(), event.Event{Phase: event.PhaseWatch, Status: event.StatusProgress, Files: []string{"app.py"}})
			w.Send(context.Background(), event.Event{Iteration: 2, Phase: event.PhaseIteration, Status: event.StatusStart})
			time.Sleep(100 * time.Millisecond)
			w.Send(context.Background(), event.Event{Iteration: 2, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 2 failed: x"})
		}()
		st, err := Wait(context.Background(), path, fast)
		if err != nil || st.State != StateFailed || st.Iteration != 2 {
			t.Errorf("Wait() = %+v, %v; want iteration 2 failed", st, err)
		}
	})
	t.Run("no session", func(t *testing.T) {
		_, err := Wait(context.Background(), filepath.Join(t.TempDir(), "none.json"), fast)
		if !errors.Is(err, ErrNoSession) {
			t.Errorf("Wait() = %v, want ErrNoSession", err)
		}
	})
	t.Run("the session's process is gone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.json")
		NewWriter(path, "c", 1, nil)
		o := fast
		o.Alive = func(int) bool { return false }
		if _, err := Wait(context.Background(), path, o); !errors.Is(err, ErrNoSession) {
			t.Errorf("Wait() = %v, want ErrNoSession", err)
		}
	})
	t.Run("the session stops while waited for", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.json")
		w, _ := NewWriter(path, "c", 1, nil)
		time.AfterFunc(20*time.Millisecond, func() { w.Close() })
		if _, err := Wait(context.Background(), path, fast); !errors.Is(err, ErrNoSession) {
			t.Errorf("Wait() = %v, want ErrNoSession", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.json")
		NewWriter(path, "c", 1, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		st, err := Wait(ctx, path, fast)
		if !errors.Is(err, context.DeadlineExceeded) || st.State != StateRunning {
			t.Errorf("Wait() = %+v, %v; want the running status and the context's error", st, err)
		}
	})
	t.Run("real process check", func(t *testing.T) {
		if !alive(os.Getpid()) {
			t.Error("alive(own pid) = false")
		}
	})
}
