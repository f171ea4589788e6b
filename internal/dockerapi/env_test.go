package dockerapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnvFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Env
	}{{
		name: "nothing set is the default socket",
		want: Env{Host: DefaultHost},
	}, {
		name: "minikube docker-env",
		env:  map[string]string{"DOCKER_HOST": "tcp://192.168.49.2:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/home/dev/.minikube/certs"},
		want: Env{Host: "tcp://192.168.49.2:2376", TLS: true, TLSVerify: true, CertPath: "/home/dev/.minikube/certs"},
	}, {
		name: "DOCKER_TLS without verification",
		env:  map[string]string{"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS": "1"},
		want: Env{Host: "tcp://h:2376", TLS: true},
	}, {
		name: "a cert path alone does not turn TLS on",
		env:  map[string]string{"DOCKER_HOST": "tcp://h:2375", "DOCKER_CERT_PATH": "/certs"},
		want: Env{Host: "tcp://h:2375", CertPath: "/certs"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := EnvFrom(func(k string) string { return tc.env[k] })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EnvFrom() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHost(t *testing.T) {
	for _, tc := range []struct {
		host     string
		wantNet  string
		wantAddr string
		wantErr  bool
	}{
		{host: "unix:///var/run/docker.sock", wantNet: "unix", wantAddr: "/var/run/docker.sock"},
		{host: "tcp://192.168.49.2:2376", wantNet: "tcp", wantAddr: "192.168.49.2:2376"},
		{host: "tcp://192.168.49.2:2376/", wantNet: "tcp", wantAddr: "192.168.49.2:2376"},
		{host: "tcp://docker", wantNet: "tcp", wantAddr: "docker"},
		{host: "unix://", wantErr: true},
		{host: "tcp://", wantErr: true},
		{host: "ssh://me@docker", wantErr: true},
		{host: "https://docker:2376", wantErr: true},
		{host: "/var/run/docker.sock", wantErr: true},
	} {
		t.Run(tc.host, func(t *testing.T) {
			network, addr, err := ParseHost(tc.host)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseHost(%q) error = %v, wantErr %v", tc.host, err, tc.wantErr)
			}
			if network != tc.wantNet || addr != tc.wantAddr {
				t.Errorf("ParseHost(%q) = %q, %q, want %q, %q", tc.host, network, addr, tc.wantNet, tc.wantAddr)
			}
		})
	}
}
