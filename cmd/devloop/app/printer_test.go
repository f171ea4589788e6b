package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/pkg/event"
)

// printerEvents is one iteration as the stages report it, then a dev iteration
// with a build error and a config error, then failureEvents.
func printerEvents() []event.Event {
	ms := time.Millisecond
	return append([]event.Event{
		{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusStart},
		{Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusStart, Artifact: "web"},
		{Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusProgress, Artifact: "web", Message: "[2/3] COPY . ."},
		{Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusSuccess, Artifact: "web", Ref: "web:5f2c0a1b2c3d4e5f", Duration: 600 * ms},
		{Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusSkipped, Artifact: "worker", Ref: "worker:0123456789abcdef", Message: "inputs unchanged"},
		{Iteration: 1, Phase: event.PhaseSideload, Status: event.StatusStart, Artifact: "web", Message: "containerd at /run/containerd.sock"},
		{Iteration: 1, Phase: event.PhaseSideload, Status: event.StatusSuccess, Artifact: "web", Bytes: 12000, BlobsSkipped: 5, Duration: 300 * ms},
		{Iteration: 1, Phase: event.PhaseDeploy, Status: event.StatusStart, Message: "applying 6 objects"},
		{Iteration: 1, Phase: event.PhaseDeploy, Status: event.StatusProgress, Resource: "deployment/web", Message: "applied"},
		{Iteration: 1, Phase: event.PhaseDeploy, Status: event.StatusSuccess, Message: "applied 6 objects", Duration: 100 * ms},
		{Iteration: 1, Phase: event.PhaseDeploy, Status: event.StatusProgress, Resource: "deployment/old", Message: "pruned"},
		{Iteration: 1, Phase: event.PhaseRollout, Status: event.StatusStart, Resource: "deployment/web"},
		{Iteration: 1, Phase: event.PhaseRollout, Status: event.StatusProgress, Resource: "deployment/web", Message: "1/2 ready", Duration: 3100 * ms},
		{Iteration: 1, Phase: event.PhaseRollout, Status: event.StatusSuccess, Resource: "deployment/web", Message: "2/2 ready", Duration: 3300 * ms},
		{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusSuccess, Message: "iteration 1: build 0.6s, load 0.3s (12 KB), apply 0.1s, rollout 3.3s"},
		{Iteration: 1, Phase: event.PhasePortForward, Status: event.StatusSuccess, Resource: "service/web", Message: "forwarding 127.0.0.1:8080 → service/web:80"},
		{Iteration: 1, Phase: event.PhaseLog, Status: event.StatusProgress, Resource: "web-5d8f-x2x9k", Message: "listening on :8080"},
		{Iteration: 2, Phase: event.PhaseWatch, Status: event.StatusProgress, Files: []string{"app.py"}, Message: "1 changed"},
		{Iteration: 2, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"app.py"}},
		{Iteration: 2, Phase: event.PhaseBuild, Status: event.StatusFailure, Artifact: "web", File: "/src/web/Dockerfile", Line: 7, Column: 1, Message: "RUN false: exit code 1"},
		{Iteration: 2, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 2 failed: building web: /src/web/Dockerfile:7: RUN false: exit code 1\n  + false"},
		{Iteration: 3, Phase: event.PhaseConfig, Status: event.StatusFailure, File: "/src/devloop.yaml", Line: 4, Column: 5, Message: "artifacts[0].context: directory \"nope\" does not exist (config not reloaded, the previous one keeps running)"},
		{Iteration: 3, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"devloop.yaml"}},
		{Iteration: 3, Phase: event.PhaseIteration, Status: event.StatusSkipped, Message: "iteration 3 cancelled: newer changes arrived"},
		{Iteration: 4, Phase: event.PhaseDeploy, Status: event.StatusSkipped, Message: "nothing changed: no load, no apply"},
		{Iteration: 4, Phase: event.PhaseWatch, Status: event.StatusProgress, Message: "warning: inotify watch limit reached"},
	}, failureEvents()...)
}

func TestPrinterGolden(t *testing.T) {
	tests := []struct {
		name       string
		tty, color bool
		verbose    int
		golden     string
	}{
		{name: "plain", golden: "printer-plain.golden"},
		{name: "terminal without colour", tty: true, golden: "printer-tty.golden"},
		{name: "terminal with colour", tty: true, color: true, golden: "printer-color.golden"},
		{name: "verbose", verbose: 1, golden: "printer-verbose.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &printer{out: &out, err: &out, tty: tc.tty, color: tc.color, verbose: tc.verbose}
			for _, e := range printerEvents() {
				p.Send(context.Background(), e)
			}
			p.Flush()
			path := filepath.Join("testdata", tc.golden)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (regenerate with UPDATE_GOLDEN=1)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("printer output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrinterHoldsBuildLinesUnderTheBuildKitDisplay(t *testing.T) {
	var out bytes.Buffer
	p := &printer{out: &out, err: &out, tty: true, holdBuild: true}
	p.Send(context.Background(), event.Event{Phase: event.PhaseBuild, Status: event.StatusStart, Artifact: "web"})
	if out.Len() != 0 {
		t.Fatalf("build line printed while BuildKit's display runs: %q", out.String())
	}
	p.Send(context.Background(), event.Event{Phase: event.PhaseSideload, Status: event.StatusSuccess, Artifact: "web", Bytes: 10})
	if want := "• building web\n✓ loaded web in 0.0s (10 B)\n"; out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}
