package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/eventtest"
	"github.com/devloop/devloop/pkg/devstatus"
	"github.com/devloop/devloop/pkg/event"
)

// waitProject writes a devloop.yaml for project "wait-test" and points the
// cache (where dev sessions publish their status) at a temporary directory.
func waitProject(t *testing.T) (cfg, statusPath string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg = filepath.Join(t.TempDir(), "devloop.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: devloop.dev/v1alpha1\nkind: Config\nname: wait-test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := devstatus.DefaultPath("wait-test")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, p
}

func TestWaitCommand(t *testing.T) {
	end := func(s event.Status, msg string) []event.Event {
		return []event.Event{
			{Iteration: 3, Phase: event.PhaseIteration, Status: event.StatusStart},
			{Iteration: 3, Phase: event.PhaseIteration, Status: s, Message: msg},
		}
	}
	tests := []struct {
		name       string
		session    bool
		events     []event.Event
		json       bool
		wantCode   int
		wantStderr string
	}{
		{name: "no session", wantCode: ExitFailure, wantStderr: "no devloop dev is running"},
		{name: "ready", session: true, events: end(event.StatusSuccess, "iteration 3: build 0.6s"), wantCode: ExitOK, wantStderr: "iteration 3: build 0.6s"},
		{name: "failed", session: true, events: end(event.StatusFailure, "iteration 3 failed: building app: boom"), wantCode: ExitFailure, wantStderr: "iteration 3 failed: building app: boom"},
		{name: "ready, JSON", session: true, json: true, events: end(event.StatusSuccess, "iteration 3: apply 0.1s"), wantCode: ExitOK},
		{name: "still running at the timeout", session: true, events: end(event.StatusStart, ""), wantCode: ExitFailure, wantStderr: "iteration 3 still running: --timeout 700ms reached"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, path := waitProject(t)
			if tc.session {
				w, err := devstatus.NewWriter(path, cfg, os.Getpid(), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				for _, e := range tc.events {
					w.Send(context.Background(), e)
				}
			}
			args := []string{"wait", "-f", cfg, "--settle", "10ms", "--timeout", "700ms"}
			if tc.json {
				args = append(args, "-o", "json")
			}
			start := time.Now()
			code, stdout, stderr := runMain(t, args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("Main(%q) = %d, stderr %q; want %d and %q", args, code, stderr, tc.wantCode, tc.wantStderr)
			}
			if d := time.Since(start); tc.wantCode == ExitOK && d > 500*time.Millisecond {
				t.Errorf("devloop wait took %s on a ready session", d)
			}
			if tc.json {
				evs, err := eventtest.Stream(eventtest.Schema(t), strings.NewReader(stdout))
				if err != nil || len(evs) != 1 || evs[0].Phase != event.PhaseIteration || evs[0].Status != event.StatusSuccess || evs[0].Iteration != 3 {
					t.Errorf("stdout = %q (%v), want one iteration success event", stdout, err)
				}
			}
		})
	}
}
