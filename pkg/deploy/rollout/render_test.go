package rollout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/pkg/event"
)

// checkGolden compares got with testdata/golden/name; UPDATE_GOLDEN=1 rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), run with UPDATE_GOLDEN=1 if intended:\n%s", name, diff)
	}
}

func TestFormatEventGolden(t *testing.T) {
	ev := func(status event.Status, resource, msg string, d time.Duration) event.Event {
		return event.Event{Phase: event.PhaseRollout, Status: status, Resource: resource, Message: msg, Duration: d}
	}
	events := []event.Event{
		ev(event.StatusStart, "deployment/web", "", 0),
		ev(event.StatusStart, "statefulset/redis", "", 2*time.Millisecond),
		ev(event.StatusProgress, "deployment/web", "waiting for the controller to observe generation 2 (at 1)", 40*time.Millisecond),
		ev(event.StatusProgress, "deployment/web", "1/2 replicas updated", 310*time.Millisecond),
		ev(event.StatusProgress, "statefulset/redis", "0/1 ready", 450*time.Millisecond),
		ev(event.StatusProgress, "deployment/web", "1 old replica pending termination", 1900*time.Millisecond),
		ev(event.StatusProgress, "deployment/web", "1/2 ready", 3140*time.Millisecond),
		ev(event.StatusSuccess, "deployment/web", "2/2 ready", 4260*time.Millisecond),
		ev(event.StatusFailure, "statefulset/redis", "pod redis-0: container redis: CrashLoopBackOff: back-off 10s restarting failed container", 12*time.Second),
		ev(event.StatusSkipped, "job/migrate", "stopped: another rollout failed", 65*time.Second+400*time.Millisecond),
	}
	var b strings.Builder
	for _, e := range events {
		b.WriteString(FormatEvent(e) + "\n")
	}
	checkGolden(t, "events.golden", b.String())
}

func TestFormatFailureGolden(t *testing.T) {
	crash := &FailureError{
		Resource: "deployment/web", Pod: "web-7d4b9c8f6d-x2x9q", Container: "app", Reason: "CrashLoopBackOff",
		Message: "back-off 10s restarting failed container=app pod=web-7d4b9c8f6d-x2x9q_default(d0c1b2a3); last exit code 1 (Error)",
		Events: []string{
			"Normal Scheduled: Successfully assigned default/web-7d4b9c8f6d-x2x9q to devloop-testbed",
			`Normal Pulled: Container image "docker.io/library/busybox:latest" already present on machine (x2)`,
			"Warning BackOff: Back-off restarting failed container app in pod web-7d4b9c8f6d-x2x9q_default(d0c1b2a3) (x3)",
		},
		Logs: []string{"listening on :8080", "panic: open /etc/web/config.yaml: no such file or directory"},
	}
	unschedulable := &FailureError{
		Resource: "deployment/web", Pod: "web-7d4b9c8f6d-x2x9q", Reason: "Unschedulable",
		Message: "0/1 nodes are available: 1 Insufficient cpu.",
		Events:  []string{"Warning FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu."},
	}
	timeout := &TimeoutError{
		Resource: "deployment/web", Timeout: time.Minute, Status: "0/2 ready",
		Pods: []string{
			"pod web-7d4b9c8f6d-x2x9q: app running, not ready",
			"  Warning Unhealthy: Readiness probe failed: (x12)",
			"pod web-7d4b9c8f6d-zq8mn: app running, not ready",
		},
		WatchError: "the server has asked for the client to provide credentials",
	}
	tests := []struct {
		name string
		err  error
	}{
		{name: "crashloop", err: crash},
		{name: "unschedulable", err: unschedulable},
		{name: "timeout", err: timeout},
		{name: "timeouts", err: errors.Join(timeout, &TimeoutError{Resource: "job/migrate", Timeout: time.Minute, Status: "0/1 succeeded, 1 active"})},
		{name: "other", err: fmt.Errorf("deployment/web: progress deadline exceeded: ReplicaSet %q has timed out progressing.", "web-7d4b9c8f6d")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, "failure-"+tc.name+".golden", FormatFailure(tc.err, 3140*time.Millisecond)+"\n")
			checkGolden(t, "error-"+tc.name+".golden", tc.err.Error()+"\n")
		})
	}
}

func TestFormatElapsed(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.0s"},
		{3140 * time.Millisecond, "3.1s"},
		{59*time.Second + 940*time.Millisecond, "59.9s"},
		{65*time.Second + 400*time.Millisecond, "1m5s"},
	}
	for _, tc := range tests {
		if got := FormatElapsed(tc.d); got != tc.want {
			t.Errorf("FormatElapsed(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
