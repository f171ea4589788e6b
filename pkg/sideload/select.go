package sideload

import (
	"fmt"
	"os"
	"strings"
)

// Target types, as devloop.yaml spells them.
const (
	TargetAuto       = "auto"
	TargetDocker     = "docker"
	TargetKind       = "kind"
	TargetContainerd = "containerd"
	TargetRegistry   = "registry"
)

// The test bed `hack/testbed/testbed up` starts: its kube context and its node's
// containerd.
const (
	TestbedContext          = "devloop-testbed"
	TestbedContainerdSocket = "/run/devloop-testbed/containerd/containerd.sock"
)

// Targets lists the target types Select knows.
func Targets() []string {
	return []string{TargetAuto, TargetDocker, TargetKind, TargetContainerd, TargetRegistry}
}

// SelectOptions is what Select decides from: the configured target and the kube
// context, plus what the caller already looked up, so Select itself does no I/O.
type SelectOptions struct {
	// Target is one of Targets(); empty means auto.
	Target string
	// KubeContext is the current kube context name.
	KubeContext string
	// KindCluster names the kind cluster; default: NAME of a kind-NAME context.
	KindCluster string
	// ContainerdSocket is the containerd target's socket; default: the test bed's
	// when KubeContext is TestbedContext.
	ContainerdSocket string
	// ContainerdNamespace is the containerd target's namespace, the one its
	// kubelet reads; default DefaultNamespace.
	ContainerdNamespace string
	// Registry and PullRegistry configure the registry target; default: from
	// LocalRegistry.
	Registry, PullRegistry string
	// Insecure pushes to Registry over plain HTTP.
	Insecure bool
	// LocalRegistry is the cluster's KEP-1755 local-registry-hosting ConfigMap,
	// parsed with ParseLocalRegistryHosting; nil when the cluster has none.
	LocalRegistry *LocalRegistryHosting
	// Getenv reads DOCKER_HOST and friends; default os.Getenv.
	Getenv func(string) string
	// Runner runs docker, ctr and minikube; default ExecRunner{}.
	Runner Runner
}

// Select returns the one Target for opts: the only place targets are chosen.
// With auto, the kube context decides: kind-NAME → kind cluster NAME; minikube →
// docker through minikube's docker-env; docker-desktop → docker; the test bed →
// its containerd; any other cluster publishing a local registry (KEP-1755) → that
// registry. Context names come first: they say more than the ConfigMap (kind and
// the test bed may publish one too, and loading into the node beats a registry).
func Select(opts SelectOptions) (Target, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Runner == nil {
		opts.Runner = ExecRunner{}
	}
	switch opts.Target {
	case "", TargetAuto:
		return selectAuto(opts)
	case TargetDocker:
		return selectDocker(opts)
	case TargetKind:
		return selectKind(opts)
	case TargetContainerd:
		return selectContainerd(opts)
	case TargetRegistry:
		return selectRegistry(opts)
	}
	return nil, fmt.Errorf("unknown sideload target %q: want one of %s", opts.Target, strings.Join(Targets(), ", "))
}

func selectAuto(opts SelectOptions) (Target, error) {
	ctx := opts.KubeContext
	switch {
	case strings.HasPrefix(ctx, "kind-"):
		return selectKind(opts)
	case ctx == "minikube", ctx == "docker-desktop":
		return selectDocker(opts)
	case ctx == TestbedContext:
		return selectContainerd(opts)
	case opts.LocalRegistry != nil || opts.Registry != "":
		return selectRegistry(opts)
	}
	return nil, fmt.Errorf("no sideload target for kube context %q: set the target to one of %s (auto knows kind-*, minikube, docker-desktop, %s and clusters publishing a local registry, KEP-1755)",
		ctx, strings.Join(Targets()[1:], ", "), TestbedContext)
}

func selectDocker(opts SelectOptions) (Target, error) {
	if opts.KubeContext == "minikube" && opts.Getenv("DOCKER_HOST") == "" {
		// Not eval'd into this shell: ask minikube when loading.
		return NewDocker(DockerOptions{
			ResolveEnv: MinikubeDockerEnv(opts.Runner, "minikube"),
			Describe:   "minikube docker-env",
		})
	}
	return NewDocker(DockerOptions{Env: DockerEnvFrom(opts.Getenv)})
}

func selectKind(opts SelectOptions) (Target, error) {
	cluster := opts.KindCluster
	if cluster == "" {
		cluster, _ = strings.CutPrefix(opts.KubeContext, "kind-")
		if cluster == opts.KubeContext {
			cluster = ""
		}
	}
	if cluster == "" {
		return nil, fmt.Errorf("kind target: no cluster name (set it, or use a kind-NAME kube context; the context is %q)", opts.KubeContext)
	}
	return NewKind(KindOptions{Cluster: cluster, Runner: opts.Runner})
}

func selectContainerd(opts SelectOptions) (Target, error) {
	co := ContainerdOptions{Socket: opts.ContainerdSocket, Namespace: opts.ContainerdNamespace, Runner: opts.Runner}
	if co.Socket == "" && opts.KubeContext == TestbedContext {
		co.Socket = TestbedContainerdSocket
	}
	if co.Socket == TestbedContainerdSocket {
		co.Hint = "is the test bed running? (hack/testbed/testbed up)"
	}
	if co.Socket == "" {
		return nil, fmt.Errorf("containerd target: no socket (set it, e.g. /run/containerd/containerd.sock; k3s: /run/k3s/containerd/containerd.sock)")
	}
	return NewContainerd(co)
}

func selectRegistry(opts SelectOptions) (Target, error) {
	ro := RegistryOptions{Registry: opts.Registry, PullRegistry: opts.PullRegistry, Insecure: opts.Insecure}
	if ro.Registry == "" && opts.LocalRegistry != nil {
		ro.Registry = opts.LocalRegistry.Host
		if ro.PullRegistry == "" {
			ro.PullRegistry = opts.LocalRegistry.HostFromContainerRuntime
		}
	}
	if ro.Registry == "" {
		return nil, fmt.Errorf("registry target: no registry (set it, or publish one in the %s/%s ConfigMap, KEP-1755)", LocalRegistryNamespace, LocalRegistryConfigMap)
	}
	return NewRegistry(ro)
}
