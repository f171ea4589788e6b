package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/devloop/devloop/pkg/watch"
)

// WatchConfig sizes the watcher scenario's tree: SrcDirs directories of
// FilesPerDir files that are watched, and IgnoredFiles files under a
// dockerignored node_modules (10 per directory) that must cost no watch.
type WatchConfig struct {
	SrcDirs, FilesPerDir, IgnoredFiles int
	// Idle is how long idle CPU is measured.
	Idle time.Duration
	// Saves is how many saves the latency median is taken over.
	Saves int
}

// watchScenario measures pkg/watch on a large tree: what New costs, how many
// inotify watches it holds, the CPU it burns while nothing changes, and how long
// a save takes to come out as a batch.
func (b *bencher) watchScenario(ctx context.Context, rep *Report) error {
	wc := b.cfg.Watch
	root := filepath.Join(b.tmp, "watch-tree")
	start := time.Now()
	dirs, err := writeTree(root, wc)
	if err != nil {
		return fmt.Errorf("writing the tree: %w", err)
	}
	files := wc.SrcDirs*wc.FilesPerDir + wc.IgnoredFiles
	fmt.Fprintf(b.log, "  tree of %d files in %d directories written in %s\n", files, dirs, seconds(time.Since(start)))

	var warnings []string
	cpu0, wall0 := cpuTime(), time.Now()
	w, err := watch.New(ctx, []watch.Root{{Path: root, DockerIgnore: true}}, watch.Options{
		Warn: func(err error) { warnings = append(warnings, err.Error()) },
	})
	if err != nil {
		return err
	}
	defer w.Close()
	newWall, newCPU := time.Since(wall0), cpuTime()-cpu0
	count, kernel := w.WatchCount(), kernelWatches()

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(rctx) }()
	defer func() { cancel(); <-done }()

	cpu0, wall0 = cpuTime(), time.Now()
	select {
	case <-time.After(wc.Idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	idle := 100 * (cpuTime() - cpu0).Seconds() / time.Since(wall0).Seconds()

	var total, read []time.Duration
	for i := range wc.Saves {
		p := filepath.Join(root, "src", fmt.Sprintf("pkg%03d", i%wc.SrcDirs), "f000.go")
		t0 := time.Now()
		if err := os.WriteFile(p, fmt.Appendf(nil, "package x // save %d\n", i), 0o644); err != nil {
			return err
		}
		select {
		case batch, ok := <-w.Batches():
			if !ok {
				return errors.New("the watcher stopped")
			}
			total = append(total, time.Since(t0))
			read = append(read, batch.First.Sub(t0))
			if len(batch.Paths) != 1 || batch.Paths[0] != p {
				return fmt.Errorf("save %d: batch %v, want [%s]", i+1, batch.Paths, p)
			}
		case <-time.After(30 * time.Second):
			return fmt.Errorf("save %d: no batch within 30s", i+1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sec := fmt.Sprintf("watcher (pkg/watch) on %d files in %d directories, %d of the files under a dockerignored node_modules",
		files, dirs, wc.IgnoredFiles)
	add := func(n, v string) { rep.Facts = append(rep.Facts, Fact{Section: sec, Name: n, Value: v}) }
	add("inotify watches", fmt.Sprintf("%d (kernel: %d); node_modules unwatched", count, kernel))
	add("start (watch.New)", fmt.Sprintf("%s wall, %s CPU", millis(newWall), millis(newCPU)))
	add("idle CPU", fmt.Sprintf("%.2f%% of one core over %s", idle, wc.Idle))
	add("save → batch, median", fmt.Sprintf("%s (quiet period %s; event read after %s); %d saves",
		seconds(median(total)), watch.DefaultQuiet, millis(median(read)), wc.Saves))
	add("save → batch beyond quiet, median", millis(median(total)-watch.DefaultQuiet))
	for _, wn := range warnings {
		add("warning", wn)
	}
	return nil
}

// writeTree writes the watcher's tree and returns how many directories it has.
func writeTree(root string, wc WatchConfig) (int, error) {
	dirs := 2 // root, src
	if err := os.MkdirAll(filepath.Join(root, "src"), 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(root, ".dockerignore"), []byte("node_modules\n"), 0o644); err != nil {
		return 0, err
	}
	write := func(dir string, n int, name string) error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		dirs++
		for j := range n {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(name, j)), []byte("x\n"), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range wc.SrcDirs {
		if err := write(filepath.Join(root, "src", fmt.Sprintf("pkg%03d", i)), wc.FilesPerDir, "f%03d.go"); err != nil {
			return 0, err
		}
	}
	const perDir, dirsPerPkg = 10, 10
	for i := range (wc.IgnoredFiles + perDir*dirsPerPkg - 1) / (perDir * dirsPerPkg) {
		for j := range dirsPerPkg {
			left := wc.IgnoredFiles - (i*dirsPerPkg+j)*perDir
			if left <= 0 {
				break
			}
			d := filepath.Join(root, "node_modules", fmt.Sprintf("p%04d", i), fmt.Sprintf("lib%d", j))
			if err := write(d, min(perDir, left), "m%d.js"); err != nil {
				return 0, err
			}
		}
		dirs++ // the package directory
	}
	if wc.IgnoredFiles > 0 {
		dirs++ // node_modules
	}
	return dirs, nil
}

// cpuTime returns the user + system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// kernelWatches counts the inotify watches this process holds, as the kernel
// lists them in /proc/self/fdinfo; -1 when it cannot tell.
func kernelWatches() int {
	entries, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		f, err := os.Open(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue // closed meanwhile (ReadDir's own, for one)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "inotify wd:") {
				n++
			}
		}
		f.Close()
	}
	return n
}
