package build

import (
	"fmt"
	"strings"

	"github.com/devloop/devloop/internal/dockerapi"
)

// Builder option values that are not buildkitd addresses.
const (
	// BuilderAuto picks BUILDKIT_HOST when set, else a buildkitd at the default
	// socket when it exists, else the Docker daemon.
	BuilderAuto = "auto"
	// BuilderDocker uses the embedded BuildKit of the Docker daemon at
	// DOCKER_HOST (or Options.DockerHost).
	BuilderDocker = "docker"
)

const (
	// DefaultBuildkitdSocket is where a system buildkitd listens.
	DefaultBuildkitdSocket = "/run/buildkit/buildkitd.sock"
	// DefaultDockerHost is the Docker daemon's default socket.
	DefaultDockerHost = dockerapi.DefaultHost
)

// endpoint is the BuildKit a Builder talks to.
type endpoint struct {
	// docker is true for a Docker daemon's embedded BuildKit.
	docker bool
	// address is the buildkitd address, or the Docker host (unix:// or tcp://).
	address string
	// why says how the endpoint was chosen, for messages.
	why string
}

// String describes the endpoint for logs and errors.
func (e endpoint) String() string {
	if e.docker {
		return "Docker daemon at " + e.address
	}
	return "buildkitd at " + e.address
}

// buildkitdSchemes are the address schemes BuildKit's client dials itself or
// through its connection helpers.
func isBuildkitdAddress(a string) bool {
	scheme, _, ok := strings.Cut(a, "://")
	if !ok {
		return false
	}
	switch scheme {
	case "unix", "tcp", "docker-container", "podman-container", "nerdctl-container",
		"kube-pod", "ssh", "npipe":
		return true
	}
	return false
}

// resolveEndpoint turns the Builder option into an endpoint. lookupEnv reads
// BUILDKIT_HOST and DOCKER_HOST; exists reports whether a path exists. Both are
// parameters so the choice is testable without daemons.
func resolveEndpoint(builder, dockerHost string, lookupEnv func(string) (string, bool), exists func(string) bool) (endpoint, error) {
	docker := func(why string) (endpoint, error) {
		h := dockerHost
		if h == "" {
			if v, ok := lookupEnv("DOCKER_HOST"); ok && v != "" {
				h = v
			} else {
				h = DefaultDockerHost
			}
		}
		if _, _, err := dockerapi.ParseHost(h); err != nil {
			return endpoint{}, err
		}
		return endpoint{docker: true, address: h, why: why}, nil
	}
	switch b := strings.TrimSpace(builder); b {
	case "", BuilderAuto:
		if v, ok := lookupEnv("BUILDKIT_HOST"); ok && v != "" {
			if !isBuildkitdAddress(v) {
				return endpoint{}, fmt.Errorf("BUILDKIT_HOST=%q: not a buildkitd address (unix://, tcp://, docker-container://, …)", v)
			}
			return endpoint{address: v, why: "BUILDKIT_HOST"}, nil
		}
		if exists(DefaultBuildkitdSocket) {
			return endpoint{address: "unix://" + DefaultBuildkitdSocket, why: "default buildkitd socket"}, nil
		}
		return docker("no buildkitd found")
	case BuilderDocker:
		return docker("builder: docker")
	default:
		if !isBuildkitdAddress(b) {
			return endpoint{}, fmt.Errorf("builder %q: want %q, %q or a buildkitd address (unix://, tcp://, docker-container://, …)", b, BuilderAuto, BuilderDocker)
		}
		return endpoint{address: b, why: "builder option"}, nil
	}
}
