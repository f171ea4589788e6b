package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults for Options.
const (
	DefaultQuiet   = 200 * time.Millisecond
	DefaultMaxWait = 10 * time.Second
)

// Root is one tree (or file) to watch.
type Root struct {
	// Path is a directory, watched recursively, or a single file, watched through its
	// parent directory so that saves by rename are seen. It must exist. Relative
	// paths are relative to the working directory; symbolic links are resolved, and
	// the resolved path is the one reported.
	Path string
	// Ignore holds extra patterns, in .dockerignore syntax and relative to Path, whose
	// matches are not reported (and, for directories, not watched).
	Ignore []string
	// DockerIgnore applies Path/.dockerignore. The file is re-read when it changes.
	// Dockerfile and .dockerignore themselves are reported even when it excludes
	// them, because docker build reads them regardless.
	DockerIgnore bool
	// Keep lists more paths, relative to Path, that .dockerignore must not hide,
	// such as a Dockerfile at another location inside the context.
	Keep []string
}

// Options tunes a Watcher. The zero value is valid.
type Options struct {
	// Quiet is how long the tree must be still before a batch is sent
	// (default DefaultQuiet).
	Quiet time.Duration
	// MaxWait caps how long a batch waits for quiet after its first change
	// (default DefaultMaxWait), so a process that writes forever still triggers.
	MaxWait time.Duration
	// Warn receives problems that do not stop the watcher: the inotify watch limit
	// (a *LimitError, reported once), unreadable directories, a bad .dockerignore,
	// lost events. It is called from New and then from Run's goroutine, never
	// concurrently; it must not block. Nil drops them.
	Warn func(error)
}

// Batch is a set of changes that arrived together.
type Batch struct {
	// Paths are the changed paths: absolute, cleaned, sorted and unique. A deleted
	// path is a change too.
	Paths []string
	// Roots lists, in order, each root with at least one changed path (every root
	// when Overflow is set).
	Roots []RootChange
	// Overflow is set when the kernel dropped events: Paths are incomplete and
	// anything under any root may have changed.
	Overflow bool
	// First and Last are when the batch's first and last events were read.
	First, Last time.Time
}

// RootChange lists the changed paths that belong to one root.
type RootChange struct {
	Index int      // index of the root in the slice given to New
	Path  string   // the root's absolute path
	Paths []string // its changed paths, sorted; a subset of Batch.Paths
}

// Watcher watches roots and sends coalesced batches of changes. Create it with New,
// call Run once, read Batches.
type Watcher struct {
	fs      *fsnotify.Watcher
	filters []*rootFilter // only read and reloaded by New and Run's goroutine
	opts    Options
	batches chan Batch

	// addWatch is fs.Add; tests replace it to simulate the kernel's limits.
	addWatch func(dir string) error

	mu          sync.Mutex
	watched     map[string]struct{} // directories with an inotify watch
	limitWarned bool
	started     bool
	closed      bool
}

// New starts watching roots: every directory that matters has its watch when New
// returns, so changes made after that are reported once Run runs. ctx bounds the
// initial walk of the trees.
func New(ctx context.Context, roots []Root, opts Options) (*Watcher, error) {
	return newWatcher(ctx, roots, opts, nil)
}

// newWatcher is New with a hook around fsnotify's Add, for tests.
func newWatcher(ctx context.Context, roots []Root, opts Options, addWatch func(fsw *fsnotify.Watcher, dir string) error) (*Watcher, error) {
	if len(roots) == 0 {
		return nil, errors.New("watch: no roots to watch")
	}
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	w := &Watcher{opts: opts, batches: make(chan Batch), watched: map[string]struct{}{}}
	for _, r := range roots {
		f, err := newRootFilter(r)
		if err != nil {
			return nil, err
		}
		w.filters = append(w.filters, f)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		if errors.Is(err, syscall.EMFILE) {
			return nil, &LimitError{Sysctl: SysctlMaxUserInstances, Err: err}
		}
		return nil, fmt.Errorf("creating inotify watcher: %w", err)
	}
	w.fs = fsw
	w.addWatch = fsw.Add
	if addWatch != nil {
		w.addWatch = func(dir string) error { return addWatch(fsw, dir) }
	}
	for _, f := range w.filters {
		if f.file {
			w.addDir(filepath.Dir(f.path))
			continue
		}
		w.walk(ctx, f, f.path, nil)
	}
	if err := ctx.Err(); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching files: %w", err)
	}
	return w, nil
}

// Batches returns the channel batches are sent on. It is closed when Run returns.
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// WatchCount returns the number of inotify watches (directories) in use; 0 once
// the watcher is closed.
func (w *Watcher) WatchCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watched)
}

// Run reads file events, coalesces them and sends batches until ctx is done or Close
// is called; then it releases the watches, closes Batches and returns nil. It may be
// called once.
func (w *Watcher) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started || w.closed {
		w.mu.Unlock()
		return errors.New("watch: Run called twice or after Close")
	}
	w.started = true
	w.mu.Unlock()
	defer close(w.batches)
	defer w.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := make(chan change, 256)
	var wg sync.WaitGroup
	wg.Go(func() { w.process(ctx, changes) })

	paths := make([]string, len(w.filters))
	for i, f := range w.filters {
		paths[i] = f.path
	}
	c := newCoalescer(w.opts.Quiet, w.opts.MaxWait, paths, exists)
	c.run(ctx, changes, w.batches)
	cancel()
	wg.Wait()
	return nil
}

// Close releases the watches. It makes a running Run return; it is safe to call more
// than once and from any goroutine.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	clear(w.watched)
	w.mu.Unlock()
	if err := w.fs.Close(); err != nil {
		return fmt.Errorf("closing inotify watcher: %w", err)
	}
	return nil
}

func (w *Watcher) warn(err error) {
	if w.opts.Warn != nil {
		w.opts.Warn(err)
	}
}
