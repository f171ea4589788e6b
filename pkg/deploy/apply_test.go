package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devloop/devloop/pkg/event"
)

const app = `apiVersion: v1
kind: Namespace
metadata: {name: extra}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {mode: dev}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: web}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: extra}
`

func render(t *testing.T, d *Deployer, manifests string) []*unstructured.Unstructured {
	t.Helper()
	r, err := d.Render(mustDecode(t, manifests), nil, RenderOptions{})
	if err != nil {
		t.Fatalf("Render() error: %v", err)
	}
	return r.Objects
}

func refStrings(refs []Ref) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Namespace+"|"+r.String())
	}
	return out
}

func gvk(apiVersion, kind string) schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(apiVersion, kind)
}

func TestApply(t *testing.T) {
	c := newFakeCluster(t)
	d := c.deployer(t, "shop")
	objs := render(t, d, app)
	applied, err := d.Apply(context.Background(), objs)
	if err != nil {
		t.Fatalf("Apply() error: %v", err)
	}
	want := []string{"|namespace/extra", "|namespace/dev", "dev|configmap/cfg", "extra|service/web", "dev|deployment/web"}
	if diff := cmp.Diff(want, refStrings(applied)); diff != "" {
		t.Errorf("Apply() refs (-want +got):\n%s", diff)
	}

	cm := c.get(t, gvk("v1", "ConfigMap"), "dev", "cfg")
	if cm == nil {
		t.Fatal("configmap dev/cfg was not created")
	}
	if diff := cmp.Diff(ownedBy("shop"), cm.GetLabels()); diff != "" {
		t.Errorf("live configmap labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{AnnotationConfig: "/src/devloop.yaml"}, cm.GetAnnotations()); diff != "" {
		t.Errorf("live configmap annotations (-want +got): the source annotation must not reach the cluster\n%s", diff)
	}
	for _, ns := range []string{"dev", "extra"} {
		if got := c.get(t, gvk("v1", "Namespace"), "", ns).GetAnnotations()[AnnotationCreated]; got != "true" {
			t.Errorf("namespace %s annotation %s = %q, want \"true\" (devloop created it)", ns, AnnotationCreated, got)
		}
	}
	inv := c.get(t, gvk("v1", "ConfigMap"), "dev", "devloop-inventory-shop")
	kinds, _, _ := unstructured.NestedString(inv.Object, "data", inventoryKey)
	if diff := cmp.Diff("apps/v1/Deployment\nv1/ConfigMap\nv1/Namespace\nv1/Service", kinds); diff != "" {
		t.Errorf("inventory kinds (-want +got):\n%s", diff)
	}

	// Applying again changes nothing and still reports the namespace devloop created.
	again, err := d.Apply(context.Background(), objs)
	if err != nil {
		t.Fatalf("second Apply() error: %v", err)
	}
	if diff := cmp.Diff(want, refStrings(again)); diff != "" {
		t.Errorf("second Apply() refs (-want +got):\n%s", diff)
	}

	var got []string
	for _, e := range c.events.Events() {
		if e.Phase != event.PhaseDeploy {
			t.Errorf("event phase = %q, want deploy", e.Phase)
		}
		got = append(got, string(e.Status)+" "+e.Resource+" "+e.Message)
	}
	wantEvents := []string{
		"start  applying 4 objects", "progress namespace/extra applied", "progress namespace/dev applied",
		"progress configmap/cfg applied", "progress service/web applied", "progress deployment/web applied",
		"success  applied 5 objects",
	}
	if diff := cmp.Diff(wantEvents, got[:len(wantEvents)]); diff != "" {
		t.Errorf("Apply() events (-want +got):\n%s", diff)
	}
}

func TestApplyLeavesForeignNamespaceAlone(t *testing.T) {
	c := newFakeCluster(t, obj("v1", "Namespace", "", "dev", map[string]string{"team": "x"}, nil))
	d := c.deployer(t, "shop")
	applied, err := d.Apply(context.Background(), render(t, d, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}"))
	if err != nil {
		t.Fatalf("Apply() error: %v", err)
	}
	if diff := cmp.Diff([]string{"dev|configmap/cfg"}, refStrings(applied)); diff != "" {
		t.Errorf("Apply() refs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"team": "x"}, c.get(t, gvk("v1", "Namespace"), "", "dev").GetLabels()); diff != "" {
		t.Errorf("existing namespace labels changed (-want +got):\n%s", diff)
	}
}

func TestApplyAdoptedNamespaceIsNotMarkedCreated(t *testing.T) {
	c := newFakeCluster(t, obj("v1", "Namespace", "", "extra", nil, nil))
	d := c.deployer(t, "shop")
	if _, err := d.Apply(context.Background(), render(t, d, app)); err != nil {
		t.Fatalf("Apply() error: %v", err)
	}
	ns := c.get(t, gvk("v1", "Namespace"), "", "extra")
	if _, ok := ns.GetAnnotations()[AnnotationCreated]; ok {
		t.Errorf("pre-existing namespace got %s: devloop did not create it", AnnotationCreated)
	}
}

func TestApplyInventoryNotOurs(t *testing.T) {
	c := newFakeCluster(t, obj("v1", "ConfigMap", "dev", "devloop-inventory-shop", nil, nil))
	d := c.deployer(t, "shop")
	_, err := d.Apply(context.Background(), render(t, d, app))
	if err == nil || !strings.Contains(err.Error(), "is not labelled") {
		t.Errorf("Apply() with a foreign inventory configmap error = %v, want a refusal", err)
	}
}

const crdAndCR = `apiVersion: apiextensions.k8s.io/v1
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
`

func TestApplyWaitsForCRD(t *testing.T) {
	c := newFakeCluster(t)
	c.mapper.late = map[schema.GroupKind]bool{{Group: "example.com", Kind: "Gadget"}: true}
	c.mapper.after = 2
	d := c.deployer(t, "shop")
	applied, err := d.Apply(context.Background(), render(t, d, crdAndCR))
	if err != nil {
		t.Fatalf("Apply() error: %v", err)
	}
	want := []string{"|namespace/dev", "|customresourcedefinition/gadgets.example.com", "|gadget/g"}
	if diff := cmp.Diff(want, refStrings(applied)); diff != "" {
		t.Errorf("Apply() refs (-want +got):\n%s", diff)
	}
}

func TestApplyUnknownKindFailsFast(t *testing.T) {
	c := newFakeCluster(t)
	c.mapper.late = map[schema.GroupKind]bool{{Group: "example.com", Kind: "Gadget"}: true}
	c.mapper.after = 1 << 30
	d := c.deployer(t, "shop")
	start := time.Now()
	_, err := d.Apply(context.Background(), render(t, d, "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}"))
	if err == nil || !strings.Contains(err.Error(), "is its CRD installed?") {
		t.Errorf("Apply(unknown kind) error = %v, want a hint about the CRD", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Apply(unknown kind) took %v, want it to fail fast", took)
	}
}

func TestApplyCancelledWhileWaitingForCRD(t *testing.T) {
	c := newFakeCluster(t)
	c.mapper.late = map[schema.GroupKind]bool{{Group: "example.com", Kind: "Gadget"}: true}
	c.mapper.after = 1 << 30
	d := c.deployer(t, "shop")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := d.Apply(ctx, render(t, d, crdAndCR))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Apply() with a cancelled context error = %v, want context.DeadlineExceeded", err)
	}
}

func TestApplyFailureEvent(t *testing.T) {
	c := newFakeCluster(t)
	c.dyn.PrependReactor("patch", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", nil)
	})
	d := c.deployer(t, "shop")
	applied, err := d.Apply(context.Background(), render(t, d, app))
	if err == nil {
		t.Fatal("Apply() = nil error, want the patch failure")
	}
	if !apierrors.IsInvalid(err) {
		t.Errorf("Apply() error = %v, want it to wrap the API error", err)
	}
	if len(applied) != 4 {
		t.Errorf("Apply() returned %d refs, want the 4 applied before the failure", len(applied))
	}
	evs := c.events.Events()
	got := evs[len(evs)-1]
	want := event.Event{Phase: event.PhaseDeploy, Status: event.StatusFailure, Resource: "deployment/web", File: "test.yaml", Line: 10}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(event.Event{}, "Time", "Message", "Duration", "DurationMS")); diff != "" {
		t.Errorf("failure event (-want +got):\n%s", diff)
	}
}

func TestApplyNothing(t *testing.T) {
	c := newFakeCluster(t)
	applied, err := c.deployer(t, "shop").Apply(context.Background(), nil)
	if err != nil || len(applied) != 0 {
		t.Errorf("Apply(nil) = %v, %v; want nothing applied", applied, err)
	}
	if got := c.names(t); len(got) != 0 {
		t.Errorf("Apply(nil) created %v, want nothing", got)
	}
}
