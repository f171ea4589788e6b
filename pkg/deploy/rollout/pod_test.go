package rollout

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClassifyPod(t *testing.T) {
	tests := []struct {
		file      string
		want      PodFailure
		wantStuck bool
	}{
		{file: "running-ready.yaml"},
		{file: "running-not-ready.yaml"},
		{file: "container-creating.yaml"},
		{file: "scheduling-gated.yaml"},
		{file: "terminating-imagepullbackoff.yaml"},
		{
			file:      "crashloopbackoff.yaml",
			wantStuck: true,
			want: PodFailure{
				Container: "app", Reason: "CrashLoopBackOff", Logs: LogsPrevious,
				Message: "back-off 10s restarting failed container=app pod=web-7d4b9c8f6d-x2x9q_default(d0c1b2a3-9f8e-4d7c-b6a5-0f1e2d3c4b5a); last exit code 1 (Error)",
			},
		},
		{
			file:      "init-crashloopbackoff.yaml",
			wantStuck: true,
			want: PodFailure{
				Container: "migrate", Reason: "CrashLoopBackOff", Logs: LogsPrevious,
				Message: "back-off 20s restarting failed container=migrate pod=web-7d4b9c8f6d-x2x9q_default(d0c1b2a3-9f8e-4d7c-b6a5-0f1e2d3c4b5a); last exit code 1 (Error)",
			},
		},
		{
			file:      "errimagepull.yaml",
			wantStuck: true,
			want: PodFailure{
				Container: "app", Reason: "ErrImagePull",
				Message: `failed to pull and unpack image "docker.io/library/nosuch:latest": failed to resolve reference "docker.io/library/nosuch:latest": dial tcp: lookup registry-1.docker.io: no such host`,
			},
		},
		{
			file:      "imagepullbackoff.yaml",
			wantStuck: true,
			want:      PodFailure{Container: "app", Reason: "ImagePullBackOff", Message: `Back-off pulling image "docker.io/library/nosuch:latest"`},
		},
		{
			file:      "errimageneverpull.yaml",
			wantStuck: true,
			want:      PodFailure{Container: "app", Reason: "ErrImageNeverPull", Message: `Container image "devloop.local/missing:1" is not present with pull policy of Never`},
		},
		{
			file:      "invalidimagename.yaml",
			wantStuck: true,
			want: PodFailure{
				Container: "app", Reason: "InvalidImageName",
				Message: `Failed to apply default image tag "Web:LATEST": couldn't parse image name "Web:LATEST": invalid reference format: repository name (library/Web) must be lowercase`,
			},
		},
		{
			file:      "createcontainerconfigerror.yaml",
			wantStuck: true,
			want:      PodFailure{Container: "app", Reason: "CreateContainerConfigError", Message: `configmap "settings" not found`},
		},
		{
			file:      "createcontainererror.yaml",
			wantStuck: true,
			want: PodFailure{
				Container: "app", Reason: "CreateContainerError",
				Message: `failed to generate container "4f1e" spec: failed to apply OCI options: no such file or directory`,
			},
		},
		{
			file:      "runcontainererror.yaml",
			wantStuck: true,
			want: PodFailure{
				Container: "app", Reason: "RunContainerError", Logs: LogsCurrent,
				Message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "web-server": executable file not found in $PATH: unknown; last exit code 128 (StartError)`,
			},
		},
		{
			file:      "unschedulable.yaml",
			wantStuck: true,
			want: PodFailure{
				Reason:  "Unschedulable",
				Message: "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
			},
		},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			got, stuck := ClassifyPod(loadPod(t, "pods/"+tc.file))
			if stuck != tc.wantStuck {
				t.Fatalf("ClassifyPod() stuck = %t, want %t (%+v)", stuck, tc.wantStuck, got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ClassifyPod() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodSummary(t *testing.T) {
	tests := []struct {
		file      string
		want      string
		wantReady bool
	}{
		{file: "running-ready.yaml", wantReady: true},
		{file: "running-not-ready.yaml", want: "pod web-7d4b9c8f6d-x2x9q: app running, not ready"},
		{file: "container-creating.yaml", want: "pod web-7d4b9c8f6d-x2x9q: app ContainerCreating"},
		{file: "init-crashloopbackoff.yaml", want: "pod web-7d4b9c8f6d-x2x9q: migrate CrashLoopBackOff, app PodInitializing"},
		{file: "unschedulable.yaml", want: "pod web-7d4b9c8f6d-x2x9q: not scheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			got, ready := podSummary(loadPod(t, "pods/"+tc.file))
			if got != tc.want || ready != tc.wantReady {
				t.Errorf("podSummary() = (%q, %t), want (%q, %t)", got, ready, tc.want, tc.wantReady)
			}
		})
	}
}
