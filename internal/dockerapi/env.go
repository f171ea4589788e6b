package dockerapi

import (
	"fmt"
	"strings"
)

// DefaultHost is where the Docker daemon listens when DOCKER_HOST is unset.
const DefaultHost = "unix:///var/run/docker.sock"

// Default ports of a tcp:// host that names none, as dockerd listens.
const (
	defaultPort    = "2375"
	defaultTLSPort = "2376"
)

// Env says how to reach a Docker daemon, as the docker CLI reads it from
// DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH (which is what
// `minikube docker-env` sets).
type Env struct {
	// Host is unix:///path or tcp://host[:port]; empty means DefaultHost.
	Host string
	// TLS talks TLS to a tcp:// host; TLSVerify also checks the daemon's
	// certificate against CertPath/ca.pem. TLSVerify implies TLS.
	TLS, TLSVerify bool
	// CertPath holds ca.pem, cert.pem and key.pem; empty means ~/.docker.
	CertPath string
}

// EnvFrom reads an Env with getenv (os.Getenv, or a parsed docker-env). Like
// the docker CLI, DOCKER_CERT_PATH alone does not turn TLS on.
func EnvFrom(getenv func(string) string) Env {
	e := Env{
		Host:      getenv("DOCKER_HOST"),
		TLSVerify: getenv("DOCKER_TLS_VERIFY") != "",
		CertPath:  getenv("DOCKER_CERT_PATH"),
	}
	e.TLS = e.TLSVerify || getenv("DOCKER_TLS") != ""
	if e.Host == "" {
		e.Host = DefaultHost
	}
	return e
}

// useTLS reports whether connections to a tcp:// host use TLS.
func (e Env) useTLS() bool { return e.TLS || e.TLSVerify }

// ParseHost splits a Docker host into the network ("unix" or "tcp") and the
// address to dial, as written: a tcp:// address without a port gets one from
// [New]. Only unix:// and tcp:// are supported (ssh:// needs the docker CLI).
func ParseHost(host string) (network, addr string, err error) {
	scheme, rest, ok := strings.Cut(host, "://")
	if !ok {
		return "", "", fmt.Errorf("docker host %q: missing scheme (unix:// or tcp://)", host)
	}
	switch scheme {
	case "unix":
		if rest == "" {
			return "", "", fmt.Errorf("docker host %q: empty socket path", host)
		}
		return "unix", rest, nil
	case "tcp":
		rest = strings.TrimSuffix(rest, "/")
		if rest == "" {
			return "", "", fmt.Errorf("docker host %q: empty address", host)
		}
		return "tcp", rest, nil
	default:
		return "", "", fmt.Errorf("docker host %q: unsupported scheme %q (want unix:// or tcp://)", host, scheme)
	}
}
