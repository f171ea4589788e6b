package deploy

import (
	"errors"
	"testing"
)

func TestCheckContext(t *testing.T) {
	tests := []struct {
		name    string
		context string
		server  string
		allow   []string
		wantErr bool
	}{
		{name: "kind", context: "kind-dev", server: "https://10.0.0.5:6443"},
		{name: "minikube", context: "minikube", server: "https://192.168.49.2:8443"},
		{name: "docker desktop", context: "docker-desktop", server: "https://kubernetes.docker.internal:6443"},
		{name: "k3d", context: "k3d-mycluster", server: "https://0.0.0.0:6550"},
		{name: "colima", context: "colima", server: "https://192.168.5.1:6443"},
		{name: "colima profile", context: "colima-work", server: "https://192.168.5.1:6443"},
		{name: "rancher desktop", context: "rancher-desktop", server: "https://192.168.1.4:6443"},
		{name: "orbstack", context: "orbstack", server: "https://10.1.1.1:26443"},
		{name: "microk8s", context: "microk8s", server: "https://10.1.1.1:16443"},
		{name: "test bed", context: "devloop-testbed", server: "https://10.1.1.1:6443"},
		{name: "loopback IPv4 server", context: "custom", server: "https://127.0.0.1:6443"},
		{name: "loopback 127/8 server", context: "custom", server: "https://127.1.2.3:6443"},
		{name: "loopback IPv6 server", context: "custom", server: "https://[::1]:6443"},
		{name: "localhost server", context: "custom", server: "https://localhost:6443"},
		{name: "bare host:port server", context: "custom", server: "localhost:8080"},
		{name: "remote", context: "prod", server: "https://prod.example.com", wantErr: true},
		{name: "remote with local-looking prefix", context: "kindred", server: "https://10.0.0.1", wantErr: true},
		{name: "name contains a local one", context: "prod-minikube", server: "https://10.0.0.1", wantErr: true},
		{name: "loopback name in a remote host", context: "x", server: "https://localhost.example.com", wantErr: true},
		{name: "remote server that starts with 127", context: "x", server: "https://127.0.0.1.nip.io", wantErr: true},
		{name: "no server", context: "x", server: "", wantErr: true},
		{name: "allowed by name", context: "prod", server: "https://prod.example.com", allow: []string{"staging", "prod"}},
		{name: "allowed by glob", context: "gke_team_dev", server: "https://34.1.1.1", allow: []string{"gke_*_dev"}},
		{name: "glob that does not match", context: "gke_team_prod", server: "https://34.1.1.1", allow: []string{"gke_*_dev"}, wantErr: true},
		{name: "bad glob still matches exactly", context: "a[b", server: "https://34.1.1.1", allow: []string{"a[b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckContext(tc.context, tc.server, tc.allow)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckContext(%q, %q, %q) = %v, wantErr %v", tc.context, tc.server, tc.allow, err, tc.wantErr)
			}
			var nl *NonLocalContextError
			if err != nil && !errors.As(err, &nl) {
				t.Errorf("CheckContext() error %T, want *NonLocalContextError", err)
			}
		})
	}
}

func TestCheckContextMessage(t *testing.T) {
	err := CheckContext("prod", "https://prod.example.com", nil)
	const want = `refusing to deploy to non-local context "prod": add it to allowContexts in devloop.yaml or pass --allow-context=prod`
	if err == nil || err.Error() != want {
		t.Errorf("CheckContext(prod) = %v, want %q", err, want)
	}
}
