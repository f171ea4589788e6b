package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/devloop/devloop/pkg/build"
	"github.com/devloop/devloop/pkg/sideload"
)

func TestBuildFor(t *testing.T) {
	target := func(l sideload.Target, err error) sideload.Target {
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	docker := target(sideload.NewDocker(sideload.DockerOptions{}))
	kind := target(sideload.NewKind(sideload.KindOptions{Cluster: "dev"}))
	containerd := target(sideload.NewContainerd(sideload.ContainerdOptions{Socket: "/run/containerd/containerd.sock"}))
	registry := target(sideload.NewRegistry(sideload.RegistryOptions{Registry: "localhost:5001"}))
	const host = "unix:///run/user/docker.sock"
	tests := []struct {
		name      string
		buildkit  string
		target    sideload.Target
		reachable bool
		want      build.Options
		wantErr   string
	}{
		{name: "auto, docker target: into the daemon", buildkit: "auto", target: docker, reachable: true, want: build.Options{Builder: build.BuilderDocker, DockerHost: host}},
		{name: "docker, docker target: into the daemon", buildkit: "docker", target: docker, reachable: true, want: build.Options{Builder: build.BuilderDocker, DockerHost: host}},
		{name: "auto, minikube's daemon not known yet: layout", buildkit: "auto", target: docker, want: build.Options{Builder: "auto", Output: build.OutputLayout}},
		{name: "buildkitd, docker target: layout", buildkit: "unix:///run/buildkit/buildkitd.sock", target: docker, reachable: true, want: build.Options{Builder: "unix:///run/buildkit/buildkitd.sock", Output: build.OutputLayout}},
		{name: "auto, kind target: layout", buildkit: "auto", target: kind, want: build.Options{Builder: "auto", Output: build.OutputLayout}},
		{name: "docker, kind target: refused", buildkit: "docker", target: kind, wantErr: "build.buildkit: docker cannot build for kind cluster dev (the kind target)"},
		{name: "docker, containerd target: refused", buildkit: "docker", target: containerd, wantErr: "(the containerd target)"},
		{name: "docker, registry target: refused", buildkit: "docker", target: registry, wantErr: "(the registry target)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := build.Options{Builder: tc.buildkit}
			err := buildFor(&got, tc.buildkit, tc.target, tc.reachable, host)
			if tc.wantErr != "" {
				var u usageError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &u) {
					t.Fatalf("buildFor(%q, %s) = %v, want a usage error containing %q", tc.buildkit, tc.target, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("buildFor(%q, %s) = %v", tc.buildkit, tc.target, err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(build.Options{})); diff != "" {
				t.Errorf("buildFor(%q, %s) options (-want +got):\n%s", tc.buildkit, tc.target, diff)
			}
		})
	}
}

// TestMainDockerBuilderWithOtherTargetIsRefused checks that devloop run refuses
// build.buildkit: docker with the kind target before building anything, with
// exit code 2 and both ways out.
func TestMainDockerBuilderWithOtherTargetIsRefused(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: kind-dev
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: u}
current-context: kind-dev
users:
- name: u
  user: {token: x}
`)
	write(filepath.Join(dir, "app", "Dockerfile"), "FROM scratch\n")
	cfg := filepath.Join(dir, "devloop.yaml")
	write(cfg, "apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    context: app\ndeploy:\n  manifests: [app]\nbuild:\n  buildkit: docker\n")
	code, _, stderr := runMain(t, "run", "-f", cfg, "--kubeconfig", kubeconfig)
	if code != ExitUsage {
		t.Errorf("Main(run) = %d, want %d; stderr %q", code, ExitUsage, stderr)
	}
	for _, want := range []string{"build.buildkit: docker cannot build for kind cluster dev", "target.type: docker", "buildkitd"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("Main(run) stderr = %q, want it to contain %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "building") {
		t.Errorf("stderr = %q: nothing may be built", stderr)
	}
}
