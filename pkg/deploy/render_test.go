package deploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const mixed = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: explicit}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hook}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: ignored}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Gadget, plural: gadgets}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g}
---
apiVersion: v1
kind: Namespace
metadata: {name: explicit}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb}
`

func TestRenderOrderAndNamespaces(t *testing.T) {
	r, err := renderer(t).Render(mustDecode(t, mixed), nil, RenderOptions{})
	if err != nil {
		t.Fatalf("Render() error: %v", err)
	}
	var got []string
	for _, u := range r.Objects {
		got = append(got, u.GetNamespace()+"|"+refOf(u).String())
	}
	want := []string{
		"|namespace/explicit",
		"|customresourcedefinition/gadgets.example.com",
		"dev|serviceaccount/sa",
		"dev|secret/s",
		"dev|configmap/cfg",
		"|clusterrole/reader",
		"dev|rolebinding/rb",
		"explicit|service/web",
		"dev|deployment/web",
		"dev|widget/w",
		"|gadget/g",
		"|validatingwebhookconfiguration/hook",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render() order and namespaces (-want +got):\n%s", diff)
	}
}

func TestRenderLabels(t *testing.T) {
	r, err := renderer(t).Render(mustDecode(t, mixed), nil, RenderOptions{})
	if err != nil {
		t.Fatalf("Render() error: %v", err)
	}
	for _, u := range r.Objects {
		wantLabels := map[string]string{LabelManagedBy: "devloop", LabelProject: "shop"}
		if u.GetName() == "web" && u.GetKind() == "Deployment" {
			wantLabels["app"] = "web"
		}
		if diff := cmp.Diff(wantLabels, u.GetLabels()); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", refOf(u), diff)
		}
		if got := payload(u).GetAnnotations(); !cmp.Equal(got, map[string]string{AnnotationConfig: "/src/devloop.yaml"}) {
			t.Errorf("%s annotations = %v, want only %s", refOf(u), got, AnnotationConfig)
		}
	}
	// Pod templates stay unlabelled so pods never look like devloop's own objects.
	dep := r.Objects[8]
	tl, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels")
	if diff := cmp.Diff(map[string]string{"app": "web"}, tl); diff != "" {
		t.Errorf("pod template labels (-want +got):\n%s", diff)
	}
}

func TestRenderHash(t *testing.T) {
	d := renderer(t)
	objs := mustDecode(t, mixed)
	hash := func(objs []*unstructured.Unstructured, images map[string]string, o RenderOptions) string {
		t.Helper()
		r, err := d.Render(objs, images, o)
		if err != nil {
			t.Fatalf("Render() error: %v", err)
		}
		return r.Hash
	}
	base := hash(objs, map[string]string{"web": "w:1"}, RenderOptions{})
	if again := hash(mustDecode(t, mixed), map[string]string{"web": "w:1"}, RenderOptions{}); again != base {
		t.Errorf("Render() hash of the same input = %s, then %s; want equal", base, again)
	}
	moved := mustDecode(t, mixed)
	for _, u := range moved {
		a := u.GetAnnotations()
		a[sourceAnnotation] = "elsewhere.yaml:99"
		u.SetAnnotations(a)
	}
	if got := hash(moved, map[string]string{"web": "w:1"}, RenderOptions{}); got != base {
		t.Errorf("Render() hash changed when only the source location changed")
	}
	changed := map[string]bool{
		"new image":  hash(objs, map[string]string{"web": "w:2"}, RenderOptions{}) != base,
		"sideloaded": hash(objs, map[string]string{"web": "w:1"}, RenderOptions{Sideloaded: true}) != base,
		"object":     hash(objs[:len(objs)-1], map[string]string{"web": "w:1"}, RenderOptions{}) != base,
	}
	for what, ok := range changed {
		if !ok {
			t.Errorf("Render() hash did not change with a different %s", what)
		}
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no project", Options{}},
		{"project not a label value", Options{Project: "my project!"}},
		{"bad image path", Options{Project: "p", ImagePaths: []ImagePath{{Kind: "K", Path: "a[b"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(nil, nil, tc.opts); err == nil {
				t.Errorf("New(%+v) = nil error, want one", tc.opts)
			}
		})
	}
}
