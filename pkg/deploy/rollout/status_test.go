package rollout

import (
	"strings"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		file     string
		wantMsg  string
		wantDone bool
		wantErr  string // substring; empty means no error
	}{
		{file: "deployment-no-status-yet.yaml", wantMsg: "waiting for the controller to observe generation 1 (at 0)"},
		{file: "deployment-generation-not-observed.yaml", wantMsg: "waiting for the controller to observe generation 2 (at 1)"},
		{file: "deployment-observed-none-updated.yaml", wantMsg: "0/2 replicas updated"},
		{file: "deployment-created.yaml", wantMsg: "0/2 ready"},
		{file: "deployment-partially-updated.yaml", wantMsg: "1/2 replicas updated"},
		{file: "deployment-old-replicas-pending-termination.yaml", wantMsg: "1 old replica pending termination"},
		{file: "deployment-available-less-than-updated.yaml", wantMsg: "1/2 ready"},
		{file: "deployment-complete.yaml", wantMsg: "2/2 ready", wantDone: true},
		{file: "deployment-paused.yaml", wantMsg: "paused (kubectl rollout resume), 1/2 replicas updated"},
		{file: "deployment-scaled-to-zero.yaml", wantMsg: "0/0 ready", wantDone: true},
		{file: "deployment-progress-deadline-exceeded.yaml", wantErr: `progress deadline exceeded: ReplicaSet "web-bdf7d7695" has timed out progressing.`},

		{file: "statefulset-generation-not-observed.yaml", wantMsg: "waiting for the controller to observe generation 2 (at 1)"},
		{file: "statefulset-pods-not-ready.yaml", wantMsg: "1/2 ready"},
		{file: "statefulset-rolling-update.yaml", wantMsg: "1/2 updated"},
		{file: "statefulset-complete.yaml", wantMsg: "2/2 ready", wantDone: true},
		{file: "statefulset-partition-pending.yaml", wantMsg: "1/2 updated above partition 1"},
		{file: "statefulset-partition-done.yaml", wantMsg: "3/3 ready, 2 updated above partition 1", wantDone: true},
		{file: "statefulset-ondelete-ready.yaml", wantMsg: "2/2 ready (OnDelete: pods are replaced only when deleted)", wantDone: true},

		{file: "daemonset-no-status-yet.yaml", wantMsg: "waiting for the controller to observe generation 1 (at 0)"},
		{file: "daemonset-generation-not-observed.yaml", wantMsg: "waiting for the controller to observe generation 2 (at 1)"},
		{file: "daemonset-updating.yaml", wantMsg: "0/1 updated"},
		{file: "daemonset-not-available.yaml", wantMsg: "0/1 ready"},
		{file: "daemonset-complete.yaml", wantMsg: "1/1 ready", wantDone: true},
		{file: "daemonset-ondelete-not-available.yaml", wantMsg: "0/1 ready"},

		{file: "job-running.yaml", wantMsg: "0/1 succeeded, 1 active"},
		{file: "job-retrying.yaml", wantMsg: "0/1 succeeded, 1 active, 1 failed"},
		{file: "job-suspended.yaml", wantMsg: "suspended"},
		{file: "job-success-criteria-met.yaml", wantMsg: "complete, 1/1 succeeded", wantDone: true},
		{file: "job-complete.yaml", wantMsg: "complete, 1/1 succeeded", wantDone: true},
		{file: "job-failure-target.yaml", wantErr: "job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"},
		{file: "job-failed.yaml", wantErr: "job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"},

		{file: "configmap.yaml", wantErr: "no rollout status for kind ConfigMap"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			obj := loadObject(t, "status/"+tc.file)
			msg, done, err := Status(obj)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Status() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Status() error = %v", err)
			}
			if msg != tc.wantMsg || done != tc.wantDone {
				t.Errorf("Status() = (%q, %t), want (%q, %t)", msg, done, tc.wantMsg, tc.wantDone)
			}
		})
	}
}

func TestProgressDeadline(t *testing.T) {
	tests := []struct {
		file   string
		want   time.Duration
		wantOK bool
	}{
		{file: "deployment-complete.yaml", want: 10 * time.Minute, wantOK: true},
		{file: "statefulset-complete.yaml"},
		{file: "job-running.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, ok := ProgressDeadline(loadObject(t, "status/"+tc.file))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ProgressDeadline() = (%v, %t), want (%v, %t)", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
