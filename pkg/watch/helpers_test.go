package watch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sentinel is written after each test action: once a batch holds it, every event of
// the action has been read (inotify queues the events of one instance in order).
const sentinel = "zz-sentinel"

// warnings collects what a Watcher reports through Options.Warn.
type warnings struct {
	mu   sync.Mutex
	errs []error
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

func (w *warnings) all() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.errs)
}

// start runs w until the test ends and checks that Run returns promptly then.
func start(t *testing.T, w *Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return 5s after cancel")
		}
	})
}

// newStarted creates a watcher with a short quiet period (unless opts sets one) and
// runs it for the duration of the test.
func newStarted(t *testing.T, roots []Root, opts Options) (*Watcher, *warnings) {
	t.Helper()
	ws := &warnings{}
	if opts.Quiet == 0 {
		opts.Quiet = 50 * time.Millisecond
	}
	opts.Warn = ws.add
	w, err := New(t.Context(), roots, opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	start(t, w)
	return w, ws
}

// changed writes the sentinel into dir and returns the paths of every batch up to
// the one holding it, relative to dir, sorted and unique.
func changed(t *testing.T, w *Watcher, dir string) []string {
	t.Helper()
	writeFile(t, filepath.Join(dir, sentinel), "s")
	want := filepath.Join(dir, sentinel)
	seen := map[string]bool{}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatal("Batches closed before the sentinel arrived")
			}
			for _, p := range b.Paths {
				rel, err := filepath.Rel(dir, p)
				if err != nil || strings.HasPrefix(rel, "..") {
					rel = p
				}
				seen[filepath.ToSlash(rel)] = true
			}
			if slices.Contains(b.Paths, want) {
				return slices.Sorted(func(yield func(string) bool) {
					for p := range seen {
						if !yield(p) {
							return
						}
					}
				})
			}
		case <-timeout:
			t.Fatalf("no batch with the sentinel after 10s; saw %v", seen)
		}
	}
}

// mkTree creates files (and, for names ending in "/", directories) under dir.
func mkTree(t *testing.T, dir string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e))
		if strings.HasSuffix(e, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, "x")
	}
}

// writeFile writes in place (truncate + write), like an editor that does not save by
// rename, creating the file if needed.
func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
