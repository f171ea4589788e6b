package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devloop/devloop/internal/testbed"
)

// TestIntegrationFaultDockerd covers the Docker daemon being down, from devloop's
// side: DOCKER_HOST names a socket nothing listens on. The machine's real dockerd is
// shared by everything on it, so it is not stopped; what devloop sees is the same
// refused connection. Both places devloop needs the daemon are covered: building in
// it (the docker builder) and loading into it (the docker target after a buildkitd
// build). Each must fail fast, name the daemon with how to start it, and apply
// nothing.
func TestIntegrationFaultDockerd(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	down := "unix://" + filepath.Join(t.TempDir(), "no-dockerd.sock")
	tests := []struct {
		name  string
		extra string
	}{
		{"building in the daemon", "build:\n  buildkit: docker\ntarget:\n  type: docker\n"},
		{"loading into the daemon", "build:\n  buildkit: " + env.BuildkitHost + "\ntarget:\n  type: docker\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			project := uniqueName("it-fault-dockerd")
			cfg, _ := example(t, project, tc.extra)
			t.Setenv("DOCKER_HOST", down)
			code, _, stderr := devloop(t, context.Background(), "run", "-f", cfg, "--context", env.Context)
			if code != ExitFailure {
				t.Fatalf("devloop run with dockerd down = %d, want %d\nstderr:\n%s", code, ExitFailure, stderr)
			}
			wantMentions(t, "stderr", stderr, down, "Docker daemon")
			requireNotApplied(t, cs, project)
			t.Logf("dockerd down, %s: exit 1: %s", tc.name, lastLine(stderr))
		})
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
