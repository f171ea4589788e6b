package loop

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/event"
)

func TestStampSinkCancelledStages(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	superseded, supersede := context.WithCancelCause(live)
	supersede(errSuperseded)
	late, stop := context.WithTimeout(live, -time.Second)
	defer stop()
	tests := []struct {
		name       string
		ctx        context.Context
		e          event.Event
		wantStatus event.Status
		wantMsg    string
	}{
		{name: "failure", ctx: live, e: event.Event{Phase: event.PhaseBuild, Status: event.StatusFailure, Message: "boom"}, wantStatus: event.StatusFailure, wantMsg: "boom"},
		{name: "Ctrl-C", ctx: cancelled, e: event.Event{Phase: event.PhaseBuild, Status: event.StatusFailure, Message: "building web: interrupt signal received"}, wantStatus: event.StatusSkipped, wantMsg: Cancelled},
		{name: "newer changes", ctx: superseded, e: event.Event{Phase: event.PhaseSideload, Status: event.StatusFailure, Message: "loading web: superseded"}, wantStatus: event.StatusSkipped, wantMsg: "cancelled: newer changes arrived"},
		{name: "deadline", ctx: late, e: event.Event{Phase: event.PhaseDeploy, Status: event.StatusFailure, Message: "cleanup: deadline exceeded"}, wantStatus: event.StatusFailure, wantMsg: "cleanup: deadline exceeded"},
		{name: "the iteration's own end", ctx: cancelled, e: event.Event{Phase: event.PhaseIteration, Status: event.StatusFailure, Message: "iteration 1 failed"}, wantStatus: event.StatusFailure, wantMsg: "iteration 1 failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &event.Recorder{}
			s := &stampSink{inner: rec, now: time.Now}
			s.Send(tc.ctx, tc.e)
			got := rec.Events()
			if len(got) != 1 || got[0].Status != tc.wantStatus || got[0].Message != tc.wantMsg {
				t.Errorf("Send(%s) passed on %+v, want status %s, message %q", tc.e.Status, got, tc.wantStatus, tc.wantMsg)
			}
		})
	}
}

func TestStampSinkLocatesRolloutFailures(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "app.yaml")
	data := "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
	if err := os.WriteFile(manifest, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := deploy.Read(context.Background(), []string{manifest})
	if err != nil {
		t.Fatal(err)
	}
	var rec event.Recorder
	s := &stampSink{inner: &rec, now: time.Now}
	s.locate(objs)
	ctx := context.Background()
	s.Send(ctx, event.Event{Phase: event.PhaseRollout, Status: event.StatusFailure, Resource: "deployment/web", Message: "CrashLoopBackOff"})
	s.Send(ctx, event.Event{Phase: event.PhaseRollout, Status: event.StatusProgress, Resource: "deployment/web", Message: "1/2 ready"})
	s.Send(ctx, event.Event{Phase: event.PhaseRollout, Status: event.StatusFailure, Resource: "deployment/other", Message: "x"})
	got := rec.Events()
	if got[0].File != manifest || got[0].Line != 5 {
		t.Errorf("rollout failure of deployment/web at %s:%d, want %s:5", got[0].File, got[0].Line, manifest)
	}
	if got[1].File != "" {
		t.Errorf("progress event located at %q, want no location", got[1].File)
	}
	if got[2].File != "" {
		t.Errorf("failure of an unknown workload located at %q, want no location", got[2].File)
	}
}
