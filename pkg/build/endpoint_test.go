package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name       string
		builder    string
		dockerHost string
		env        map[string]string
		socket     bool // the default buildkitd socket exists
		want       endpoint
		wantErr    bool
	}{{
		name:    "auto prefers BUILDKIT_HOST",
		builder: "auto",
		env:     map[string]string{"BUILDKIT_HOST": "unix:///run/devloop-testbed/buildkitd.sock", "DOCKER_HOST": "tcp://h:2376"},
		socket:  true,
		want:    endpoint{address: "unix:///run/devloop-testbed/buildkitd.sock", why: "BUILDKIT_HOST"},
	}, {
		name:   "empty is auto: default socket next",
		socket: true,
		want:   endpoint{address: "unix:///run/buildkit/buildkitd.sock", why: "default buildkitd socket"},
	}, {
		name: "auto falls back to the default Docker daemon",
		want: endpoint{docker: true, address: "unix:///var/run/docker.sock", why: "no buildkitd found"},
	}, {
		name: "auto falls back to DOCKER_HOST",
		env:  map[string]string{"DOCKER_HOST": "tcp://192.168.49.2:2376"},
		want: endpoint{docker: true, address: "tcp://192.168.49.2:2376", why: "no buildkitd found"},
	}, {
		name:    "docker ignores buildkitd",
		builder: "docker",
		env:     map[string]string{"BUILDKIT_HOST": "tcp://b:1234", "DOCKER_HOST": "unix:///tmp/d.sock"},
		socket:  true,
		want:    endpoint{docker: true, address: "unix:///tmp/d.sock", why: "builder: docker"},
	}, {
		name:       "docker host option beats DOCKER_HOST",
		builder:    "docker",
		dockerHost: "tcp://minikube:2376",
		env:        map[string]string{"DOCKER_HOST": "unix:///tmp/d.sock"},
		want:       endpoint{docker: true, address: "tcp://minikube:2376", why: "builder: docker"},
	}, {
		name:    "explicit buildkitd address",
		builder: "docker-container://buildkitd",
		env:     map[string]string{"BUILDKIT_HOST": "unix:///x"},
		want:    endpoint{address: "docker-container://buildkitd", why: "builder option"},
	}, {
		name:    "explicit tcp address",
		builder: "tcp://127.0.0.1:1234",
		want:    endpoint{address: "tcp://127.0.0.1:1234", why: "builder option"},
	}, {
		name:    "unknown word",
		builder: "podman",
		wantErr: true,
	}, {
		name:    "ssh docker host is not supported",
		builder: "docker",
		env:     map[string]string{"DOCKER_HOST": "ssh://me@host"},
		wantErr: true,
	}, {
		name:    "BUILDKIT_HOST without scheme",
		env:     map[string]string{"BUILDKIT_HOST": "/run/buildkit.sock"},
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			exists := func(p string) bool { return tc.socket && p == DefaultBuildkitdSocket }
			got, err := resolveEndpoint(tc.builder, tc.dockerHost, lookup, exists)
			if (err != nil) != tc.wantErr {
				t.Fatalf("resolveEndpoint(%q) error = %v, wantErr %v", tc.builder, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(endpoint{})); diff != "" {
				t.Errorf("resolveEndpoint(%q) mismatch (-want +got):\n%s", tc.builder, diff)
			}
		})
	}
}

func TestOutputFor(t *testing.T) {
	buildkitd := endpoint{address: "unix:///b.sock"}
	docker := endpoint{docker: true, address: DefaultDockerHost}
	for _, tc := range []struct {
		name    string
		opts    Options
		ep      endpoint
		want    Output
		wantErr bool
	}{
		{name: "auto on buildkitd is a layout", opts: Options{CacheDir: "/c"}, ep: buildkitd, want: OutputLayout},
		{name: "auto on docker is the daemon", ep: docker, want: OutputDaemon},
		{name: "layout needs a cache dir", opts: Options{Output: OutputLayout}, ep: buildkitd, wantErr: true},
		{name: "daemon needs docker", opts: Options{Output: OutputDaemon}, ep: buildkitd, wantErr: true},
		{name: "registry", opts: Options{Output: OutputRegistry, Registry: "127.0.0.1:5001"}, ep: buildkitd, want: OutputRegistry},
		{name: "unknown", opts: Options{Output: "tarball"}, ep: buildkitd, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opts.outputFor(tc.ep)
			if (err != nil) != tc.wantErr {
				t.Fatalf("outputFor() error = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("outputFor() = %q, want %q", got, tc.want)
			}
		})
	}
}
