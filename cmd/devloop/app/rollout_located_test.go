package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/pkg/event"
)

// TestVSCodeDevMatcherOnLocatedRolloutFailure: a failed rollout whose workload's
// manifest is known (the engine locates it) reaches the Problems panel at that
// manifest; one whose manifest is unknown prints no located line.
func TestVSCodeDevMatcherOnLocatedRolloutFailure(t *testing.T) {
	dev := loadMatchers(t)["devloop: dev"]
	const crash = "pod web-7d4b9c8f6d-x2x9q: container app: CrashLoopBackOff: back-off 10s restarting failed container"
	evs := []event.Event{
		{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"app.py"}},
		{Iteration: 1, Phase: event.PhaseRollout, Status: event.StatusFailure, Resource: "deployment/web", File: "/src/k8s/app.yaml", Line: 5, Message: crash + "\n  events: …", Duration: 9400 * time.Millisecond},
		{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 1 failed: rollout: deployment/web: " + crash},
		{Iteration: 2, Phase: event.PhaseIteration, Status: event.StatusStart, Files: []string{"app.py"}},
		{Iteration: 2, Phase: event.PhaseRollout, Status: event.StatusFailure, Resource: "deployment/web", Message: crash},
		{Iteration: 2, Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 2 failed: rollout: deployment/web: " + crash},
	}
	want := []window{
		{Ended: true, Problems: []problem{{File: "/src/k8s/app.yaml", Line: 5, Severity: "error", Message: "deployment/web: " + crash}}},
		{Ended: true},
	}
	var out bytes.Buffer
	p := &printer{out: &out, err: &out}
	for _, e := range evs {
		p.Send(context.Background(), e)
	}
	p.Flush()
	if diff := cmp.Diff(want, dev.collect(out.String())); diff != "" {
		t.Errorf("problems per iteration (-want +got):\n%s\noutput:\n%s", diff, out.String())
	}
}
