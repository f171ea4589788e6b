package sideload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/devloop/devloop/internal/dockerapi"
)

// DefaultDockerHost is where the Docker daemon listens when DOCKER_HOST is unset.
const DefaultDockerHost = dockerapi.DefaultHost

// DockerEnv says how to reach a Docker daemon, as the docker CLI reads it from
// DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH (which is what
// `minikube docker-env` sets): Host (unix:///path or tcp://host[:port]), TLS,
// TLSVerify (which also checks the daemon's certificate against CertPath/ca.pem)
// and CertPath (ca.pem, cert.pem and key.pem; default ~/.docker).
type DockerEnv = dockerapi.Env

// DockerEnvFrom reads a DockerEnv with getenv (os.Getenv, or a parsed docker-env).
func DockerEnvFrom(getenv func(string) string) DockerEnv {
	return dockerapi.EnvFrom(getenv)
}

// ParseDockerEnv reads the KEY=VALUE lines of `minikube docker-env --shell none`
// (export KEY="VALUE" lines of other shells work too); comments are skipped.
func ParseDockerEnv(out []byte) map[string]string {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		env[strings.TrimSpace(k)] = v
	}
	return env
}

// MinikubeDockerEnv returns a function that asks minikube (profile, e.g. "minikube")
// how to reach the Docker daemon inside its node: `minikube -p PROFILE docker-env
// --shell none`. It runs at load time, so choosing the target stays free of I/O.
func MinikubeDockerEnv(r Runner, profile string) func(context.Context) (DockerEnv, error) {
	if r == nil {
		r = ExecRunner{}
	}
	return func(ctx context.Context) (DockerEnv, error) {
		out, err := output(ctx, r, "minikube", "-p", profile, "docker-env", "--shell", "none")
		if err != nil {
			return DockerEnv{}, fmt.Errorf("asking minikube for its Docker daemon: %w: is minikube running? (minikube start -p %s)", err, profile)
		}
		env := ParseDockerEnv(out)
		if env["DOCKER_HOST"] == "" {
			return DockerEnv{}, fmt.Errorf("minikube docker-env -p %s printed no DOCKER_HOST (is the container runtime docker?)", profile)
		}
		return DockerEnvFrom(func(k string) string { return env[k] }), nil
	}
}
