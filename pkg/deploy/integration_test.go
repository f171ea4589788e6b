package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// liveCluster connects to the test bed the way the CLI will: a dynamic client and a
// deferred discovery RESTMapper.
type liveCluster struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	server string
	ctx    string
}

func connect(t *testing.T) liveCluster {
	t.Helper()
	env := testbed.Require(t)
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: env.Kubeconfig}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: env.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		t.Fatalf("loading kubeconfig %s: %v", env.Kubeconfig, err)
	}
	// client-go's default client-side limit (5 QPS) would dominate a local loop:
	// the CLI raises it the same way.
	cfg.QPS, cfg.Burst = 50, 100
	raw, err := cc.RawConfig()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := env.Context
	if name == "" {
		name = raw.CurrentContext
	}
	return liveCluster{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), server: cfg.Host, ctx: name}
}

func suffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func nsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
}

func TestIntegrationContextIsLocal(t *testing.T) {
	c := connect(t)
	if err := CheckContext(c.ctx, c.server, nil); err != nil {
		t.Errorf("CheckContext(test bed %q, %q) = %v, want nil", c.ctx, c.server, err)
	}
}

func TestIntegrationApplyPruneCleanup(t *testing.T) {
	c := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id := suffix(t)
	ns, foreign := "devloop-it-"+id, "devloop-it-foreign-"+id
	t.Cleanup(func() {
		ctx := context.Background()
		for _, n := range []string{ns, foreign} {
			_ = c.dyn.Resource(nsGVR()).Delete(ctx, n, metav1.DeleteOptions{})
		}
	})
	// A namespace devloop did not create, holding a hand-made ConfigMap.
	create(ctx, t, c.dyn, nsGVR(), "", obj("v1", "Namespace", "", foreign, nil, nil))
	create(ctx, t, c.dyn, configMapsGVR(), foreign, obj("v1", "ConfigMap", foreign, "hand-made", map[string]string{"app": "web"}, nil))

	rec := &event.Recorder{}
	d, err := New(c.dyn, c.mapper, Options{Project: "it-" + id, ConfigPath: "/it/devloop.yaml", Namespace: ns, Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	manifests := func(withOld bool) []*unstructured.Unstructured {
		y := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {mode: dev}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: %[2]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: 'web:latest'}]
`, ns, foreign)
		if withOld {
			y += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n"
		}
		r, err := d.Render(mustDecode(t, y), map[string]string{"web": "devloop.local/web:it"}, RenderOptions{Sideloaded: true})
		if err != nil {
			t.Fatalf("Render() error: %v", err)
		}
		return r.Objects
	}

	applied, err := d.Apply(ctx, manifests(true))
	if err != nil {
		t.Fatalf("Apply() error: %v", err)
	}
	want := []string{"|namespace/" + ns, ns + "|configmap/cfg", foreign + "|configmap/cfg", ns + "|configmap/old", ns + "|deployment/web"}
	if diff := cmp.Diff(want, refStrings(applied)); diff != "" {
		t.Errorf("Apply() refs (-want +got):\n%s", diff)
	}
	cfg := get(ctx, t, c.dyn, configMapsGVR(), ns, "cfg")
	if diff := cmp.Diff(map[string]string{LabelManagedBy: "devloop", LabelProject: "it-" + id}, cfg.GetLabels()); diff != "" {
		t.Errorf("live labels (-want +got):\n%s", diff)
	}
	if got := cfg.GetAnnotations(); got[AnnotationConfig] != "/it/devloop.yaml" || got[sourceAnnotation] != "" {
		t.Errorf("live annotations = %v, want %s and no source annotation", got, AnnotationConfig)
	}
	if mf := cfg.GetManagedFields(); len(mf) != 1 || mf[0].Manager != FieldManager || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("managed fields = %+v, want one Apply entry by %q", mf, FieldManager)
	}
	dep := get(ctx, t, c.dyn, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, ns, "web")
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if got := containers[0].(map[string]interface{}); got["image"] != "devloop.local/web:it" || got["imagePullPolicy"] != "IfNotPresent" {
		t.Errorf("live container = %v, want the built image with IfNotPresent", got)
	}

	// Re-applying the same objects is a no-op for the API server.
	again, err := d.Apply(ctx, manifests(true))
	if err != nil {
		t.Fatalf("second Apply() error: %v", err)
	}
	if diff := cmp.Diff(want, refStrings(again)); diff != "" {
		t.Errorf("second Apply() refs (-want +got):\n%s", diff)
	}
	if rv := get(ctx, t, c.dyn, configMapsGVR(), ns, "cfg").GetResourceVersion(); rv != cfg.GetResourceVersion() {
		t.Errorf("re-apply changed resourceVersion %s -> %s, want a no-op", cfg.GetResourceVersion(), rv)
	}

	// Look-alikes next to devloop's objects.
	create(ctx, t, c.dyn, configMapsGVR(), ns, obj("v1", "ConfigMap", ns, "unlabelled", map[string]string{"app": "web"}, nil))
	create(ctx, t, c.dyn, configMapsGVR(), ns, obj("v1", "ConfigMap", ns, "other-project", ownedBy("someone-else"), nil))

	applied, err = d.Apply(ctx, manifests(false))
	if err != nil {
		t.Fatalf("Apply() without old error: %v", err)
	}
	pruned, err := d.Prune(ctx, applied)
	if err != nil {
		t.Fatalf("Prune() error: %v", err)
	}
	if diff := cmp.Diff([]string{ns + "|configmap/old"}, refStrings(pruned)); diff != "" {
		t.Errorf("Prune() (-want +got):\n%s", diff)
	}
	if get(ctx, t, c.dyn, configMapsGVR(), ns, "old") != nil {
		t.Error("configmap old still exists after Prune()")
	}
	for _, n := range []string{"unlabelled", "other-project", "cfg"} {
		if get(ctx, t, c.dyn, configMapsGVR(), ns, n) == nil {
			t.Errorf("Prune() deleted configmap %s", n)
		}
	}

	deleted, err := d.Cleanup(ctx)
	if err != nil {
		t.Fatalf("Cleanup() error: %v", err)
	}
	wantDeleted := []string{ns + "|deployment/web", ns + "|configmap/cfg", foreign + "|configmap/cfg", "|namespace/" + ns}
	if diff := cmp.Diff(wantDeleted, refStrings(deleted)); diff != "" {
		t.Errorf("Cleanup() (-want +got):\n%s", diff)
	}
	if live := get(ctx, t, c.dyn, nsGVR(), "", ns); live != nil && live.GetDeletionTimestamp() == nil {
		t.Errorf("namespace %s devloop created is not being deleted after Cleanup()", ns)
	}
	if get(ctx, t, c.dyn, nsGVR(), "", foreign) == nil || get(ctx, t, c.dyn, configMapsGVR(), foreign, "hand-made") == nil {
		t.Errorf("Cleanup() removed the foreign namespace or its hand-made configmap")
	}
	if get(ctx, t, c.dyn, configMapsGVR(), foreign, "cfg") != nil {
		t.Errorf("Cleanup() left devloop's configmap in the foreign namespace")
	}
}

func create(ctx context.Context, t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns string, u *unstructured.Unstructured) {
	t.Helper()
	if _, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating %s: %v", refOf(u), err)
	}
}

func get(ctx context.Context, t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("getting %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return u
}

func TestIntegrationCRDAndCustomResource(t *testing.T) {
	c := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id := suffix(t)
	ns, group := "devloop-it-crd-"+id, "it"+id+".devloop.dev"
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	t.Cleanup(func() {
		_ = c.dyn.Resource(crdGVR).Delete(context.Background(), "widgets."+group, metav1.DeleteOptions{})
		_ = c.dyn.Resource(nsGVR()).Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	d, err := New(c.dyn, c.mapper, Options{Project: "it-crd-" + id, Namespace: ns,
		ImagePaths: []ImagePath{{Kind: "Widget", Path: "{.spec.image}"}}})
	if err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf(`apiVersion: %[1]s/v1
kind: Widget
metadata: {name: w}
spec: {image: 'web:v1'}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.%[1]s}
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                image: {type: string}
`, group)
	r, err := d.Render(mustDecode(t, y), map[string]string{"web": "devloop.local/web:it"}, RenderOptions{})
	if err != nil {
		t.Fatalf("Render() error: %v", err)
	}
	applied, err := d.Apply(ctx, r.Objects)
	if err != nil {
		t.Fatalf("Apply(CRD and custom resource) error: %v", err)
	}
	want := []string{"|namespace/" + ns, "|customresourcedefinition/widgets." + group, ns + "|widget/w"}
	if diff := cmp.Diff(want, refStrings(applied)); diff != "" {
		t.Errorf("Apply() refs (-want +got):\n%s", diff)
	}
	w := get(ctx, t, c.dyn, schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, ns, "w")
	if img, _, _ := unstructured.NestedString(w.Object, "spec", "image"); img != "devloop.local/web:it" {
		t.Errorf("live widget image = %q, want the built image", img)
	}
	deleted, err := d.Cleanup(ctx)
	if err != nil {
		t.Fatalf("Cleanup() error: %v", err)
	}
	wantDeleted := []string{ns + "|widget/w", "|customresourcedefinition/widgets." + group, "|namespace/" + ns}
	if diff := cmp.Diff(wantDeleted, refStrings(deleted)); diff != "" {
		t.Errorf("Cleanup() (-want +got):\n%s", diff)
	}
}
