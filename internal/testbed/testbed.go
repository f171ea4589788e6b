// Package testbed lets integration tests find the local test bed that
// `hack/testbed/testbed up` starts (real dockerd, buildkitd, registry, a Kubernetes
// node and a kind-style node container). It reads the variables `testbed env` prints.
// With the test bed absent a test is skipped locally and fails in CI (CI=true), so a
// green CI always means the integration tests really ran.
package testbed

import (
	"os"
	"testing"
)

// Env is what `hack/testbed/testbed env` exports.
type Env struct {
	Kubeconfig     string // KUBECONFIG: admin kubeconfig of the test bed cluster
	Context        string // DEVLOOP_TESTBED_CONTEXT: its context name (a local one)
	DockerHost     string // DOCKER_HOST: unix:///var/run/docker.sock
	BuildkitHost   string // BUILDKIT_HOST: unix:///run/devloop-testbed/buildkitd.sock
	Registry       string // DEVLOOP_TESTBED_REGISTRY: host:port of the local registry (plain HTTP)
	ContainerdSock string // DEVLOOP_TESTBED_CONTAINERD: the node's containerd socket
	KindCluster    string // DEVLOOP_TESTBED_KIND_CLUSTER: name of the kind-style node's cluster
	KindNode       string // DEVLOOP_TESTBED_KIND_NODE: its container name
	BaseImagesDir  string // DEVLOOP_TESTBED_IMAGES: docker-archive tars of the seeded base images
	NodeName       string // DEVLOOP_TESTBED_NODE: the Kubernetes node name
	DNSIP          string // DEVLOOP_TESTBED_DNS: cluster DNS address
}

// FromEnviron reads Env from the process environment; ok is false when the test bed
// variables are not set.
func FromEnviron() (Env, bool) {
	e := Env{
		Kubeconfig:     os.Getenv("KUBECONFIG"),
		Context:        os.Getenv("DEVLOOP_TESTBED_CONTEXT"),
		DockerHost:     os.Getenv("DOCKER_HOST"),
		BuildkitHost:   os.Getenv("BUILDKIT_HOST"),
		Registry:       os.Getenv("DEVLOOP_TESTBED_REGISTRY"),
		ContainerdSock: os.Getenv("DEVLOOP_TESTBED_CONTAINERD"),
		KindCluster:    os.Getenv("DEVLOOP_TESTBED_KIND_CLUSTER"),
		KindNode:       os.Getenv("DEVLOOP_TESTBED_KIND_NODE"),
		BaseImagesDir:  os.Getenv("DEVLOOP_TESTBED_IMAGES"),
		NodeName:       os.Getenv("DEVLOOP_TESTBED_NODE"),
		DNSIP:          os.Getenv("DEVLOOP_TESTBED_DNS"),
	}
	return e, os.Getenv("DEVLOOP_TESTBED") == "1"
}

// Require returns the test bed's Env, or ends the test: skipped under -short or when
// the test bed is absent outside CI, failed when it is absent in CI.
func Require(t testing.TB) Env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	e, ok := FromEnviron()
	if ok {
		return e
	}
	const how = `the test bed is not running: start it with "hack/testbed/testbed up" and run "eval $(hack/testbed/testbed env)"`
	if os.Getenv("CI") == "true" {
		t.Fatal(how)
	}
	t.Skip(how)
	return Env{}
}
