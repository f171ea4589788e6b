package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fsnotify/fsnotify"
)

// addDir puts an inotify watch on dir unless it has one. Failures degrade the watch
// instead of stopping it: a vanished directory is skipped silently, the watch limit
// is reported once, anything else is reported each time.
func (w *Watcher) addDir(dir string) {
	w.mu.Lock()
	_, ok := w.watched[dir]
	w.mu.Unlock()
	if ok {
		return
	}
	err := w.addWatch(dir)
	switch {
	case err == nil:
		w.mu.Lock()
		w.watched[dir] = struct{}{}
		w.mu.Unlock()
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fsnotify.ErrClosed):
	case errors.Is(err, syscall.ENOSPC):
		w.mu.Lock()
		first := !w.limitWarned
		w.limitWarned = true
		n := len(w.watched)
		w.mu.Unlock()
		if first {
			w.warn(&LimitError{Sysctl: SysctlMaxUserWatches, Path: dir, Watches: n, Err: err})
		}
	default:
		w.warn(fmt.Errorf("watching %s: %w", dir, err))
	}
}

// walk watches start and the directories below it that f does not skip. found, if
// not nil, is called for every path below start that f does not ignore; it returns
// false to stop the walk.
func (w *Watcher) walk(ctx context.Context, f *rootFilter, start string, found func(string) bool) {
	stop := errors.New("stop")
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return stop
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.warn(fmt.Errorf("walking %s: %w", p, err))
			}
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := f.rel(p)
		if d.IsDir() {
			if rel != "." && f.skipDir(rel) {
				return filepath.SkipDir
			}
			w.addDir(p)
		}
		if found != nil && p != start && !f.ignored(rel) && !found(p) {
			return stop
		}
		return nil
	})
	_ = err // stop, or nil: WalkDir reports other errors through the callback
}

// forget drops the watches of a removed or renamed directory and of everything below
// it. inotify already dropped them for a removal; a renamed directory keeps its
// watches under the old names, which would report wrong paths.
func (w *Watcher) forget(p string) {
	w.mu.Lock()
	if _, ok := w.watched[p]; !ok {
		w.mu.Unlock()
		return
	}
	var gone []string
	for d := range w.watched {
		if d == p || strings.HasPrefix(d, p+string(filepath.Separator)) {
			gone = append(gone, d)
			delete(w.watched, d)
		}
	}
	w.mu.Unlock()
	for _, d := range gone {
		_ = w.fs.Remove(d) // fails harmlessly when the kernel already removed it
	}
}

// process turns fsnotify events into changes on out until ctx is done or the
// fsnotify watcher is closed. It closes out when it returns.
func (w *Watcher) process(ctx context.Context, out chan<- change) {
	defer close(out)
	emit := func(c change) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok || !w.handle(ctx, ev, emit) {
				return
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.warn(fmt.Errorf("file events were lost (kernel queue overflow), treating every root as changed: %w", err))
				if !emit(change{overflow: true}) {
					return
				}
				continue
			}
			w.warn(fmt.Errorf("watching files: %w", err))
		}
	}
}

// handle processes one event; it returns false when ctx is done.
func (w *Watcher) handle(ctx context.Context, ev fsnotify.Event, emit func(change) bool) bool {
	if ev.Name == "" || !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename) {
		return true // Chmod only: touch, chmod, and indexers that update atime
	}
	p := filepath.Clean(ev.Name)
	created := ev.Has(fsnotify.Create)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		w.forget(p)
	}
	for _, f := range w.filters {
		if !f.isDockerIgnoreFile(p) {
			continue
		}
		if err := f.loadDockerIgnore(); err != nil {
			w.warn(fmt.Errorf("keeping the previous ignore patterns: %w", err))
			continue
		}
		// Directories it no longer excludes need watches now. Watches on newly
		// excluded ones stay: their events are filtered out.
		w.walk(ctx, f, f.path, nil)
	}
	if created {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() && !w.addTree(ctx, p, emit) {
			return false
		}
	}
	var roots []int
	for i, f := range w.filters {
		if f.match(p) {
			roots = append(roots, i)
		}
	}
	if len(roots) == 0 {
		return ctx.Err() == nil
	}
	return emit(change{path: p, roots: roots, created: created})
}

// addTree watches a directory that appeared (created, or moved in) and reports what
// is already inside it: files written before its watch existed would be missed.
func (w *Watcher) addTree(ctx context.Context, dir string, emit func(change) bool) bool {
	for i, f := range w.filters {
		if f.file {
			continue
		}
		rel, ok := f.rel(dir)
		if !ok || (rel != "." && f.skipDir(rel)) {
			continue
		}
		w.walk(ctx, f, dir, func(p string) bool {
			return emit(change{path: p, roots: []int{i}, created: true})
		})
	}
	return ctx.Err() == nil
}
