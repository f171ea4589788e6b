package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// devloopBinary builds cmd/devloop once per test binary run.
var devloopBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "devloop-signal-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "devloop")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

// becomeSubreaper makes this test process adopt orphaned descendants, so a
// `docker exec` or `ctr` that a killed devloop leaves behind shows up in
// children() instead of vanishing under init.
func becomeSubreaper(t *testing.T) {
	t.Helper()
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

// TestIntegrationSignalRun sends SIGINT and SIGTERM to a real `devloop run`
// process while it builds, imports into containerd and waits for a rollout: it
// must exit within 2s and leave no process behind.
func TestIntegrationSignalRun(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	bin, err := devloopBinary()
	if err != nil {
		t.Fatalf("building devloop: %v", err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	becomeSubreaper(t)

	phases := []struct {
		name    string
		phase   event.Phase
		prepare func(t *testing.T, dir, project string)
		// ready waits, once the phase started, until it is really under way.
		ready func(t *testing.T)
	}{
		{name: "build", phase: event.PhaseBuild, prepare: func(t *testing.T, dir, project string) {
			edit(t, filepath.Join(dir, "Dockerfile"), "WORKDIR /app", "RUN sleep 30 # "+project+"\nWORKDIR /app")
		}, ready: func(t *testing.T) { time.Sleep(time.Second) }},
		{name: "sideload", phase: event.PhaseSideload, prepare: func(t *testing.T, dir, project string) {
			// A large layer the node lacks: the import lasts long enough.
			edit(t, filepath.Join(dir, "Dockerfile"), "WORKDIR /app", "RUN head -c 150000000 /dev/urandom > /big # "+project+"\nWORKDIR /app")
		}, ready: func(t *testing.T) {
			waitFor(t, time.Minute, "ctr images import to run", func() bool { return findProcess("images", "import") > 0 })
		}},
		{name: "rollout", phase: event.PhaseRollout, prepare: func(t *testing.T, dir, project string) {
			edit(t, filepath.Join(dir, "k8s", "app.yaml"), "path: /health\n              port: http\n            initialDelaySeconds: 1", "path: /never-ready\n              port: http\n            initialDelaySeconds: 1")
		}, ready: func(t *testing.T) { time.Sleep(time.Second) }},
	}
	for _, ph := range phases {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(ph.name+"/"+sig.String(), func(t *testing.T) {
				project, cfg, _ := containerdExample(t, cs, "it-sig-"+ph.name)
				ph.prepare(t, filepath.Dir(cfg), project)
				before := children(t)

				var out, errOut syncBuffer
				cmd := exec.Command(bin, "run", "-o", "json", "-f", cfg, "--context", env.Context)
				cmd.Stdout, cmd.Stderr = &out, &errOut
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				t.Cleanup(func() {
					cmd.Process.Kill()
					<-exited
				})
				waitPhaseStart(t, &out, ph.phase, 3*time.Minute)
				ph.ready(t)
				sent := time.Now()
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-exited:
					exited <- err
					t.Logf("%s during %s → exit (%v) in %s", sig, ph.name, err, time.Since(sent).Round(time.Millisecond))
				case <-time.After(2 * time.Second):
					t.Fatalf("devloop run did not exit within 2s of %s during %s; stderr:\n%s", sig, ph.name, errOut.String())
				}
				if cmd.ProcessState.ExitCode() == 0 {
					t.Errorf("devloop run interrupted during %s exited 0, want a failure code", ph.name)
				}
				// Orphans are adopted by this process (a subreaper): give them a
				// moment to be reparented, then look.
				time.Sleep(300 * time.Millisecond)
				if after := children(t); len(after) > len(before) {
					t.Errorf("processes left behind after %s during %s: %q (before: %q)", sig, ph.name, after, before)
				}
			})
		}
	}
}
