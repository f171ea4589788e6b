package watch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWatcherRoots(t *testing.T) {
	repo := t.TempDir()
	app := filepath.Join(repo, "app")
	mkTree(t, repo, "app/app.py", "app/k8s/app.yaml", "app/devloop.yaml", "README.md")
	writeFile(t, filepath.Join(app, ".dockerignore"), "k8s/\ndevloop.yaml\n")
	roots := []Root{
		{Path: app, DockerIgnore: true},
		{Path: filepath.Join(app, "k8s")},
		{Path: filepath.Join(app, "devloop.yaml")},
	}
	w, _ := newStarted(t, roots, Options{})

	tests := []struct {
		name   string
		action func(t *testing.T)
		want   []RootChange
	}{
		{"source file", func(t *testing.T) { writeFile(t, filepath.Join(app, "app.py"), "v2") },
			[]RootChange{{Index: 0, Path: app, Paths: []string{filepath.Join(app, "app.py")}}}},
		{"manifest, dockerignored in the context", func(t *testing.T) { writeFile(t, filepath.Join(app, "k8s", "app.yaml"), "v2") },
			[]RootChange{{Index: 1, Path: filepath.Join(app, "k8s"), Paths: []string{filepath.Join(app, "k8s", "app.yaml")}}}},
		{"config file saved by rename", func(t *testing.T) {
			tmp := filepath.Join(app, ".devloop.yaml.tmp1234")
			writeFile(t, tmp, "v2")
			mustDo(t, os.Rename(tmp, filepath.Join(app, "devloop.yaml")))
		}, []RootChange{{Index: 2, Path: filepath.Join(app, "devloop.yaml"), Paths: []string{filepath.Join(app, "devloop.yaml")}}}},
		{"file outside every root", func(t *testing.T) { writeFile(t, filepath.Join(repo, "README.md"), "v2") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.action(t)
			writeFile(t, filepath.Join(app, "k8s", sentinel), "s")
			var got []RootChange
			for {
				var b Batch
				select {
				case b = <-w.Batches():
				case <-time.After(10 * time.Second):
					t.Fatal("no batch with the sentinel after 10s")
				}
				done := false
				for _, rc := range b.Roots {
					if rc.Index == 1 {
						rc.Paths = slices.DeleteFunc(rc.Paths, func(p string) bool { return p == filepath.Join(app, "k8s", sentinel) })
						done = true
						if len(rc.Paths) == 0 {
							continue
						}
					}
					got = append(got, rc)
				}
				if done {
					break
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Roots (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWatcherReloadsDockerignore(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "gen/a")
	writeFile(t, filepath.Join(dir, ".dockerignore"), "gen\n")
	w, _ := newStarted(t, []Root{{Path: dir, DockerIgnore: true}}, Options{})
	before := w.WatchCount()

	writeFile(t, filepath.Join(dir, ".dockerignore"), "# nothing ignored\n")
	if diff := cmp.Diff([]string{".dockerignore", sentinel}, changed(t, w, dir)); diff != "" {
		t.Errorf("after editing .dockerignore (-want +got):\n%s", diff)
	}
	if got := w.WatchCount(); got != before+1 {
		t.Errorf("WatchCount() = %d, want %d: gen is no longer ignored", got, before+1)
	}
	writeFile(t, filepath.Join(dir, "gen", "a"), "v2")
	if diff := cmp.Diff([]string{"gen/a", sentinel}, changed(t, w, dir)); diff != "" {
		t.Errorf("file in the formerly ignored directory (-want +got):\n%s", diff)
	}
}

func TestWatcherSymlinkedRoot(t *testing.T) {
	real, err := filepath.EvalSymlinks(t.TempDir())
	mustDo(t, err)
	mkTree(t, real, "sub/a")
	link := filepath.Join(t.TempDir(), "link")
	mustDo(t, os.Symlink(real, link))
	w, _ := newStarted(t, []Root{{Path: link}}, Options{})
	if got, want := w.WatchCount(), 2; got != want {
		t.Errorf("WatchCount() = %d, want %d (the linked directory and sub)", got, want)
	}
	writeFile(t, filepath.Join(link, "sub", "a"), "v2")
	if diff := cmp.Diff([]string{"sub/a", sentinel}, changed(t, w, real)); diff != "" {
		t.Errorf("changes through a symlinked root (-want +got):\n%s", diff)
	}
}
