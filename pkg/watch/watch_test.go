package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestWatcherReportsChanges(t *testing.T) {
	tests := []struct {
		name   string
		tree   []string // created before the watcher starts
		ignore string   // .dockerignore content, none when empty
		root   Root     // Path is set by the test
		action func(t *testing.T, dir string)
		want   []string // besides the sentinel
	}{{
		name:   "create",
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "a.txt"), "a") },
		want:   []string{"a.txt"},
	}, {
		name:   "modify in place",
		tree:   []string{"a.txt"},
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "a.txt"), "changed") },
		want:   []string{"a.txt"},
	}, {
		name:   "delete",
		tree:   []string{"a.txt"},
		action: func(t *testing.T, d string) { mustDo(t, os.Remove(filepath.Join(d, "a.txt"))) },
		want:   []string{"a.txt"},
	}, {
		name: "save by rename: the temporary file is not reported",
		tree: []string{"app.py"},
		action: func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "app.py.new"), "v2")
			mustDo(t, os.Rename(filepath.Join(d, "app.py.new"), filepath.Join(d, "app.py")))
		},
		want: []string{"app.py"},
	}, {
		name: "sed -i",
		tree: []string{"a.txt"},
		action: func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "sedK3x9Qa"), "v2")
			mustDo(t, os.Rename(filepath.Join(d, "sedK3x9Qa"), filepath.Join(d, "a.txt")))
		},
		want: []string{"a.txt"},
	}, {
		name: "vim save",
		tree: []string{"app.py"},
		action: func(t *testing.T, d string) {
			p := filepath.Join(d, "app.py")
			writeFile(t, filepath.Join(d, ".app.py.swp"), "swap")
			writeFile(t, filepath.Join(d, "4913"), "")
			mustDo(t, os.Remove(filepath.Join(d, "4913")))
			mustDo(t, os.Rename(p, p+"~"))
			writeFile(t, p, "v2")
			mustDo(t, os.Remove(p+"~"))
			mustDo(t, os.Remove(filepath.Join(d, ".app.py.swp")))
		},
		want: []string{"app.py"},
	}, {
		name: "JetBrains safe write",
		tree: []string{"app.py"},
		action: func(t *testing.T, d string) {
			p := filepath.Join(d, "app.py")
			writeFile(t, p+"___jb_tmp___", "v2")
			mustDo(t, os.Rename(p, p+"___jb_old___"))
			mustDo(t, os.Rename(p+"___jb_tmp___", p))
			mustDo(t, os.Remove(p+"___jb_old___"))
		},
		want: []string{"app.py"},
	}, {
		name:   "emacs lock file",
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, ".#app.py"), "me@host") },
	}, {
		name: "new directories and their files",
		action: func(t *testing.T, d string) {
			mustDo(t, os.MkdirAll(filepath.Join(d, "a", "b"), 0o755))
			writeFile(t, filepath.Join(d, "a", "b", "f"), "f")
		},
		want: []string{"a", "a/b", "a/b/f"},
	}, {
		name:   "removed directory",
		tree:   []string{"d/x", "d/e/y"},
		action: func(t *testing.T, d string) { mustDo(t, os.RemoveAll(filepath.Join(d, "d"))) },
		want:   []string{"d", "d/e", "d/e/y", "d/x"},
	}, {
		name: "renamed directory keeps reporting under its new name",
		tree: []string{"d/x", "d/sub/y"},
		action: func(t *testing.T, d string) {
			mustDo(t, os.Rename(filepath.Join(d, "d"), filepath.Join(d, "d2")))
			writeFile(t, filepath.Join(d, "d2", "sub", "new"), "n")
		},
		want: []string{"d", "d2", "d2/sub", "d2/sub/new", "d2/sub/y", "d2/x"},
	}, {
		name:   "chmod only",
		tree:   []string{"a.txt"},
		action: func(t *testing.T, d string) { mustDo(t, os.Chmod(filepath.Join(d, "a.txt"), 0o600)) },
	}, {
		name:   ".git",
		tree:   []string{".git/HEAD"},
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, ".git", "index"), "i") },
	}, {
		name:   "dockerignored file",
		ignore: "*.log\n",
		root:   Root{DockerIgnore: true},
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "debug.log"), "l") },
	}, {
		name:   "file in a dockerignored directory",
		tree:   []string{"build/"},
		ignore: "build\n",
		root:   Root{DockerIgnore: true},
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "build", "out"), "o") },
	}, {
		name:   "dockerignore exception inside an ignored directory",
		tree:   []string{"node_modules/keep/", "node_modules/other/"},
		ignore: "node_modules\n!node_modules/keep\n",
		root:   Root{DockerIgnore: true},
		action: func(t *testing.T, d string) {
			writeFile(t, filepath.Join(d, "node_modules", "keep", "a.js"), "a")
			writeFile(t, filepath.Join(d, "node_modules", "other", "b.js"), "b")
		},
		want: []string{"node_modules/keep/a.js"},
	}, {
		name:   "Dockerfile excluded by .dockerignore is still reported",
		ignore: "Dockerfile\n.dockerignore\n",
		root:   Root{DockerIgnore: true},
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "Dockerfile"), "FROM scratch") },
		want:   []string{"Dockerfile"},
	}, {
		name:   "caller ignore pattern",
		root:   Root{Ignore: []string{"*.bak"}},
		action: func(t *testing.T, d string) { writeFile(t, filepath.Join(d, "x.bak"), "b") },
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mkTree(t, dir, tc.tree...)
			if tc.ignore != "" {
				writeFile(t, filepath.Join(dir, ".dockerignore"), tc.ignore)
			}
			root := tc.root
			root.Path = dir
			w, ws := newStarted(t, []Root{root}, Options{})
			tc.action(t, dir)
			want := append(tc.want, sentinel)
			if diff := cmp.Diff(want, changed(t, w, dir)); diff != "" {
				t.Errorf("changed paths (-want +got):\n%s", diff)
			}
			if errs := ws.all(); len(errs) > 0 {
				t.Errorf("warnings: %v", errs)
			}
		})
	}
}

func TestWatcherWatchCountFollowsDirectories(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "d/e/f/")
	w, _ := newStarted(t, []Root{{Path: dir}}, Options{})
	if got, want := w.WatchCount(), 4; got != want {
		t.Fatalf("WatchCount() = %d, want %d (root, d, d/e, d/e/f)", got, want)
	}

	mustDo(t, os.Mkdir(filepath.Join(dir, "new"), 0o755))
	changed(t, w, dir)
	if got, want := w.WatchCount(), 5; got != want {
		t.Errorf("after mkdir: WatchCount() = %d, want %d", got, want)
	}
	writeFile(t, filepath.Join(dir, "new", "f"), "f")
	if diff := cmp.Diff([]string{"new/f", sentinel}, changed(t, w, dir)); diff != "" {
		t.Errorf("file in a new directory (-want +got):\n%s", diff)
	}

	mustDo(t, os.RemoveAll(filepath.Join(dir, "d")))
	changed(t, w, dir)
	if got, want := w.WatchCount(), 2; got != want {
		t.Errorf("after rm -r d: WatchCount() = %d, want %d", got, want)
	}
}

func TestWatcherRenamedDirectoryReportsNewNames(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "d/sub/y")
	w, _ := newStarted(t, []Root{{Path: dir}}, Options{})
	mustDo(t, os.Rename(filepath.Join(dir, "d"), filepath.Join(dir, "d2")))
	changed(t, w, dir)
	// inotify watches follow the inode: without dropping them on rename, this write
	// would be reported under the old name d/sub/y.
	writeFile(t, filepath.Join(dir, "d2", "sub", "y"), "v2")
	if diff := cmp.Diff([]string{"d2/sub/y", sentinel}, changed(t, w, dir)); diff != "" {
		t.Errorf("after renaming d to d2 (-want +got):\n%s", diff)
	}
	if got, want := w.WatchCount(), 3; got != want {
		t.Errorf("WatchCount() = %d, want %d (root, d2, d2/sub)", got, want)
	}
}

func TestWatcherBurstIsOneBatch(t *testing.T) {
	dir := t.TempDir()
	w, _ := newStarted(t, []Root{{Path: dir}}, Options{Quiet: DefaultQuiet})
	var want []string
	for i := range 50 {
		p := filepath.Join(dir, "f"+string(rune('a'+i/26))+string(rune('a'+i%26)))
		want = append(want, p)
		writeFile(t, p, "x")
		time.Sleep(2 * time.Millisecond) // 50 writes over ~100 ms
	}
	select {
	case b := <-w.Batches():
		if diff := cmp.Diff(want, b.Paths); diff != "" {
			t.Errorf("batch paths (-want +got):\n%s", diff)
		}
		if got := b.Last.Sub(b.First); got > 500*time.Millisecond {
			t.Errorf("batch spans %v, want the ~100 ms of the burst", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no batch 5s after the burst")
	}
	select {
	case b := <-w.Batches():
		t.Errorf("second batch %v, want the burst in one", b.Paths)
	case <-time.After(3 * DefaultQuiet):
	}
}

func TestWatcherDoesNotWatchIgnoredDirectories(t *testing.T) {
	tests := []struct {
		name   string
		ignore string
		root   Root
		want   int
	}{
		{"nothing ignored", "", Root{}, 1 + 2 + 1 + 1000},
		{"dockerignored", "node_modules\n", Root{DockerIgnore: true}, 1 + 2},
		{"dockerignore with an exception", "node_modules\n!node_modules/d7\n", Root{DockerIgnore: true}, 1 + 2 + 1 + 1},
		{"caller ignore", "", Root{Ignore: []string{"node_modules"}}, 1 + 2},
	}
	dir := t.TempDir()
	mkTree(t, dir, "src/pkg/main.go")
	for i := range 1000 {
		mustDo(t, os.MkdirAll(filepath.Join(dir, "node_modules", fmt.Sprintf("d%d", i)), 0o755))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustDo(t, os.RemoveAll(filepath.Join(dir, ".dockerignore")))
			if tc.ignore != "" {
				writeFile(t, filepath.Join(dir, ".dockerignore"), tc.ignore)
			}
			root := tc.root
			root.Path = dir
			w, err := New(t.Context(), []Root{root}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if got := w.WatchCount(); got != tc.want {
				t.Errorf("WatchCount() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestWatcherWatchLimit(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "a/", "b/", "c/", "d/", "e/")
	const limit = 3
	adds := 0
	addWatch := func(fsw *fsnotify.Watcher, dir string) error {
		if adds >= limit {
			return syscall.ENOSPC // what inotify_add_watch returns past max_user_watches
		}
		adds++
		return fsw.Add(dir)
	}
	ws := &warnings{}
	w, err := newWatcher(t.Context(), []Root{{Path: dir}}, Options{Quiet: 50 * time.Millisecond, Warn: ws.add}, addWatch)
	if err != nil {
		t.Fatalf("newWatcher() = %v, want a degraded watcher", err)
	}
	start(t, w)
	if got := w.WatchCount(); got != limit {
		t.Errorf("WatchCount() = %d, want %d", got, limit)
	}

	mustDo(t, os.Mkdir(filepath.Join(dir, "later"), 0o755)) // fails to watch too
	if diff := cmp.Diff([]string{"later", sentinel}, changed(t, w, dir)); diff != "" {
		t.Errorf("degraded watcher (-want +got):\n%s", diff)
	}
	errs := ws.all()
	if len(errs) != 1 {
		t.Fatalf("warnings = %v, want exactly one", errs)
	}
	var le *LimitError
	if !errors.As(errs[0], &le) || !errors.Is(errs[0], syscall.ENOSPC) {
		t.Fatalf("warning = %#v, want a *LimitError wrapping ENOSPC", errs[0])
	}
	if le.Watches != limit || le.Hint() != "sudo sysctl fs.inotify.max_user_watches=524288" {
		t.Errorf("LimitError = %+v (hint %q), want %d watches and the sysctl hint", le, le.Hint(), limit)
	}
	t.Logf("warning: %v", le)
}

func TestWatcherRunStopsOnCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	w, err := New(t.Context(), []Root{{Path: dir}}, Options{Quiet: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	// A batch becomes ready and nobody reads it: Run must not hang on the send.
	writeFile(t, filepath.Join(dir, "a"), "a")
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1s of cancel")
	}
	if _, ok := <-w.Batches(); ok {
		t.Error("Batches still open after Run returned")
	}
	if err := w.Run(t.Context()); err == nil {
		t.Error("second Run() = nil, want an error")
	}
}

func TestWatcherCloseStopsRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	w, err := New(t.Context(), []Root{{Path: dir}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(t.Context()) }()
	time.Sleep(20 * time.Millisecond)
	mustDo(t, w.Close())
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1s of Close")
	}
	if got := w.WatchCount(); got != 0 {
		t.Errorf("WatchCount() after Close = %d, want 0", got)
	}
	mustDo(t, w.Close())
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		roots []Root
	}{
		{"no roots", t.Context(), nil},
		{"missing root", t.Context(), []Root{{Path: filepath.Join(dir, "missing")}}},
		{"canceled", canceled, []Root{{Path: dir}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.ctx, tc.roots, Options{})
			if err == nil {
				w.Close()
				t.Errorf("New(%v) = nil error, want one", tc.roots)
			}
		})
	}
}
