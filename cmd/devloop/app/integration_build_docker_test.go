package app

import (
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/devloop/devloop/internal/testbed"
)

// TestIntegrationBuildInDockerd builds the example with the Docker daemon's own
// BuildKit (the docker target: minikube, Docker Desktop) and finds the image in
// dockerd's image store under the printed reference, with no transfer at all.
func TestIntegrationBuildInDockerd(t *testing.T) {
	env := testbed.Require(t)
	cfg, _ := example(t, uniqueName("it-build-docker"), "build:\n  buildkit: docker\ntarget:\n  type: docker\n")
	code, stdout, stderr := devloop(t, context.Background(), "build", "-f", cfg, "--context", env.Context)
	refRE := regexp.MustCompile(`^flask-redis-app:[0-9a-f]{16}\n$`)
	if code != ExitOK || !refRE.MatchString(stdout) {
		t.Fatalf("devloop build (docker) = %d, stdout %q; want 0 and one content-addressed reference\nstderr:\n%s", code, stdout, stderr)
	}
	ref := strings.TrimSpace(stdout)
	out, err := exec.Command("docker", "-H", env.DockerHost, "image", "inspect", ref).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	var imgs []struct {
		ID       string
		RepoTags []string
	}
	if err := json.Unmarshal(out, &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("docker image inspect %s = %s (%v); want one image", ref, out, err)
	}
	t.Logf("%s is in dockerd as %s", ref, imgs[0].ID)
	t.Cleanup(func() { _ = exec.Command("docker", "-H", env.DockerHost, "rmi", ref).Run() })
}
