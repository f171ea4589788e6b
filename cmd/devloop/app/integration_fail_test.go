package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devloop/devloop/internal/testbed"
)

// TestIntegrationRunFailures breaks the example in the ways developers do and
// checks that devloop run exits 1 soon after the pod says why, with the reason.
func TestIntegrationRunFailures(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	tests := []struct {
		name, project string
		args          []string
		breakIt       func(t *testing.T, dir string)
		want          string
		within        time.Duration
	}{
		{
			name: "container exits at start", project: "it-fail-crash", want: "CrashLoopBackOff", within: 90 * time.Second,
			breakIt: func(t *testing.T, dir string) {
				edit(t, filepath.Join(dir, "Dockerfile"), `CMD ["python3", "app.py"]`, `CMD ["python3", "-c", "import sys; print('boom'); sys.exit(3)"]`)
			},
		},
		{
			name: "pod cannot be scheduled", project: "it-fail-sched", want: "Unschedulable", within: 60 * time.Second,
			breakIt: func(t *testing.T, dir string) {
				edit(t, filepath.Join(dir, "k8s", "app.yaml"), "cpu: 50m", "cpu: \"500\"")
				edit(t, filepath.Join(dir, "k8s", "app.yaml"), "cpu: 500m", "cpu: \"500\"")
			},
		},
		{
			name: "image the node does not have", project: "it-fail-image", want: "ErrImageNeverPull", within: 60 * time.Second,
			breakIt: func(t *testing.T, dir string) {
				edit(t, filepath.Join(dir, "k8s", "redis.yaml"), "image: redis:7", "image: devloop-missing-image:1\n          imagePullPolicy: Never")
			},
		},
		{
			name: "readiness probe never passes", project: "it-fail-ready", want: "not done after", within: 60 * time.Second,
			args:    []string{"--timeout", "20s"},
			breakIt: neverReady,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, _ := containerdExample(t, cs, tc.project)
			tc.breakIt(t, filepath.Dir(cfg))
			code, stderr, took := timedDevloop(t, append([]string{"run", "-f", cfg, "--context", env.Context}, tc.args...)...)
			if code != ExitFailure {
				t.Errorf("devloop run = %d, want %d", code, ExitFailure)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not name %q:\n%s", tc.want, stderr)
			}
			if took > tc.within {
				t.Errorf("devloop run took %s to fail, want < %s", took, tc.within)
			}
		})
	}
}

// TestIntegrationRunPrune removes a manifest and checks that devloop prunes its
// object and leaves an unlabelled one of the same kind alone.
func TestIntegrationRunPrune(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	project, cfg, _ := containerdExample(t, cs, "it-prune")
	extra := filepath.Join(filepath.Dir(cfg), "k8s", "extra.yaml")
	if err := os.WriteFile(extra, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "-f", cfg, "--context", env.Context}
	if code, _, _ := devloop(t, context.Background(), args...); code != ExitOK {
		t.Fatalf("devloop run = %d, want 0", code)
	}
	ctx := context.Background()
	bystander := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bystander"}, Data: map[string]string{"mine": "not devloop's"}}
	if _, err := cs.CoreV1().ConfigMaps(project).Create(ctx, bystander, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(project).Get(ctx, "extra", metav1.GetOptions{}); err != nil {
		t.Fatalf("extra ConfigMap after the first run: %v", err)
	}
	if err := os.Remove(extra); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := devloop(t, context.Background(), args...)
	if code != ExitOK || !strings.Contains(stderr, "configmap/extra pruned") {
		t.Errorf("devloop run after removing a manifest = %d, want 0 and configmap/extra pruned; stderr:\n%s", code, stderr)
	}
	if _, err := cs.CoreV1().ConfigMaps(project).Get(ctx, "extra", metav1.GetOptions{}); err == nil {
		t.Error("configmap/extra survived its manifest's removal")
	}
	if _, err := cs.CoreV1().ConfigMaps(project).Get(ctx, "bystander", metav1.GetOptions{}); err != nil {
		t.Errorf("the unlabelled configmap/bystander was touched: %v", err)
	}
}
