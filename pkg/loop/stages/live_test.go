package stages

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"

	"github.com/devloop/devloop/pkg/loop"
)

func obj(kind, apiVersion, ns, name, hash string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	if hash != "" {
		u.SetAnnotations(map[string]string{loop.AnnotationHash: hash})
	}
	return u
}

func TestLiveCurrent(t *testing.T) {
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	rendered := []*unstructured.Unstructured{obj("Namespace", "v1", "", "ns", ""), obj("Deployment", "apps/v1", "ns", "web", "")}
	tests := []struct {
		name string
		live []runtime.Object
		want bool
	}{
		{name: "every object carries the hash", want: true, live: []runtime.Object{
			obj("Namespace", "v1", "", "ns", "sha256:1"), obj("Deployment", "apps/v1", "ns", "web", "sha256:1")}},
		{name: "one object carries another hash", live: []runtime.Object{
			obj("Namespace", "v1", "", "ns", "sha256:1"), obj("Deployment", "apps/v1", "ns", "web", "sha256:0")}},
		{name: "one object is gone", live: []runtime.Object{obj("Namespace", "v1", "", "ns", "sha256:1")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
				{Group: "apps", Version: "v1", Resource: "deployments"}: "DeploymentList",
				{Version: "v1", Resource: "namespaces"}:                 "NamespaceList",
			}, tc.live...)
			got, err := Live{Dyn: dyn, Mapper: mapper}.Current(context.Background(), rendered, "sha256:1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Current() = %v, want %v", got, tc.want)
			}
		})
	}
}
