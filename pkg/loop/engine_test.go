package loop

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/event"
)

func newEngine(t *testing.T, f *fakes, opts Options) (*Engine, *event.Recorder) {
	t.Helper()
	rec := &event.Recorder{}
	opts.NewStages, opts.Sink = f.stages, rec
	e, err := New(context.Background(), projectFor(t), opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return e, rec
}

// projectFor is the default project of these tests: two artifacts.
func projectFor(t *testing.T) *config.Config { return project(t, "web", "worker") }

func TestRunOnce(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(*fakes)
		wantErr     string
		wantApplies int
		wantLoads   int
		wantWaits   int
	}{
		{name: "success applies once and waits", wantApplies: 1, wantLoads: 2, wantWaits: 1},
		{
			name: "failed build applies nothing",
			setup: func(f *fakes) {
				f.builder.fail = map[string]error{"worker": errors.New("Dockerfile:2: RUN false: exit code 1")}
			},
			wantErr: "building worker: Dockerfile:2",
		},
		{
			name:    "failed load applies nothing",
			setup:   func(f *fakes) { f.loader.fail = errors.New("containerd is gone") },
			wantErr: "containerd is gone", wantLoads: 2,
		},
		{
			name:    "failed rollout is an error after the apply",
			setup:   func(f *fakes) { f.waiter.err = errors.New("deployment/web: CrashLoopBackOff") },
			wantErr: "rollout: deployment/web: CrashLoopBackOff", wantApplies: 1, wantLoads: 2, wantWaits: 1,
		},
		{
			name:    "non-local context is refused before building",
			setup:   func(f *fakes) { f.kube = KubeContext{Name: "prod", Server: "https://10.1.2.3:6443"} },
			wantErr: "prod",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes()
			if tc.setup != nil {
				tc.setup(f)
			}
			e, _ := newEngine(t, f, Options{})
			err := e.RunOnce(context.Background(), 1)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("RunOnce() = %v, want error containing %q", err, tc.wantErr)
			}
			if got := f.deployer.Applies(); got != tc.wantApplies {
				t.Errorf("applies = %d, want %d", got, tc.wantApplies)
			}
			if got := len(f.loader.Loads()); got != tc.wantLoads {
				t.Errorf("loads = %d, want %d", got, tc.wantLoads)
			}
			if f.waiter.waits != tc.wantWaits {
				t.Errorf("waits = %d, want %d", f.waiter.waits, tc.wantWaits)
			}
			if strings.Contains(tc.name, "non-local") {
				var nl *deploy.NonLocalContextError
				if !errors.As(err, &nl) {
					t.Errorf("RunOnce() = %T, want *deploy.NonLocalContextError", err)
				}
				if calls := f.builder.Calls(); len(calls) != 0 {
					t.Errorf("builds = %v, want none", calls)
				}
			}
		})
	}
}

func TestRunOnceNothingChanged(t *testing.T) {
	f := newFakes()
	e, rec := newEngine(t, f, Options{})
	ctx := context.Background()
	if err := e.RunOnce(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.RunOnce(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := f.deployer.Applies(); got != 1 {
		t.Errorf("applies = %d, want 1", got)
	}
	if got := len(f.loader.Loads()); got != 2 {
		t.Errorf("loads = %d, want 2 (the first iteration's)", got)
	}
	if got := len(f.builder.Calls()); got != 1 {
		t.Errorf("builds = %d, want 1: unchanged inputs are not rebuilt", got)
	}
	want := []string{"nothing changed: no build, no load, no apply"}
	if diff := cmp.Diff(want, messages(rec, event.PhaseDeploy, event.StatusSkipped)); diff != "" {
		t.Errorf("skipped deploy events (-want +got):\n%s", diff)
	}
	sums := messages(rec, event.PhaseIteration, event.StatusSuccess)
	if len(sums) != 2 || !strings.HasPrefix(sums[1], "iteration 2: nothing changed") {
		t.Errorf("summaries = %q, want the second to say nothing changed", sums)
	}

	// A manifest edit re-applies without building or loading.
	write(t, filepath.Join(e.Config().Dir, "k8s", "app.yaml"), "kind: Deployment\nreplicas: 2\n")
	f.renderer.manifest = filepath.Join(e.Config().Dir, "k8s", "app.yaml")
	if err := e.RunOnce(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got := f.deployer.Applies(); got != 2 {
		t.Errorf("applies after a manifest edit = %d, want 2", got)
	}
	if got := len(f.loader.Loads()); got != 2 {
		t.Errorf("loads after a manifest edit = %d, want still 2", got)
	}
}

func TestRunOnceLiveObjectsChanged(t *testing.T) {
	f := newFakes()
	e, _ := newEngine(t, f, Options{})
	ctx := context.Background()
	if err := e.RunOnce(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.live.current = false // someone deleted or edited the objects
	e.stages.Live = f.live
	if err := e.RunOnce(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := f.deployer.Applies(); got != 2 {
		t.Errorf("applies = %d, want 2: the cluster no longer holds the last apply", got)
	}
}

func TestRunOnceStateAcrossProcesses(t *testing.T) {
	store := NewStateStore(filepath.Join(t.TempDir(), "state.json"))
	cfg := projectFor(t)
	run := func() (*fakes, *event.Recorder) {
		f := newFakes()
		rec := &event.Recorder{}
		e, err := New(context.Background(), cfg, Options{NewStages: f.stages, Sink: rec, State: store})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.RunOnce(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		return f, rec
	}
	run()
	f, rec := run()
	if calls := f.builder.Calls(); len(calls) != 0 {
		t.Errorf("second process built %v, want nothing", calls)
	}
	if loads := f.loader.Loads(); len(loads) != 0 {
		t.Errorf("second process loaded %v, want nothing", loads)
	}
	if got := f.deployer.Applies(); got != 0 {
		t.Errorf("second process applied %d times, want 0", got)
	}
	if got := messages(rec, event.PhaseDeploy, event.StatusSkipped); len(got) != 1 {
		t.Errorf("skipped deploy events = %q, want one", got)
	}

	// An edit of one artifact rebuilds only it, loads both (a new process does
	// not know what the target holds) and applies.
	write(t, filepath.Join(cfg.Artifacts[0].Context, "app.py"), "print('changed')\n")
	f, _ = run()
	if diff := cmp.Diff([][]string{{"web"}}, f.builder.Calls()); diff != "" {
		t.Errorf("builds after an edit (-want +got):\n%s", diff)
	}
	if got := f.deployer.Applies(); got != 1 {
		t.Errorf("applies after an edit = %d, want 1", got)
	}
}
