package sideload

import (
	"errors"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Where KEP-1755 publishes a cluster's local registry.
const (
	LocalRegistryNamespace = "kube-public"
	LocalRegistryConfigMap = "local-registry-hosting"
	LocalRegistryKey       = "localRegistryHosting.v1"
)

// LocalRegistryHosting is the localRegistryHosting.v1 document of KEP-1755
// (kind, k3d, minikube, microk8s publish it in the kube-public/local-registry-hosting
// ConfigMap).
type LocalRegistryHosting struct {
	// Host is where developers push, e.g. localhost:5001.
	Host string `json:"host,omitempty"`
	// HostFromContainerRuntime is where the nodes' container runtime pulls from.
	HostFromContainerRuntime string `json:"hostFromContainerRuntime,omitempty"`
	// HostFromClusterNetwork is where pods reach the registry.
	HostFromClusterNetwork string `json:"hostFromClusterNetwork,omitempty"`
	// Help is a URL documenting the cluster's registry.
	Help string `json:"help,omitempty"`
}

// ParseLocalRegistryHosting parses the ConfigMap's data: the caller fetches
// kube-public/local-registry-hosting and passes Data. Unknown fields are ignored, as
// the KEP asks, so newer producers keep working.
func ParseLocalRegistryHosting(data map[string]string) (LocalRegistryHosting, error) {
	doc, ok := data[LocalRegistryKey]
	if !ok {
		return LocalRegistryHosting{}, fmt.Errorf("ConfigMap %s/%s has no %s key", LocalRegistryNamespace, LocalRegistryConfigMap, LocalRegistryKey)
	}
	var h LocalRegistryHosting
	if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
		return LocalRegistryHosting{}, fmt.Errorf("parsing %s of ConfigMap %s/%s: %w", LocalRegistryKey, LocalRegistryNamespace, LocalRegistryConfigMap, err)
	}
	if h.Host == "" {
		return LocalRegistryHosting{}, errors.New("the local-registry-hosting ConfigMap names no host (the cluster has no local registry to push to)")
	}
	return h, nil
}
