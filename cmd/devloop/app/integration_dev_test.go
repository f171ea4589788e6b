package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// jsonEvents decodes the JSON Lines devloop wrote so far.
func jsonEvents(t *testing.T, out *syncBuffer) []event.Event {
	t.Helper()
	var evs []event.Event
	for _, l := range strings.Split(out.String(), "\n") {
		if l == "" {
			continue
		}
		var e event.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			continue // a line still being written
		}
		evs = append(evs, e)
	}
	return evs
}

// iterationEnds returns the iteration events that ended an iteration.
func iterationEnds(evs []event.Event) []event.Event {
	var out []event.Event
	for _, e := range evs {
		if e.Phase == event.PhaseIteration && e.Status != event.StatusStart {
			out = append(out, e)
		}
	}
	return out
}

func iterationStarts(evs []event.Event) int {
	n := 0
	for _, e := range evs {
		if e.Phase == event.PhaseIteration && e.Status == event.StatusStart {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(port int) string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// edit rewrites a file in place, replacing every old with new (no rename: like
// an editor's plain save).
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationDev(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	project, cfg, port := containerdExample(t, cs, "it-dev")
	dir := filepath.Dir(cfg)
	d := startDevloop(t, "dev", "-o", "json", "--port-forward", "--cleanup", "--tail=false", "-f", cfg, "--context", env.Context)

	n0 := hits(t, port)
	t.Logf("first iteration ready, counter %d", n0)
	ends := func() int { return len(iterationEnds(d.events())) }
	starts := func() int { return iterationStarts(d.events()) }

	// A one-line change: the new pods serve the new text.
	start := time.Now()
	edit(t, filepath.Join(dir, "app.py"), "! I have been seen", "! Edited, I have been seen")
	var body string
	waitFor(t, 60*time.Second, "the edited text", func() bool {
		body = get(port)
		return strings.Contains(body, "Edited, I have been seen")
	})
	defer func() { t.Logf("last GET /: %q", body) }()
	t.Logf("save → new text served: %s", time.Since(start).Round(10*time.Millisecond))
	waitFor(t, 30*time.Second, "the second iteration to end", func() bool { return ends() == 2 })

	// A burst of 50 writes in 100ms is one iteration.
	before := starts()
	for i := range 50 {
		f, err := os.OpenFile(filepath.Join(dir, "app.py"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "# burst %d\n", i)
		f.Close()
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, 60*time.Second, "the burst's iteration to end", func() bool { return ends() == 3 })
	time.Sleep(1500 * time.Millisecond)
	if got := starts() - before; got != 1 {
		t.Errorf("a burst of 50 writes started %d iterations, want 1", got)
	}

	// A file .dockerignore excludes starts nothing.
	before = starts()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := starts() - before; got != 0 {
		t.Errorf("editing a .dockerignored file started %d iterations, want 0", got)
	}

	// A manifest change re-applies without a build.
	nBuilds := func() int { return d.countPhase(event.PhaseBuild, event.StatusStart) }
	builds := nBuilds()
	edit(t, filepath.Join(dir, "k8s", "configmap.yaml"), `"Hello from devloop"`, `"Hello again"`)
	waitFor(t, 60*time.Second, "the manifest iteration to end", func() bool { return ends() == 4 })
	if last := iterationEnds(d.events())[3]; last.Status != event.StatusSuccess || !strings.Contains(last.Message, "apply") {
		t.Errorf("manifest iteration = %+v, want a success that applied", last)
	}
	if got := nBuilds() - builds; got != 0 {
		t.Errorf("a manifest change started %d builds, want 0", got)
	}
	cm, err := cs.CoreV1().ConfigMaps(project).Get(context.Background(), "flask-redis-config", metav1.GetOptions{})
	if err != nil || !strings.Contains(cm.Data["config.json"], "Hello again") {
		t.Errorf("ConfigMap after the manifest change = %v, %v; want the new message", cm.Data, err)
	}

	// A broken Dockerfile is reported; the old pods keep serving; a fix recovers.
	edit(t, filepath.Join(dir, "Dockerfile"), "WORKDIR /app", "RUN exit 3\nWORKDIR /app")
	waitFor(t, 60*time.Second, "the broken build's iteration to end", func() bool { return ends() == 5 })
	if last := iterationEnds(d.events())[4]; last.Status != event.StatusFailure || !strings.Contains(last.Message, "exit") {
		t.Errorf("broken build iteration = %+v, want a failure naming the step", last)
	}
	if body := get(port); !strings.Contains(body, "Edited, I have been seen") {
		t.Errorf("after a failed build GET / = %q, want the running version to keep serving", body)
	}
	edit(t, filepath.Join(dir, "Dockerfile"), "RUN exit 3\n", "")
	waitFor(t, 60*time.Second, "the fixed build's iteration to end", func() bool { return ends() == 6 })
	if last := iterationEnds(d.events())[5]; last.Status != event.StatusSuccess {
		t.Errorf("fixed build iteration = %+v, want success", last)
	}

	// Ctrl-C: exits within 2s (the cleanup has its own budget) and deletes
	// devloop's objects.
	stopped := time.Now()
	d.stopClean()
	t.Logf("Ctrl-C → exit (with cleanup): %s", time.Since(stopped).Round(10*time.Millisecond))
	_, err = cs.AppsV1().Deployments(project).Get(context.Background(), "flask-redis-app", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		dep, _ := cs.AppsV1().Deployments(project).Get(context.Background(), "flask-redis-app", metav1.GetOptions{})
		if dep == nil || dep.DeletionTimestamp == nil {
			t.Errorf("deployment after --cleanup: %v, want it deleted", err)
		}
	}
}

// children lists the processes whose parent is this test process.
func children(t *testing.T) []string {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == self {
			out = append(out, e.Name()+" "+s[strings.IndexByte(s, '(')+1:i])
		}
	}
	return out
}

// TestIntegrationDevStop interrupts devloop dev in the middle of a build and in
// the middle of a rollout: it must exit within 2s, leaving no child process.
func TestIntegrationDevStop(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	tests := []struct {
		name, project string
		breakIt       func(t *testing.T, dir string)
		phase         event.Phase
	}{
		{name: "during a build", project: "it-stop-build", phase: event.PhaseBuild, breakIt: func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, "Dockerfile"), "WORKDIR /app", "RUN sleep 30\nWORKDIR /app")
		}},
		{name: "during a rollout", project: "it-stop-rollout", phase: event.PhaseRollout, breakIt: neverReady},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, _ := containerdExample(t, cs, tc.project)
			tc.breakIt(t, filepath.Dir(cfg))
			before := len(children(t))
			d := startDevloop(t, "dev", "-o", "json", "-f", cfg, "--context", env.Context)
			waitPhaseStart(t, &d.out, tc.phase, 60*time.Second)
			time.Sleep(time.Second)
			stopped := time.Now()
			code, ok := d.interrupt(2 * time.Second)
			if !ok {
				t.Fatalf("devloop dev did not exit within 2s of Ctrl-C %s", tc.name)
			}
			if code != ExitOK {
				t.Errorf("devloop dev = %d after Ctrl-C, want 0; stderr:\n%s", code, d.errOut.String())
			}
			t.Logf("Ctrl-C %s → exit in %s", tc.name, time.Since(stopped).Round(time.Millisecond))
			if after := children(t); len(after) > before {
				t.Errorf("child processes left after exit: %q", after)
			}
		})
	}
}
