package watch

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestIntegrationWatcherLargeTree watches a tree of 21,000 files, half of them under
// a dockerignored node_modules, and checks the watch count, that the watcher does
// not spin while idle, and that it still reports changes. Slow (~15 s): skipped by
// -short.
func TestIntegrationWatcherLargeTree(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds a 21k-file tree and measures idle CPU for 10s")
	}
	dir := t.TempDir()
	startMk := time.Now()
	srcDirs, depDirs := 0, 0
	for i := range 100 { // src: 100 dirs x 100 files
		d := filepath.Join(dir, "src", fmt.Sprintf("pkg%03d", i))
		mustDo(t, os.MkdirAll(d, 0o755))
		srcDirs++
		for j := range 100 {
			writeFile(t, filepath.Join(d, fmt.Sprintf("f%03d.go", j)), "package x\n")
		}
	}
	for i := range 100 { // node_modules: 100 packages x 10 dirs x 10 files + package.json
		for j := range 10 {
			d := filepath.Join(dir, "node_modules", fmt.Sprintf("p%03d", i), fmt.Sprintf("lib%d", j))
			mustDo(t, os.MkdirAll(d, 0o755))
			depDirs++
			for k := range 10 {
				writeFile(t, filepath.Join(d, fmt.Sprintf("m%d.js", k)), "x\n")
			}
		}
		writeFile(t, filepath.Join(dir, "node_modules", fmt.Sprintf("p%03d", i), "package.json"), "{}\n")
	}
	writeFile(t, filepath.Join(dir, ".dockerignore"), "node_modules\n")
	t.Logf("tree: 10000 files in %d dirs under src, 10100 files in %d dirs under node_modules (ignored); created in %v",
		srcDirs, depDirs+100, time.Since(startMk).Round(time.Millisecond))

	cpu0, wall0 := cpuTime(t), time.Now()
	w, err := New(t.Context(), []Root{{Path: dir, DockerIgnore: true}}, Options{Warn: func(err error) { t.Errorf("warning: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("New: %v wall, %v CPU", time.Since(wall0).Round(time.Millisecond), (cpuTime(t) - cpu0).Round(time.Millisecond))
	wantWatches := 1 + 1 + srcDirs // root, src, src/pkg*
	got, kernel := w.WatchCount(), kernelWatches(t)
	t.Logf("watches: WatchCount()=%d, kernel (/proc/self/fdinfo)=%d; %d directories in the tree", got, kernel, 2+srcDirs+1+100+depDirs)
	if got != wantWatches || kernel != wantWatches {
		t.Errorf("WatchCount() = %d, kernel watches = %d, want %d: node_modules must not be watched", got, kernel, wantWatches)
	}

	start(t, w)
	const idle = 10 * time.Second
	cpu0, wall0 = cpuTime(t), time.Now()
	time.Sleep(idle)
	cpu, wall := cpuTime(t)-cpu0, time.Since(wall0)
	pct := 100 * cpu.Seconds() / wall.Seconds()
	t.Logf("idle: %v CPU over %v = %.2f%% of a core", cpu.Round(time.Microsecond), wall.Round(time.Millisecond), pct)
	if pct >= 5 {
		t.Errorf("idle CPU = %.2f%%, want < 5%%: the watcher is spinning", pct)
	}

	write := time.Now()
	writeFile(t, filepath.Join(dir, "node_modules", "p050", "lib5", "m5.js"), "ignored\n")
	writeFile(t, filepath.Join(dir, "src", "pkg050", "f050.go"), "package x // v2\n")
	if diff := cmp.Diff([]string{"src/pkg050/f050.go", sentinel}, changed(t, w, dir)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	t.Logf("save to batch: %v (quiet period %v)", time.Since(write).Round(time.Millisecond), DefaultQuiet)
}

// cpuTime returns the CPU time (user + system) this process has used.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// kernelWatches counts the inotify watches this process holds, as the kernel lists
// them in /proc/self/fdinfo.
func kernelWatches(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Skipf("no /proc/self/fdinfo: %v", err)
	}
	n := 0
	for _, e := range entries {
		f, err := os.Open(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue // the fd was closed meanwhile (ReadDir's own, for one)
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

// BenchmarkWatcherLatency measures save-to-batch latency: ns/op is the whole wait,
// µs-to-read the time until the watcher read the event, µs-after-quiet what the
// batch took beyond the quiet period.
func BenchmarkWatcherLatency(b *testing.B) {
	for _, quiet := range []time.Duration{time.Millisecond, DefaultQuiet} {
		b.Run("quiet="+quiet.String(), func(b *testing.B) {
			dir := b.TempDir()
			w, err := New(b.Context(), []Root{{Path: dir}}, Options{Quiet: quiet})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(b.Context())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			defer func() { cancel(); <-done }()
			p := filepath.Join(dir, "main.go")
			var toRead, afterQuiet time.Duration
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				writeFile(b, p, fmt.Sprint(i))
				batch := <-w.Batches()
				now := time.Now()
				toRead += batch.First.Sub(t0)
				afterQuiet += now.Sub(batch.Last) - quiet
			}
			b.ReportMetric(float64(toRead.Microseconds())/float64(b.N), "µs-to-read/op")
			b.ReportMetric(float64(afterQuiet.Microseconds())/float64(b.N), "µs-after-quiet/op")
		})
	}
}
