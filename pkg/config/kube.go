package config

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeOptions are the kubectl-style flags that choose a cluster. Empty
// fields fall back the way kubectl's do.
type KubeOptions struct {
	// Kubeconfig is an explicit kubeconfig file (--kubeconfig); empty means
	// $KUBECONFIG (a list of files, merged) or ~/.kube/config.
	Kubeconfig string
	// Context is the kube context to use (--context); empty means the
	// kubeconfig's current-context.
	Context string
	// Namespace overrides the context's namespace (--namespace). The caller
	// passes deploy.namespace here when the flag is not set.
	Namespace string
}

// KubeTarget is the cluster devloop will talk to.
type KubeTarget struct {
	// RestConfig is ready for client-go clients.
	RestConfig *rest.Config
	// Context is the effective context name; empty only for in-cluster
	// configuration.
	Context string
	// Cluster is the kubeconfig cluster entry the context points at.
	Cluster string
	// Server is the API server URL.
	Server string
	// Namespace is the effective namespace: KubeOptions.Namespace, else the
	// context's namespace, else "default".
	Namespace string
}

// ResolveKube loads the kubeconfig with kubectl's rules (--kubeconfig, then
// $KUBECONFIG, then ~/.kube/config) and resolves the context, cluster and
// namespace to use.
func ResolveKube(o KubeOptions) (*KubeTarget, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.Namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)

	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	name := raw.CurrentContext
	if o.Context != "" {
		name = o.Context
	}
	kctx, ok := raw.Contexts[name]
	switch {
	case name == "" && len(raw.Contexts) == 0:
		// No kubeconfig at all: client-go may still find an in-cluster
		// configuration; if not, say where we looked.
		rc, err := cc.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("no kube context: no kubeconfig found in %s; start a local cluster or pass --kubeconfig", kubeconfigSources(rules))
		}
		ns, _, err := cc.Namespace()
		if err != nil {
			return nil, fmt.Errorf("resolving namespace: %w", err)
		}
		return &KubeTarget{RestConfig: rc, Server: rc.Host, Namespace: ns}, nil
	case name == "":
		return nil, fmt.Errorf("no kube context: kubeconfig has no current-context; pass --context (have %s)", contextNames(raw.Contexts))
	case !ok:
		return nil, fmt.Errorf("kube context %q not found in kubeconfig (have %s)", name, contextNames(raw.Contexts))
	}

	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kube context %q: %w", name, err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kube context %q: resolving namespace: %w", name, err)
	}
	t := &KubeTarget{RestConfig: rc, Context: name, Cluster: kctx.Cluster, Server: rc.Host, Namespace: ns}
	if c, ok := raw.Clusters[kctx.Cluster]; ok && c.Server != "" {
		t.Server = c.Server
	}
	return t, nil
}

func contextNames[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, fmt.Sprintf("%q", n))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func kubeconfigSources(r *clientcmd.ClientConfigLoadingRules) string {
	if r.ExplicitPath != "" {
		return r.ExplicitPath
	}
	return strings.Join(r.Precedence, ", ")
}
