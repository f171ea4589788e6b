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
	project := uniqueName("it-dev")
	cfg, port := example(t, project, "target:\n  type: containerd\n")
	deleteNamespaceAtEnd(t, cs, project)
	dir := filepath.Dir(cfg)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut},
			[]string{"dev", "-o", "json", "--port-forward", "--cleanup", "--tail=false", "-f", cfg, "--context", env.Context})
	}()
	defer func() {
		if !t.Failed() {
			return
		}
		for _, e := range jsonEvents(t, &out) {
			if e.Status != event.StatusProgress || e.Phase == event.PhaseWatch {
				t.Logf("event %d %s %s %s %s %q %v", e.Iteration, e.Phase, e.Status, e.Artifact, e.Resource, e.Message, e.Files)
			}
		}
		t.Logf("stderr:\n%s", errOut.String())
	}()

	n0 := hits(t, port)
	t.Logf("first iteration ready, counter %d", n0)
	ends := func() int { return len(iterationEnds(jsonEvents(t, &out))) }
	starts := func() int { return iterationStarts(jsonEvents(t, &out)) }

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
	nBuilds := func() int {
		n := 0
		for _, e := range jsonEvents(t, &out) {
			if e.Phase == event.PhaseBuild && e.Status == event.StatusStart {
				n++
			}
		}
		return n
	}
	builds := nBuilds()
	edit(t, filepath.Join(dir, "k8s", "configmap.yaml"), `"Hello from devloop"`, `"Hello again"`)
	waitFor(t, 60*time.Second, "the manifest iteration to end", func() bool { return ends() == 4 })
	if last := iterationEnds(jsonEvents(t, &out))[3]; last.Status != event.StatusSuccess || !strings.Contains(last.Message, "apply") {
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
	if last := iterationEnds(jsonEvents(t, &out))[4]; last.Status != event.StatusFailure || !strings.Contains(last.Message, "exit") {
		t.Errorf("broken build iteration = %+v, want a failure naming the step", last)
	}
	if body := get(port); !strings.Contains(body, "Edited, I have been seen") {
		t.Errorf("after a failed build GET / = %q, want the running version to keep serving", body)
	}
	edit(t, filepath.Join(dir, "Dockerfile"), "RUN exit 3\n", "")
	waitFor(t, 60*time.Second, "the fixed build's iteration to end", func() bool { return ends() == 6 })
	if last := iterationEnds(jsonEvents(t, &out))[5]; last.Status != event.StatusSuccess {
		t.Errorf("fixed build iteration = %+v, want success", last)
	}

	// Ctrl-C: exits within 2s (the cleanup has its own budget) and deletes
	// devloop's objects.
	stopped := time.Now()
	stop()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("devloop dev = %d after Ctrl-C, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devloop dev did not exit after Ctrl-C")
	}
	t.Logf("Ctrl-C → exit (with cleanup): %s", time.Since(stopped).Round(10*time.Millisecond))
	_, err = cs.AppsV1().Deployments(project).Get(context.Background(), "flask-redis-app", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		d, _ := cs.AppsV1().Deployments(project).Get(context.Background(), "flask-redis-app", metav1.GetOptions{})
		if d == nil || d.DeletionTimestamp == nil {
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
		{name: "during a rollout", project: "it-stop-rollout", phase: event.PhaseRollout, breakIt: func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(dir, "k8s", "app.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			s := strings.Replace(string(b), "path: /health", "path: /never-ready", 1)
			if err := os.WriteFile(filepath.Join(dir, "k8s", "app.yaml"), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.project = uniqueName(tc.project)
			cfg, _ := example(t, tc.project, "target:\n  type: containerd\n")
			deleteNamespaceAtEnd(t, cs, tc.project)
			tc.breakIt(t, filepath.Dir(cfg))
			before := len(children(t))
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			var out, errOut syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- Main(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut},
					[]string{"dev", "-o", "json", "-f", cfg, "--context", env.Context})
			}()
			waitFor(t, 60*time.Second, string(tc.phase)+" to start", func() bool {
				for _, e := range jsonEvents(t, &out) {
					if e.Phase == tc.phase && e.Status == event.StatusStart {
						return true
					}
				}
				return false
			})
			time.Sleep(time.Second)
			stopped := time.Now()
			stop()
			select {
			case code := <-done:
				if code != ExitOK {
					t.Errorf("devloop dev = %d after Ctrl-C, want 0; stderr:\n%s", code, errOut.String())
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("devloop dev did not exit within 2s of Ctrl-C %s", tc.name)
			}
			t.Logf("Ctrl-C %s → exit in %s", tc.name, time.Since(stopped).Round(time.Millisecond))
			if after := children(t); len(after) > before {
				t.Errorf("child processes left after exit: %q", after)
			}
		})
	}
}
