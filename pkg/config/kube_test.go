package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const kubeconfigAB = `apiVersion: v1
kind: Config
current-context: kind-a
clusters:
  - name: kind-a
    cluster: {server: "https://127.0.0.1:6443"}
  - name: remote-b
    cluster: {server: "https://b.example.com"}
users:
  - name: dev
    user: {token: secret}
contexts:
  - name: kind-a
    context: {cluster: kind-a, user: dev, namespace: team-a}
  - name: b
    context: {cluster: remote-b, user: dev}
`

const kubeconfigC = `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: {server: "https://c.example.com:8443"}
users:
  - name: dev-c
    user: {token: other}
contexts:
  - name: c
    context: {cluster: c, user: dev-c, namespace: team-c}
`

const kubeconfigNoCurrent = `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster: {server: "https://c.example.com:8443"}
contexts:
  - name: c
    context: {cluster: c}
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// kubeResult is the comparable part of a KubeTarget.
type kubeResult struct {
	Context, Cluster, Server, Namespace, Host, Token string
}

func TestResolveKube(t *testing.T) {
	dir := t.TempDir()
	ab := writeFile(t, dir, "ab.yaml", kubeconfigAB)
	c := writeFile(t, dir, "c.yaml", kubeconfigC)
	noCurrent := writeFile(t, dir, "nocurrent.yaml", kubeconfigNoCurrent)
	missing := filepath.Join(dir, "missing.yaml")

	tests := []struct {
		name    string
		env     string // KUBECONFIG
		opts    KubeOptions
		want    kubeResult
		wantErr string
	}{{
		name: "current context and its namespace",
		opts: KubeOptions{Kubeconfig: ab},
		want: kubeResult{Context: "kind-a", Cluster: "kind-a", Server: "https://127.0.0.1:6443", Namespace: "team-a", Host: "https://127.0.0.1:6443", Token: "secret"},
	}, {
		name: "context flag overrides current-context, namespace defaults",
		opts: KubeOptions{Kubeconfig: ab, Context: "b"},
		want: kubeResult{Context: "b", Cluster: "remote-b", Server: "https://b.example.com", Namespace: "default", Host: "https://b.example.com", Token: "secret"},
	}, {
		name: "namespace flag overrides the context's",
		opts: KubeOptions{Kubeconfig: ab, Namespace: "mine"},
		want: kubeResult{Context: "kind-a", Cluster: "kind-a", Server: "https://127.0.0.1:6443", Namespace: "mine", Host: "https://127.0.0.1:6443", Token: "secret"},
	}, {
		name: "KUBECONFIG lists files that are merged",
		env:  ab + string(os.PathListSeparator) + c,
		opts: KubeOptions{Context: "c"},
		want: kubeResult{Context: "c", Cluster: "c", Server: "https://c.example.com:8443", Namespace: "team-c", Host: "https://c.example.com:8443", Token: "other"},
	}, {
		name: "explicit kubeconfig wins over KUBECONFIG",
		env:  c,
		opts: KubeOptions{Kubeconfig: ab},
		want: kubeResult{Context: "kind-a", Cluster: "kind-a", Server: "https://127.0.0.1:6443", Namespace: "team-a", Host: "https://127.0.0.1:6443", Token: "secret"},
	}, {
		name:    "missing explicit file",
		opts:    KubeOptions{Kubeconfig: missing},
		wantErr: "loading kubeconfig: stat " + missing + ": no such file or directory",
	}, {
		name:    "unknown context",
		opts:    KubeOptions{Kubeconfig: ab, Context: "prod"},
		wantErr: `kube context "prod" not found in kubeconfig (have "b", "kind-a")`,
	}, {
		name:    "no current context",
		opts:    KubeOptions{Kubeconfig: noCurrent},
		wantErr: `no kube context: kubeconfig has no current-context; pass --context (have "c")`,
	}, {
		name:    "no kubeconfig anywhere",
		env:     missing,
		wantErr: "no kube context: no kubeconfig found in " + missing + "; start a local cluster or pass --kubeconfig",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Never fall back to the machine's ~/.kube/config or to an
			// in-cluster configuration.
			env := tc.env
			if env == "" {
				env = missing
			}
			t.Setenv("KUBECONFIG", env)
			t.Setenv("KUBERNETES_SERVICE_HOST", "")

			got, err := ResolveKube(tc.opts)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ResolveKube(%+v) error = %v, want %q", tc.opts, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveKube(%+v) = %v", tc.opts, err)
			}
			res := kubeResult{Context: got.Context, Cluster: got.Cluster, Server: got.Server, Namespace: got.Namespace, Host: got.RestConfig.Host, Token: got.RestConfig.BearerToken}
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("ResolveKube(%+v) mismatch (-want +got):\n%s", tc.opts, diff)
			}
		})
	}
}
