package rollout

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// workloadKind is one of the kinds whose rollout this package understands.
type workloadKind int

const (
	kindUnsupported workloadKind = iota
	kindDeployment
	kindStatefulSet
	kindDaemonSet
	kindJob
)

func kindOf(gk schema.GroupKind) workloadKind {
	switch {
	case gk.Group == "apps" && gk.Kind == "Deployment":
		return kindDeployment
	case gk.Group == "apps" && gk.Kind == "StatefulSet":
		return kindStatefulSet
	case gk.Group == "apps" && gk.Kind == "DaemonSet":
		return kindDaemonSet
	case gk.Group == "batch" && gk.Kind == "Job":
		return kindJob
	}
	return kindUnsupported
}

// restResource is the plural REST name of k.
func (k workloadKind) restResource() string {
	switch k {
	case kindDeployment:
		return "deployments"
	case kindStatefulSet:
		return "statefulsets"
	case kindDaemonSet:
		return "daemonsets"
	case kindJob:
		return "jobs"
	}
	return ""
}

// Supports reports whether [Status] and [Watcher.Wait] understand the kind gk
// (apps Deployment, StatefulSet, DaemonSet and batch Job). Objects of other kinds have
// no rollout to wait for.
func Supports(gk schema.GroupKind) bool {
	return kindOf(gk) != kindUnsupported
}

// Resource names one workload to wait for.
type Resource struct {
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
}

// ResourceOf returns the Resource naming obj.
func ResourceOf(obj *unstructured.Unstructured) Resource {
	return Resource{GVK: obj.GroupVersionKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// String returns the short form users know from kubectl, e.g. "deployment/web".
func (r Resource) String() string {
	return strings.ToLower(r.GVK.Kind) + "/" + r.Name
}

// gvr returns the REST resource to list and watch r through.
func (r Resource) gvr() (schema.GroupVersionResource, error) {
	k := kindOf(r.GVK.GroupKind())
	if k == kindUnsupported {
		return schema.GroupVersionResource{}, fmt.Errorf("%s: no rollout status for kind %s", r, r.GVK.GroupKind())
	}
	v := r.GVK.Version
	if v == "" {
		v = "v1"
	}
	return schema.GroupVersionResource{Group: r.GVK.Group, Version: v, Resource: k.restResource()}, nil
}
