package app

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// soakIterations is how many edits TestIntegrationSoakDev makes:
// DEVLOOP_SOAK_ITERATIONS, default 20 (the 200 take ~15 min here).
func soakIterations(t *testing.T) int {
	t.Helper()
	v := os.Getenv("DEVLOOP_SOAK_ITERATIONS")
	if v == "" {
		return 20
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 6 {
		t.Fatalf("DEVLOOP_SOAK_ITERATIONS=%q: want a number ≥ 6", v)
	}
	return n
}

// soakFigures is what the soak watches.
type soakFigures struct {
	goroutines int
	rssKiB     int
	heapKiB    uint64
	tempFiles  int // devloop-* entries in the temp directory
	blobs      int // blobs in the artifact's OCI layout
	cacheFiles int // every file under the project's cache directory
}

func measure(t *testing.T, cacheRoot string) soakFigures {
	t.Helper()
	runtime.GC()
	time.Sleep(200 * time.Millisecond) // let exiting goroutines finish
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f := soakFigures{goroutines: runtime.NumGoroutine(), heapKiB: ms.HeapInuse / 1024}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				f.rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	tmp, _ := filepath.Glob(filepath.Join(os.TempDir(), "devloop-*"))
	f.tempFiles = len(tmp)
	blobs, _ := filepath.Glob(filepath.Join(cacheRoot, "devloop", "*", "images", "*", "*", "blobs", "sha256", "*"))
	if len(blobs) == 0 {
		blobs, _ = filepath.Glob(filepath.Join(cacheRoot, "devloop", "*", "images", "*", "blobs", "sha256", "*"))
	}
	f.blobs = len(blobs)
	filepath.WalkDir(filepath.Join(cacheRoot, "devloop"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			f.cacheFiles++
		}
		return nil
	})
	return f
}

// TestIntegrationSoakDev runs devloop dev (port-forward and log tailing on) through
// DEVLOOP_SOAK_ITERATIONS edits of the app and checks that goroutines, memory,
// temp files and the OCI layout's blobs stay flat.
func TestIntegrationSoakDev(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	n := soakIterations(t)
	project := uniqueName("it-soak")
	cfg, _ := example(t, project, "target:\n  type: containerd\n")
	cacheRoot := os.Getenv("XDG_CACHE_HOME") // example's, the test's own
	deleteNamespaceAtEnd(t, cs, project)
	app := filepath.Join(filepath.Dir(cfg), "app.py")
	tempBefore := measure(t, cacheRoot).tempFiles

	d := startDevloop(t, "dev", "-o", "json", "--port-forward", "-f", cfg, "--context", env.Context)
	if end := d.waitIteration(1, 3*time.Minute); end.Status != event.StatusSuccess {
		t.Fatalf("iteration 1 = %s %q, want success", end.Status, end.Message)
	}
	const warmup = 5 // the layout holds keepImages (3) images from here on
	var warm soakFigures
	start := time.Now()
	for i := 1; i <= n; i++ {
		appendLine(t, app, "soak edit "+strconv.Itoa(i))
		if end := d.waitIteration(i+1, 3*time.Minute); end.Status != event.StatusSuccess {
			t.Fatalf("iteration %d = %s %q, want success", i+1, end.Status, end.Message)
		}
		if i == warmup {
			warm = measure(t, cacheRoot)
			t.Logf("after %d iterations: %+v", i+1, warm)
		}
	}
	last := measure(t, cacheRoot)
	t.Logf("after %d iterations: %+v (%s per iteration)", n+1, last, (time.Since(start) / time.Duration(n)).Round(10*time.Millisecond))
	t.Logf("soak %d iterations: goroutines %d → %d, RSS %d → %d MiB, heap %d → %d MiB, layout blobs %d → %d, cache files %d → %d, devloop-* temp entries %d → %d (before dev: %d)",
		n+1, warm.goroutines, last.goroutines, warm.rssKiB/1024, last.rssKiB/1024, warm.heapKiB/1024, last.heapKiB/1024,
		warm.blobs, last.blobs, warm.cacheFiles, last.cacheFiles, warm.tempFiles, last.tempFiles, tempBefore)

	// Flat: a few goroutines of slack for connections being recycled, 50% for
	// the garbage collector's pacing.
	if last.goroutines > warm.goroutines+10 {
		t.Errorf("goroutines grew from %d to %d over %d iterations", warm.goroutines, last.goroutines, n-warmup)
	}
	if last.rssKiB > warm.rssKiB*3/2 {
		t.Errorf("RSS grew from %d to %d KiB over %d iterations", warm.rssKiB, last.rssKiB, n-warmup)
	}
	if last.heapKiB > warm.heapKiB*3/2 {
		t.Errorf("heap grew from %d to %d KiB over %d iterations", warm.heapKiB, last.heapKiB, n-warmup)
	}
	if last.blobs > warm.blobs || last.blobs == 0 {
		t.Errorf("OCI layout blobs went from %d to %d, want bounded (newest 3 images)", warm.blobs, last.blobs)
	}
	if last.cacheFiles > warm.cacheFiles {
		t.Errorf("files in the cache directory went from %d to %d, want bounded", warm.cacheFiles, last.cacheFiles)
	}
	if last.tempFiles > tempBefore {
		t.Errorf("devloop-* entries in %s went from %d to %d", os.TempDir(), tempBefore, last.tempFiles)
	}
}
