package bench

// The inner-loop scenario: save → new pods Ready through `devloop dev`, the
// number users feel. It is a hook around the devloop binary (Config.Devloop)
// and reads only devloop's JSON Lines events (pkg/event), so it keeps working
// while the CLI evolves as long as the event schema does.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/devloop/devloop/pkg/event"
	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// devTimeout bounds the first iteration (build from scratch, first rollout) and
// devChangeTimeout every later one.
const (
	devTimeout       = 5 * time.Minute
	devChangeTimeout = 2 * time.Minute
)

// showMessage is the line of the flask-redis example's app.py that each run
// changes.
var showMessage = regexp.MustCompile(`"show_message": "[^"]*",`)

func (b *bencher) devScenario(ctx context.Context, rep *Report) error {
	if b.cfg.Devloop == "" {
		rep.Skipped = append(rep.Skipped, "dev: no devloop binary given (-devloop PATH; go build -o bin/devloop ./cmd/devloop)")
		return nil
	}
	example := b.cfg.DevExample
	// Work on a copy: the checkout's example stays untouched.
	dir := filepath.Join(b.tmp, "flask-redis")
	if err := os.CopyFS(dir, os.DirFS(example)); err != nil {
		return fmt.Errorf("copying %s: %w", example, err)
	}
	app := filepath.Join(dir, "app.py")
	src, err := os.ReadFile(app)
	if err != nil {
		return err
	}
	if !showMessage.Match(src) {
		return fmt.Errorf("%s has no show_message line to change", app)
	}
	ns := strings.ReplaceAll(strings.TrimPrefix(b.prefix, "devloop.local/"), "/", "-")
	// Images of the changed app are this run's alone (the first iteration's may
	// be anyone's: the example unchanged). Removed after the namespace (LIFO).
	var refs []string
	if sock := b.cfg.Env.ContainerdSock; sock != "" {
		b.cleanups.add("the changed example's images in "+sock, func(ctx context.Context) error {
			return removeContainerdImages(ctx, sock, refs)
		})
	}
	b.cleanups.add("namespace "+ns, func(ctx context.Context) error {
		_, err := runCmd(ctx, nil, "kubectl", "delete", "namespace", ns, "--ignore-not-found", "--wait=false")
		return err
	})

	// devloop's build cache (OCI layouts) goes into the temporary directory too.
	d, err := startDev(ctx, b.cfg.Devloop, dir, ns, filepath.Join(b.tmp, "devloop-cache"))
	if err != nil {
		return err
	}
	defer d.stop(b.log)
	if _, err := d.await(ctx, 1, devTimeout); err != nil {
		return fmt.Errorf("first iteration: %w", err)
	}
	var rows []Row
	total := Row{Scenario: "inner loop: flask-redis one-line change, save → Ready", Tool: "devloop dev", Moved: unknownBytes}
	phases := map[event.Phase][]time.Duration{}
	var watchLat []time.Duration
	var moved []int64
	for i := range b.cfg.DevRuns {
		changed := showMessage.ReplaceAll(src, fmt.Appendf(nil, `"show_message": "Hello from %s, change %d",`, ns, i+1))
		t0 := time.Now()
		if err := os.WriteFile(app, changed, 0o644); err != nil { // in place, as an editor saves
			return err
		}
		it, err := d.await(ctx, i+2, devChangeTimeout)
		if err != nil {
			total.Err = fmt.Errorf("change %d: %w", i+1, err)
			break
		}
		total.Samples = append(total.Samples, it.done.Sub(t0))
		watchLat = append(watchLat, it.start.Sub(t0))
		for p, dur := range it.phases {
			phases[p] = append(phases[p], dur)
		}
		moved = append(moved, it.bytes)
		refs = append(refs, it.refs...)
		fmt.Fprintf(b.log, "  dev change %d: %s\n", i+1, seconds(it.done.Sub(t0)))
	}
	total.Moved = medianBytes(moved)
	parts := []string{"watch " + seconds(median(watchLat))}
	for _, p := range []event.Phase{event.PhaseBuild, event.PhaseSideload, event.PhaseDeploy, event.PhaseRollout} {
		if len(phases[p]) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p, seconds(median(phases[p]))))
		}
	}
	total.Note = "phase medians: " + strings.Join(parts, ", ")
	rows = append(rows, total)
	rep.Rows = append(rep.Rows, rows...)
	return nil
}

// devProcess is a running `devloop dev --output json` and its parsed events.
type devProcess struct {
	cmd    *exec.Cmd
	events chan event.Event
	stderr *tailWriter
	waited chan error
}

// iteration is what the events said about one iteration.
type iteration struct {
	start, done time.Time
	phases      map[event.Phase]time.Duration
	bytes       int64
	// refs are the images the iteration loaded.
	refs []string
}

func startDev(ctx context.Context, bin, dir, ns, cacheDir string) (*devProcess, error) {
	cmd := exec.CommandContext(ctx, bin, "dev", "--output", "json", "--tail=false", "--cleanup", "--namespace", ns)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheDir)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	d := &devProcess{cmd: cmd, events: make(chan event.Event, 256), stderr: &tailWriter{max: 8 << 10}, waited: make(chan error, 1)}
	cmd.Stderr = d.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s dev: %w", bin, err)
	}
	go func() {
		defer close(d.events)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var e event.Event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			e.Duration = time.Duration(e.DurationMS) * time.Millisecond
			d.events <- e
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { d.waited <- cmd.Wait() }()
	return d, nil
}

// await reads events until iteration n ends, and returns it; a failed or
// skipped iteration, devloop exiting or the timeout are errors.
func (d *devProcess) await(ctx context.Context, n int, timeout time.Duration) (iteration, error) {
	it := iteration{phases: map[event.Phase]time.Duration{}}
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-d.events:
			if !ok {
				return it, fmt.Errorf("devloop dev exited: %s", d.stderr.last())
			}
			if e.Iteration != n {
				continue
			}
			if e.Phase == event.PhaseIteration && e.Status == event.StatusStart {
				it.start = e.Time
				continue
			}
			if e.Status == event.StatusSuccess && e.Phase != event.PhaseIteration {
				it.phases[e.Phase] = max(it.phases[e.Phase], e.Duration)
				it.bytes += e.Bytes
				if e.Phase == event.PhaseSideload && e.Ref != "" {
					it.refs = append(it.refs, e.Ref)
				}
			}
			if e.Phase == event.PhaseIteration && e.Status != event.StatusProgress {
				it.done = time.Now()
				if e.Status != event.StatusSuccess {
					return it, fmt.Errorf("iteration %d: %s %s", n, e.Status, e.Message)
				}
				return it, nil
			}
		case <-deadline:
			return it, fmt.Errorf("iteration %d did not end within %s: %s", n, timeout, d.stderr.last())
		case <-ctx.Done():
			return it, ctx.Err()
		}
	}
}

// stop interrupts devloop dev (which, with --cleanup, deletes what it applied)
// and waits for it.
func (d *devProcess) stop(log io.Writer) {
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.waited:
	case <-time.After(45 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.waited
		fmt.Fprintln(log, "devloop dev did not stop within 45s after SIGINT; killed")
	}
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// last returns the last non-empty line written.
func (t *tailWriter) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return "no output on stderr"
}

// removeContainerdImages removes refs, and the other names of the same digests
// (import-…@digest), from the containerd at sock.
func removeContainerdImages(ctx context.Context, sock string, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	ctr := []string{"ctr", "--address", sock, "-n", "k8s.io"}
	out, err := runCmd(ctx, nil, append(ctr, "images", "ls")...)
	if err != nil {
		return err
	}
	ours := map[string]bool{}
	for _, r := range refs {
		if n, err := reference.ParseNormalizedNamed(r); err == nil {
			ours[n.String()] = true
		}
	}
	imgs := parseNodeImages(out)
	digests := map[v1.Hash]bool{}
	for _, i := range imgs {
		if ours[i.Name] {
			digests[i.Digest] = true
		}
	}
	rm := []string{"images", "rm"}
	for _, i := range imgs {
		if digests[i.Digest] {
			rm = append(rm, i.Name)
		}
	}
	if len(rm) == 2 {
		return nil
	}
	_, err = runCmd(ctx, nil, append(ctr, rm...)...)
	return err
}
