package app

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devloop/devloop/internal/eventtest"
	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// phaseRank orders the pipeline's phases within an iteration.
var phaseRank = map[event.Phase]int{event.PhaseBuild: 1, event.PhaseSideload: 2, event.PhaseDeploy: 3, event.PhaseRollout: 4}

// checkIteration checks the events of iteration n: its start first and its end
// (wantEnd) last, the pipeline phases in order (build, sideload, deploy, rollout;
// warnings aside), and for a failure, a failure event of the phase failed and
// nothing of a later phase. It returns the failure event of that phase.
func checkIteration(t *testing.T, evs []event.Event, n int, wantEnd event.Status, failed event.Phase) event.Event {
	t.Helper()
	var its []event.Event
	for _, e := range evs {
		if e.Iteration == n && e.Phase != event.PhaseWatch && e.Phase != event.PhaseLog && e.Phase != event.PhasePortForward && e.Phase != event.PhaseConfig {
			its = append(its, e)
		}
	}
	if len(its) < 2 {
		t.Fatalf("iteration %d: %d events, want a start and an end", n, len(its))
	}
	if first := its[0]; first.Phase != event.PhaseIteration || first.Status != event.StatusStart {
		t.Errorf("iteration %d: first event %s %s, want iteration start", n, first.Phase, first.Status)
	}
	if last := its[len(its)-1]; last.Phase != event.PhaseIteration || last.Status != wantEnd {
		t.Errorf("iteration %d: last event %s %s (%s), want iteration %s", n, last.Phase, last.Status, last.Message, wantEnd)
	}
	rank, seen := 0, map[event.Phase]bool{}
	var failure event.Event
	for _, e := range its[1 : len(its)-1] {
		if e.Phase == event.PhaseIteration {
			t.Errorf("iteration %d: iteration %s in the middle", n, e.Status)
			continue
		}
		if strings.HasPrefix(e.Message, "warning: ") {
			continue
		}
		r := phaseRank[e.Phase]
		if r < rank {
			t.Errorf("iteration %d: %s %s after a later phase", n, e.Phase, e.Status)
		}
		rank = max(rank, r)
		seen[e.Phase] = true
		if e.Status == event.StatusFailure && e.Phase == failed && failure.Phase == "" {
			failure = e
		}
		if failed != "" && r > phaseRank[failed] {
			t.Errorf("iteration %d: %s %s after the %s failure", n, e.Phase, e.Status, failed)
		}
	}
	switch {
	case failed != "" && failure.Phase == "":
		t.Errorf("iteration %d: no %s failure event", n, failed)
	case failed == "" && wantEnd == event.StatusSuccess:
		for _, p := range []event.Phase{event.PhaseDeploy, event.PhaseRollout} {
			if !seen[p] {
				t.Errorf("iteration %d: no %s events in a successful iteration", n, p)
			}
		}
	}
	return failure
}

// checkLocated checks a failure event's location and that the human output has
// a problem at the same place, as the run task's matcher reads it.
func checkLocated(t *testing.T, e event.Event, file string, line int, stderr string) {
	t.Helper()
	if e.File != file || e.Line != line {
		t.Errorf("%s failure at %s:%d, want %s:%d (%q)", e.Phase, e.File, e.Line, file, line, e.Message)
	}
	if stderr == "" {
		return
	}
	run := loadMatchers(t)["devloop: run"]
	for _, l := range strings.Split(stderr, "\n") {
		if p, ok := run.match(l); ok && p.File == file && p.Line == line && p.Message != "" {
			return
		}
	}
	t.Errorf("no problem at %s:%d in the human output:\n%s", file, line, stderr)
}

// lineOf is the 1-based line of the first line of path containing s.
func lineOf(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", path, s)
	return 0
}

// TestIntegrationEventsRun runs devloop run --output json on the example, fine
// and broken, validates every line against the shipped schema and checks the
// phases; the human output of the same failures goes through tasks.json's matcher.
func TestIntegrationEventsRun(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	_, cfg, _ := containerdExample(t, cs, "it-events-run")
	dir := filepath.Dir(cfg)
	dockerfile, manifest := filepath.Join(dir, "Dockerfile"), filepath.Join(dir, "k8s", "app.yaml")
	sch := eventtest.Schema(t)
	ctx := context.Background()
	base := []string{"run", "-f", cfg, "--context", env.Context}
	runJSON := func(t *testing.T, wantCode int) []event.Event {
		t.Helper()
		code, stdout, _ := devloop(t, ctx, append(base, "-o", "json")...)
		if code != wantCode {
			t.Errorf("devloop run -o json = %d, want %d", code, wantCode)
		}
		evs, err := eventtest.Stream(sch, strings.NewReader(stdout))
		if err != nil {
			t.Fatalf("stdout against %s: %v", eventtest.SchemaPath(), err)
		}
		return evs
	}
	runText := func(t *testing.T, wantCode int) string {
		t.Helper()
		code, _, stderr := devloop(t, ctx, base...)
		if code != wantCode {
			t.Errorf("devloop run = %d, want %d", code, wantCode)
		}
		return stderr
	}
	// runFails runs devloop run both ways on a broken project: the iteration
	// fails in phase, located at file:line. It returns the failure event.
	runFails := func(t *testing.T, phase event.Phase, file string, line int) event.Event {
		t.Helper()
		f := checkIteration(t, runJSON(t, ExitFailure), 1, event.StatusFailure, phase)
		checkLocated(t, f, file, line, runText(t, ExitFailure))
		return f
	}

	t.Run("success", func(t *testing.T) {
		evs := runJSON(t, ExitOK)
		checkIteration(t, evs, 1, event.StatusSuccess, "")
		var ready []string
		for _, e := range evs {
			if e.Phase == event.PhaseRollout && e.Status == event.StatusSuccess {
				ready = append(ready, e.Resource)
			}
		}
		if len(ready) != 2 {
			t.Errorf("rollouts ready = %q, want the app and redis", ready)
		}
	})

	t.Run("broken Dockerfile", func(t *testing.T) {
		editUntilEnd(t, dockerfile, "WORKDIR /app", "WORKDIR /app\nRUN echo broken >&2 && exit 3")
		line := lineOf(t, dockerfile, "RUN echo broken")
		f := runFails(t, event.PhaseBuild, dockerfile, line)
		if f.Artifact != "flask-redis-app" || !strings.Contains(f.Message, "exit code: 3") {
			t.Errorf("build failure = %+v, want the artifact and the exit code", f)
		}
	})

	t.Run("broken manifest", func(t *testing.T) {
		editUntilEnd(t, manifest, "  replicas: 2\n", "  replicas: 2\n   broken: [\n")
		line := lineOf(t, manifest, "broken: [")
		runFails(t, event.PhaseDeploy, manifest, line)
	})

	t.Run("manifest the API server rejects", func(t *testing.T) {
		editUntilEnd(t, manifest, "  replicas: 2\n", "  replicas: \"two\"\n")
		f := runFails(t, event.PhaseDeploy, manifest, 1) // the document's first line
		if f.Resource != "deployment/flask-redis-app" {
			t.Errorf("apply failure resource = %q, want deployment/flask-redis-app", f.Resource)
		}
	})

	t.Run("broken devloop.yaml", func(t *testing.T) {
		editUntilEnd(t, cfg, "  - image: flask-redis-app\n", "  - image: flask-redis-app\n    dockerFile: Dockerfile\n")
		line := lineOf(t, cfg, "dockerFile:")
		evs := runJSON(t, ExitUsage)
		if len(evs) != 1 || evs[0].Phase != event.PhaseConfig || evs[0].Status != event.StatusFailure || evs[0].Iteration != 0 {
			t.Fatalf("events = %+v, want one config failure before any iteration", evs)
		}
		checkLocated(t, evs[0], cfg, line, runText(t, ExitUsage))
		if evs[0].Column != 5 {
			t.Errorf("config failure column = %d, want 5", evs[0].Column)
		}
	})

	t.Run("fixed again, nothing changed", func(t *testing.T) {
		evs := runJSON(t, ExitOK)
		checkIteration(t, evs, 1, event.StatusSuccess, "")
	})
}

// readEvents reads the event log written so far, validating every complete line.
func readEvents(t *testing.T, path string) []event.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // not opened yet
	}
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.LastIndexByte(string(b), '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	evs, err := eventtest.Stream(eventtest.Schema(t), strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs
}

// TestIntegrationEventsDev runs devloop dev with the human output on stderr and
// --event-log, through a working iteration, a broken Dockerfile, a broken
// manifest, a fix, a broken devloop.yaml and its fix. The event log must be valid
// and in order; stderr, read by tasks.json's background matcher, must give each
// iteration its problems and end every iteration it begins.
func TestIntegrationEventsDev(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	_, cfg, _ := containerdExample(t, cs, "it-events-dev")
	dir := filepath.Dir(cfg)
	dockerfile, manifest := filepath.Join(dir, "Dockerfile"), filepath.Join(dir, "k8s", "app.yaml")
	log := filepath.Join(t.TempDir(), "events.jsonl")

	d := startDevloop(t, "dev", "--tail=false", "--event-log", log, "-f", cfg, "--context", env.Context)
	defer func() { t.Logf("stderr:\n%s", d.errOut.String()) }()

	// waitEnd waits for the end of iteration n and returns the log so far.
	waitEnd := func(n int) []event.Event {
		t.Helper()
		return waitEvents(t, n, func() []event.Event { return readEvents(t, log) }, func(evs []event.Event, n int) bool {
			for _, e := range evs {
				if e.Iteration == n && e.Phase == event.PhaseIteration && e.Status != event.StatusStart {
					return true
				}
			}
			return false
		})
	}
	evs := waitEnd(1)
	checkIteration(t, evs, 1, event.StatusSuccess, "")
	if code, _, stderr := devloop(t, context.Background(), "wait", "-f", cfg, "--timeout", "2m"); code != ExitOK || !strings.Contains(stderr, "iteration 1: ") {
		t.Errorf("devloop wait on a ready session = %d, stderr %q; want 0 and the summary", code, stderr)
	}

	// devloop wait right after a save waits for the iteration the save starts.
	edit(t, dockerfile, "WORKDIR /app", "WORKDIR /app\nRUN exit 3")
	dockerLine := lineOf(t, dockerfile, "RUN exit 3")
	if code, _, stderr := devloop(t, context.Background(), "wait", "-f", cfg, "--timeout", "2m"); code != ExitFailure || !strings.Contains(stderr, "iteration 2 failed: ") {
		t.Errorf("devloop wait after breaking the Dockerfile = %d, stderr %q; want 1 and iteration 2's error", code, stderr)
	}
	evs = waitEnd(2)
	checkLocated(t, checkIteration(t, evs, 2, event.StatusFailure, event.PhaseBuild), dockerfile, dockerLine, "")

	edit(t, dockerfile, "WORKDIR /app\nRUN exit 3", "WORKDIR /app")
	waitEnd(3)
	edit(t, manifest, "  replicas: 2\n", "  replicas: 2\n   broken: [\n")
	manifestLine := lineOf(t, manifest, "broken: [")
	evs = waitEnd(4)
	checkLocated(t, checkIteration(t, evs, 4, event.StatusFailure, event.PhaseDeploy), manifest, manifestLine, "")

	edit(t, manifest, "  replicas: 2\n   broken: [\n", "  replicas: 2\n")
	evs = waitEnd(5)
	checkIteration(t, evs, 5, event.StatusSuccess, "")

	edit(t, cfg, "  - image: flask-redis-app\n", "  - image: flask-redis-app\n    dockerFile: Dockerfile\n")
	cfgLine := lineOf(t, cfg, "dockerFile:")
	evs = waitEnd(6)
	var cfgFailures []event.Event
	for _, e := range evs {
		if e.Phase == event.PhaseConfig && e.Status == event.StatusFailure {
			cfgFailures = append(cfgFailures, e)
		}
	}
	if len(cfgFailures) != 1 {
		t.Fatalf("config failures = %+v, want one", cfgFailures)
	}
	checkLocated(t, cfgFailures[0], cfg, cfgLine, "")

	edit(t, cfg, "    dockerFile: Dockerfile\n", "")
	evs = waitEnd(7)
	checkIteration(t, evs, 7, event.StatusSuccess, "")

	d.stopClean()
	readEvents(t, log) // the whole log, stop included, is valid
	if code, _, stderr := devloop(t, context.Background(), "wait", "-f", cfg); code != ExitFailure || !strings.Contains(stderr, "no devloop dev is running") {
		t.Errorf("devloop wait after dev stopped = %d, stderr %q; want 1, no session", code, stderr)
	}

	// The human output through the background matcher: one window per
	// iteration, each ended, with that iteration's problems.
	dev := loadMatchers(t)["devloop: dev"]
	ws := dev.collect(d.errOut.String())
	want := map[int]problem{
		2: {File: dockerfile, Line: dockerLine},
		4: {File: manifest, Line: manifestLine},
		6: {File: cfg, Line: cfgLine},
	}
	if len(ws) != 7 {
		t.Fatalf("background windows = %d (%+v), want one per iteration (7)", len(ws), ws)
	}
	for i, w := range ws {
		n := i + 1
		if !w.Ended && n < len(ws) {
			t.Errorf("iteration %d: its window never ended", n)
		}
		wp, bad := want[n]
		switch {
		case !bad && len(w.Problems) > 0:
			t.Errorf("iteration %d: problems %+v, want none", n, w.Problems)
		case bad && (len(w.Problems) != 1 || w.Problems[0].File != wp.File || w.Problems[0].Line != wp.Line):
			t.Errorf("iteration %d: problems %+v, want one at %s:%d", n, w.Problems, wp.File, wp.Line)
		}
	}
}

// TestIntegrationEventsDevJSON runs devloop dev --output json: the whole of
// stdout is the event stream, valid line by line, through a working first
// iteration and a broken Dockerfile, until Ctrl-C.
func TestIntegrationEventsDevJSON(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	_, cfg, _ := containerdExample(t, cs, "it-events-dev-json")
	dockerfile := filepath.Join(filepath.Dir(cfg), "Dockerfile")
	sch := eventtest.Schema(t)

	d := startDevloop(t, "dev", "-o", "json", "--tail=false", "-f", cfg, "--context", env.Context)
	stream := func() []event.Event {
		s := d.out.String()
		s = s[:strings.LastIndexByte(s, '\n')+1]
		evs, err := eventtest.Stream(sch, strings.NewReader(s))
		if err != nil {
			t.Fatalf("stdout: %v", err)
		}
		return evs
	}
	waitEnd := func(n int) []event.Event {
		t.Helper()
		return waitEvents(t, n, stream, func(evs []event.Event, n int) bool { return len(iterationEnds(evs)) >= n })
	}
	checkIteration(t, waitEnd(1), 1, event.StatusSuccess, "")
	edit(t, dockerfile, "WORKDIR /app", "WORKDIR /app\nRUN exit 3")
	line := lineOf(t, dockerfile, "RUN exit 3")
	checkLocated(t, checkIteration(t, waitEnd(2), 2, event.StatusFailure, event.PhaseBuild), dockerfile, line, "")

	d.stopClean()
	if s := d.out.String(); !strings.HasSuffix(s, "\n") {
		t.Errorf("stdout does not end with a whole line: %q", s[max(0, len(s)-200):])
	}
	stream()
	if s := d.errOut.String(); s != "" {
		t.Errorf("stderr = %q, want nothing with --output json", s)
	}
}
