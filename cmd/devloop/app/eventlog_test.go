package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/devloop/devloop/internal/eventtest"
	"github.com/devloop/devloop/pkg/event"
)

// brokenConfig writes a devloop.yaml with an unknown field on line 5, column 5.
func brokenConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "devloop.yaml")
	if err := os.WriteFile(p, []byte("apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    dockerFile: Dockerfile.dev\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestJSONConfigFailure: a devloop.yaml that does not load is an event of the
// JSON stream too, located, before any iteration.
func TestJSONConfigFailure(t *testing.T) {
	cfg := brokenConfig(t)
	code, stdout, _ := runMain(t, "run", "-o", "json", "-f", cfg)
	if code != ExitUsage {
		t.Errorf("Main(run -o json) = %d, want %d", code, ExitUsage)
	}
	evs, err := eventtest.Stream(eventtest.Schema(t), strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("stdout is not a valid event stream: %v\n%s", err, stdout)
	}
	want := []event.Event{{
		SchemaVersion: event.SchemaVersion, Iteration: 0, Phase: event.PhaseConfig, Status: event.StatusFailure,
		File: cfg, Line: 5, Column: 5, Message: `artifacts[0].dockerFile: unknown field (did you mean "dockerfile"?)`,
	}}
	if diff := cmp.Diff(want, evs, cmpopts.IgnoreFields(event.Event{}, "Time")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestEventLog(t *testing.T) {
	cfg := brokenConfig(t)
	log := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(log, []byte("an older stream\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runMain(t, "run", "--event-log", log, "-f", cfg)
	if code != ExitUsage {
		t.Errorf("Main(run --event-log) = %d, want %d", code, ExitUsage)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing: the events go to the file", stdout)
	}
	if want := cfg + ":5:5: error: artifacts[0].dockerFile: unknown field"; !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want the human line %q", stderr, want)
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := eventtest.Stream(eventtest.Schema(t), f)
	if err != nil {
		t.Fatalf("%s: %v", log, err)
	}
	if len(evs) != 1 || evs[0].Phase != event.PhaseConfig || evs[0].File != cfg || evs[0].Line != 5 {
		t.Errorf("event log = %+v, want one config failure at %s:5 (and the old content gone)", evs, cfg)
	}

	code, _, stderr = runMain(t, "run", "--event-log", filepath.Join(t.TempDir(), "no", "such", "dir"), "-f", cfg)
	if code != ExitUsage || !strings.Contains(stderr, "--event-log") {
		t.Errorf("Main(run --event-log in a missing directory) = %d, stderr %q; want %d naming the flag", code, stderr, ExitUsage)
	}
}
