package loop

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/watch"
)

func TestPlanFor(t *testing.T) {
	cfg := project(t, "web", "worker")
	roots, roles := watchRoots(cfg)
	index := func(p string) int {
		return slices.IndexFunc(roots, func(r watch.Root) bool { return r.Path == p })
	}
	web, worker := cfg.Artifacts[0].Context, cfg.Artifacts[1].Context
	manifests := cfg.Deploy.Manifests[0]
	change := func(root string, files ...string) watch.RootChange {
		return watch.RootChange{Index: index(root), Path: root, Paths: files}
	}
	tests := []struct {
		name  string
		batch watch.Batch
		want  plan
	}{
		{
			name:  "source change rebuilds its artifact only",
			batch: watch.Batch{Roots: []watch.RootChange{change(web, filepath.Join(web, "app.py"))}},
			want:  plan{build: map[string]bool{"web": true}},
		},
		{
			name: "changes in two contexts rebuild both",
			batch: watch.Batch{Roots: []watch.RootChange{
				change(web, filepath.Join(web, "app.py")), change(worker, filepath.Join(worker, "Dockerfile")),
			}},
			want: plan{build: map[string]bool{"web": true, "worker": true}},
		},
		{
			name:  "manifest change builds nothing",
			batch: watch.Batch{Roots: []watch.RootChange{change(manifests, filepath.Join(manifests, "app.yaml"))}},
			want:  plan{build: map[string]bool{}},
		},
		{
			name:  "config change reloads",
			batch: watch.Batch{Roots: []watch.RootChange{change(cfg.File, cfg.File)}},
			want:  plan{build: map[string]bool{}, reload: true},
		},
		{
			name:  "lost events redo everything",
			batch: watch.Batch{Overflow: true},
			want:  plan{build: map[string]bool{}, all: true, reload: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := planFor(tc.batch, roles)
			got.files = nil
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(plan{})); diff != "" {
				t.Errorf("planFor() (-want +got):\n%s", diff)
			}
		})
	}
	if want := 4; len(roots) != want {
		t.Errorf("watchRoots() = %d roots, want %d (two contexts, the manifests, the config)", len(roots), want)
	}
	if !roots[0].DockerIgnore || !slices.Equal(roots[0].Keep, []string{"Dockerfile"}) {
		t.Errorf("watchRoots()[0] = %+v, want .dockerignore applied and the Dockerfile kept", roots[0])
	}
}

// devHarness runs Dev on fakes and lets a test send batches.
type devHarness struct {
	t      *testing.T
	cfg    *config.Config
	f      *fakes
	rec    *event.Recorder
	w      *fakeWatch
	roots  []watch.Root
	cancel context.CancelFunc
	done   chan error
}

func startDev(t *testing.T, f *fakes, cfg *config.Config, opts Options) *devHarness {
	t.Helper()
	h := &devHarness{t: t, cfg: cfg, f: f, rec: &event.Recorder{}, done: make(chan error, 1)}
	opts.NewStages, opts.Sink = f.stages, h.rec
	opts.Watch = func(_ context.Context, roots []watch.Root) (Watch, error) {
		h.w, h.roots = newFakeWatch(), roots
		return h.w, nil
	}
	e, err := New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- e.Dev(ctx) }()
	t.Cleanup(func() { h.stop() })
	return h
}

// send delivers a batch of changes to files under root.
func (h *devHarness) send(root string, files ...string) {
	h.t.Helper()
	i := slices.IndexFunc(h.roots, func(r watch.Root) bool { return r.Path == root })
	if i < 0 {
		h.t.Fatalf("no root %s", root)
	}
	b := watch.Batch{Paths: files, Roots: []watch.RootChange{{Index: i, Path: root, Paths: files}}}
	select {
	case h.w.ch <- b:
	case <-time.After(5 * time.Second):
		h.t.Fatal("Dev did not take the batch")
	}
}

// iterationsDone counts finished iterations (any outcome).
func (h *devHarness) iterationsDone() int {
	n := 0
	for _, e := range h.rec.Events() {
		if e.Phase == event.PhaseIteration && e.Status != event.StatusStart {
			n++
		}
	}
	return n
}

func (h *devHarness) stop() error {
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err
		return err
	case <-time.After(2 * time.Second):
		h.t.Fatal("Dev did not stop within 2s")
		return nil
	}
}

func TestDevRebuildsOnlyTheChangedArtifact(t *testing.T) {
	cfg := project(t, "web", "worker")
	h := startDev(t, newFakes(), cfg, Options{})
	eventually(t, "the first iteration", func() bool { return h.iterationsDone() == 1 })

	web := cfg.Artifacts[0].Context
	write(t, filepath.Join(web, "app.py"), "print('v2')\n")
	h.send(web, filepath.Join(web, "app.py"))
	eventually(t, "the second iteration", func() bool { return h.iterationsDone() == 2 })

	manifest := filepath.Join(cfg.Deploy.Manifests[0], "app.yaml")
	h.f.renderer.manifest = manifest
	write(t, manifest, "kind: Deployment\nreplicas: 3\n")
	h.send(cfg.Deploy.Manifests[0], manifest)
	eventually(t, "the third iteration", func() bool { return h.iterationsDone() == 3 })

	if diff := cmp.Diff([][]string{{"web", "worker"}, {"web"}}, h.f.builder.Calls()); diff != "" {
		t.Errorf("builds (-want +got):\n%s", diff)
	}
	if got := h.f.deployer.Applies(); got != 3 {
		t.Errorf("applies = %d, want 3", got)
	}
	if got := len(h.f.loader.Loads()); got != 3 {
		t.Errorf("loads = %d, want 3: both images, then web's new one", got)
	}
	sums := messages(h.rec, event.PhaseIteration, event.StatusSuccess)
	if len(sums) != 3 || !strings.HasPrefix(sums[1], "iteration 2: web/app.py → build") {
		t.Errorf("summaries = %q, want the second to name web/app.py", sums)
	}
}

func TestDevNewBatchCancelsInFlightBuild(t *testing.T) {
	cfg := project(t, "web", "worker")
	f := newFakes()
	f.builder.block = map[int]bool{1: true} // the second build waits for cancellation
	f.builder.started = make(chan int, 10)
	h := startDev(t, f, cfg, Options{})
	eventually(t, "the first iteration", func() bool { return h.iterationsDone() == 1 })

	web, worker := cfg.Artifacts[0].Context, cfg.Artifacts[1].Context
	write(t, filepath.Join(web, "app.py"), "print('v2')\n")
	h.send(web, filepath.Join(web, "app.py"))
	for idx := range f.builder.started {
		if idx == 1 {
			break
		}
	}
	write(t, filepath.Join(worker, "app.py"), "print('v2')\n")
	h.send(worker, filepath.Join(worker, "app.py"))
	eventually(t, "the third iteration", func() bool { return h.iterationsDone() == 3 })

	if diff := cmp.Diff([][]string{{"web", "worker"}, {"web"}, {"web", "worker"}}, f.builder.Calls()); diff != "" {
		t.Errorf("builds (-want +got):\n%s", diff)
	}
	if got := f.deployer.Applies(); got != 2 {
		t.Errorf("applies = %d, want 2: the cancelled iteration applied nothing", got)
	}
	if got := messages(h.rec, event.PhaseIteration, event.StatusSkipped); len(got) != 1 || !strings.Contains(got[0], "newer changes") {
		t.Errorf("skipped iterations = %q, want one cancelled for newer changes", got)
	}
}

func TestDevInvalidConfigKeepsTheOldOne(t *testing.T) {
	cfg := project(t, "web")
	reloads := 0
	reload := func() (*config.Config, error) {
		reloads++
		if reloads == 1 {
			return nil, errors.Join(&config.Error{File: cfg.File, Line: 7, Column: 3, Field: "artifacts[0].context", Msg: `directory "nope" does not exist`})
		}
		c := *cfg
		c.Deploy.RolloutTimeout = 2 * time.Minute
		return &c, nil
	}
	f := newFakes()
	h := startDev(t, f, cfg, Options{Reload: reload})
	eventually(t, "the first iteration", func() bool { return h.iterationsDone() == 1 })

	h.send(cfg.File, cfg.File)
	eventually(t, "the iteration after the bad edit", func() bool { return h.iterationsDone() == 2 })
	var bad []event.Event
	for _, e := range h.rec.Events() {
		if e.Phase == event.PhaseConfig && e.Status == event.StatusFailure {
			bad = append(bad, e)
		}
	}
	if len(bad) != 1 || bad[0].File != cfg.File || bad[0].Line != 7 || bad[0].Column != 3 || !strings.Contains(bad[0].Message, "previous one keeps running") {
		t.Errorf("config failure events = %+v, want one at %s:7:3 saying the old config keeps running", bad, cfg.File)
	}
	if f.made != 1 {
		t.Errorf("stages made %d times, want 1: the bad config must not replace them", f.made)
	}

	h.send(cfg.File, cfg.File)
	eventually(t, "the iteration after the fix", func() bool { return h.iterationsDone() == 3 })
	if f.made != 2 {
		t.Errorf("stages made %d times, want 2 after a valid edit", f.made)
	}
	if got := messages(h.rec, event.PhaseConfig, event.StatusSuccess); len(got) != 1 {
		t.Errorf("config reloaded events = %q, want one", got)
	}
}

func TestDevStopsDuringBuildAndCleansUp(t *testing.T) {
	cfg := project(t, "web")
	f := newFakes()
	f.builder.block = map[int]bool{0: true}
	f.builder.started = make(chan int, 1)
	h := startDev(t, f, cfg, Options{Cleanup: true})
	<-f.builder.started
	start := time.Now()
	if err := h.stop(); err != nil {
		t.Errorf("Dev() = %v, want nil after Ctrl-C", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dev took %s to stop, want < 2s", d)
	}
	if f.deployer.cleans != 1 {
		t.Errorf("cleanups = %d, want 1", f.deployer.cleans)
	}
	if got := f.deployer.Applies(); got != 0 {
		t.Errorf("applies = %d, want 0", got)
	}
}
