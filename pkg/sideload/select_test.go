package sideload

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	kep := &LocalRegistryHosting{Host: "localhost:5001", HostFromContainerRuntime: "registry:5000"}
	tests := []struct {
		name    string
		opts    SelectOptions
		want    string // the chosen loader's String()
		wantErr string
	}{
		{name: "kind context", opts: SelectOptions{KubeContext: "kind-dev"}, want: "kind cluster dev"},
		{name: "kind context, explicit auto", opts: SelectOptions{Target: "auto", KubeContext: "kind-kind"}, want: "kind cluster kind"},
		{name: "kind wins over its registry ConfigMap", opts: SelectOptions{KubeContext: "kind-dev", LocalRegistry: kep}, want: "kind cluster dev"},
		{name: "minikube without docker-env", opts: SelectOptions{KubeContext: "minikube", Getenv: env()}, want: "docker (minikube docker-env)"},
		{name: "minikube with docker-env eval'd", opts: SelectOptions{KubeContext: "minikube", Getenv: env("DOCKER_HOST", "tcp://192.168.49.2:2376", "DOCKER_TLS_VERIFY", "1")}, want: "docker at tcp://192.168.49.2:2376"},
		{name: "docker desktop", opts: SelectOptions{KubeContext: "docker-desktop", Getenv: env()}, want: "docker at unix:///var/run/docker.sock"},
		{name: "test bed", opts: SelectOptions{KubeContext: TestbedContext}, want: "containerd at " + TestbedContainerdSocket},
		{name: "KEP-1755 registry", opts: SelectOptions{KubeContext: "k3d-dev", LocalRegistry: kep}, want: "registry localhost:5001"},
		{name: "unknown context", opts: SelectOptions{KubeContext: "gke_prod"}, wantErr: `no sideload target for kube context "gke_prod": set the target to one of docker, kind, containerd, registry`},
		{name: "explicit docker", opts: SelectOptions{Target: "docker", KubeContext: "gke_prod", Getenv: env("DOCKER_HOST", "unix:///run/user/docker.sock")}, want: "docker at unix:///run/user/docker.sock"},
		{name: "explicit kind with cluster", opts: SelectOptions{Target: "kind", KindCluster: "x", KubeContext: "kind-y"}, want: "kind cluster x"},
		{name: "explicit kind without cluster", opts: SelectOptions{Target: "kind", KubeContext: "minikube"}, wantErr: "kind target: no cluster name"},
		{name: "explicit containerd", opts: SelectOptions{Target: "containerd", ContainerdSocket: "/run/k3s/containerd/containerd.sock"}, want: "containerd at /run/k3s/containerd/containerd.sock"},
		{name: "explicit containerd without socket", opts: SelectOptions{Target: "containerd", KubeContext: "k3s"}, wantErr: "containerd target: no socket"},
		{name: "explicit registry", opts: SelectOptions{Target: "registry", Registry: "registry.example.com"}, want: "registry registry.example.com"},
		{name: "explicit registry from ConfigMap", opts: SelectOptions{Target: "registry", LocalRegistry: kep}, want: "registry localhost:5001"},
		{name: "explicit registry without one", opts: SelectOptions{Target: "registry"}, wantErr: "registry target: no registry"},
		{name: "unknown target", opts: SelectOptions{Target: "podman"}, wantErr: `unknown sideload target "podman": want one of auto, docker, kind, containerd, registry`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Select(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("Select() error = %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Select() = %v", err)
			}
			if got := fmt.Sprint(l); got != tc.want {
				t.Errorf("Select() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelectRegistryPullHost(t *testing.T) {
	l, err := Select(SelectOptions{KubeContext: "k3d-dev", LocalRegistry: &LocalRegistryHosting{Host: "localhost:5001", HostFromContainerRuntime: "registry:5000"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.(*registryLoader).opts.PullRegistry; got != "registry:5000" {
		t.Errorf("PullRegistry = %q, want registry:5000", got)
	}
}

func TestContainerdSocketMissing(t *testing.T) {
	if _, err := os.Stat(TestbedContainerdSocket); err == nil {
		t.Skip("the test bed is running")
	}
	dir := t.TempDir()
	_, vs := testImages(t, 1, 64, 1)
	ds := writeLayout(t, dir, vs[0])
	l, err := Select(SelectOptions{KubeContext: TestbedContext, Runner: &fakeRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), Digest: ds[0], LayoutDir: dir})
	want := "containerd socket " + TestbedContainerdSocket + " does not exist: is the test bed running? (hack/testbed/testbed up)"
	if err == nil || err.Error() != want {
		t.Errorf("Load() = %v, want %q", err, want)
	}
}

func TestSelectType(t *testing.T) {
	kep := &LocalRegistryHosting{Host: "localhost:5001"}
	tests := []struct {
		name string
		opts SelectOptions
		want string
	}{
		{name: "kind", opts: SelectOptions{KubeContext: "kind-dev"}, want: TargetKind},
		{name: "minikube", opts: SelectOptions{KubeContext: "minikube", Getenv: func(string) string { return "" }}, want: TargetDocker},
		{name: "test bed", opts: SelectOptions{KubeContext: TestbedContext}, want: TargetContainerd},
		{name: "KEP-1755 registry", opts: SelectOptions{KubeContext: "k3d-dev", LocalRegistry: kep}, want: TargetRegistry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Select(tc.opts)
			if err != nil {
				t.Fatalf("Select() = %v", err)
			}
			if got := l.Type(); got != tc.want {
				t.Errorf("Select().Type() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelectContainerdNamespace(t *testing.T) {
	for _, tc := range []struct{ namespace, want string }{{"", DefaultNamespace}, {"devloop", "devloop"}} {
		l, err := Select(SelectOptions{Target: TargetContainerd, ContainerdSocket: "/run/containerd/containerd.sock", ContainerdNamespace: tc.namespace})
		if err != nil {
			t.Fatal(err)
		}
		if got := l.(*containerdLoader).opts.Namespace; got != tc.want {
			t.Errorf("Select(ContainerdNamespace %q): namespace = %q, want %q", tc.namespace, got, tc.want)
		}
	}
}
