package loop

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/pkg/config"
)

func TestInputsHash(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string, a *config.Artifact)
		changed bool
	}{
		{name: "nothing", change: func(*testing.T, string, *config.Artifact) {}},
		{name: "a source file", changed: true, change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "app.py"), "print('v2')\n")
		}},
		{name: "a new file", changed: true, change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "lib", "util.py"), "x = 1\n")
		}},
		{name: "the Dockerfile", changed: true, change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
		}},
		{name: "a build arg", changed: true, change: func(_ *testing.T, _ string, a *config.Artifact) {
			a.BuildArgs = map[string]string{"VERSION": "2"}
		}},
		{name: "the target", changed: true, change: func(_ *testing.T, _ string, a *config.Artifact) { a.Target = "dev" }},
		{name: "a file .dockerignore excludes", change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "docs", "README.md"), "changed\n")
		}},
		{name: "a file under an excluded directory", change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "node_modules", "x", "index.js"), "changed\n")
		}},
		{name: "a file the artifact's ignore excludes", change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "scratch.tmp"), "changed\n")
		}},
		{name: "a file re-included by an exclusion", changed: true, change: func(t *testing.T, dir string, _ *config.Artifact) {
			write(t, filepath.Join(dir, "docs", "keep.md"), "changed\n")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\nCOPY . .\n")
			write(t, filepath.Join(dir, "app.py"), "print('v1')\n")
			write(t, filepath.Join(dir, ".dockerignore"), "docs/\n!docs/keep.md\nnode_modules\n")
			write(t, filepath.Join(dir, "node_modules", "x", "index.js"), "v1\n")
			a := config.Artifact{Image: "app", Context: dir, Ignore: []string{"*.tmp"}}
			before, err := InputsHash(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, dir, &a)
			after, err := InputsHash(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			if got := before != after; got != tc.changed {
				t.Errorf("InputsHash changed = %v, want %v", got, tc.changed)
			}
		})
	}
}

func TestInputsHashCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	write(t, filepath.Join(dir, "a", "b"), "x")
	if _, err := InputsHash(ctx, config.Artifact{Image: "app", Context: dir}); err == nil {
		t.Error("InputsHash(cancelled ctx) = nil error, want the cancellation")
	}
}

func TestStateStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	s := NewStateStore(path)
	empty, err := s.Load("ctx|ns|target")
	if err != nil || empty.Applied != nil || len(empty.Builds) != 0 {
		t.Fatalf("Load() on a missing file = %+v, %v; want empty", empty, err)
	}
	a := &TargetState{
		Builds:  map[string]BuildState{"web": {Inputs: "sha256:1", Ref: "web:1", Digest: "sha256:d", LayoutDir: "/l"}},
		Applied: &AppliedState{Hash: "sha256:h", Digests: map[string]string{"web": "sha256:d"}, Refs: map[string]string{"web": "web:1"}},
	}
	b := &TargetState{Builds: map[string]BuildState{"web": {Inputs: "sha256:2"}}}
	if err := s.Save("a", a); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("b", b); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]*TargetState{"a": a, "b": b} {
		got, err := NewStateStore(path).Load(key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Load(%q) (-want +got):\n%s", key, diff)
		}
	}
}
