package deploy

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// seeded is a cluster where project "shop" applied objects before, next to look-alikes
// that prune must never delete.
func seeded(t *testing.T) *fakeCluster {
	t.Helper()
	created := map[string]string{AnnotationCreated: "true"}
	controlled := obj("apps/v1", "ReplicaSet", "dev", "web-123", ownedBy("shop"), nil)
	controlled.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "x", Controller: ptr.To(true)}})
	c := newFakeCluster(t,
		obj("v1", "Namespace", "", "dev", ownedBy("shop"), created),
		obj("v1", "ConfigMap", "dev", "devloop-inventory-shop", ownedBy("shop"), nil),
		obj("v1", "ConfigMap", "dev", "cfg", ownedBy("shop"), nil),
		obj("v1", "ConfigMap", "dev", "old", ownedBy("shop"), nil),
		obj("v1", "ConfigMap", "other-ns", "old-elsewhere", ownedBy("shop"), nil),
		obj("example.com/v1", "Widget", "dev", "gone-kind", ownedBy("shop"), nil),
		obj("v1", "Namespace", "", "made", ownedBy("shop"), created),
		obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com", ownedBy("shop"), created),
		// Look-alikes.
		obj("v1", "ConfigMap", "dev", "unlabelled", map[string]string{"app": "web"}, nil),
		obj("v1", "ConfigMap", "dev", "other-project", ownedBy("bakery"), nil),
		obj("v1", "ConfigMap", "dev", "no-project", map[string]string{LabelManagedBy: ManagedByValue}, nil),
		obj("v1", "ConfigMap", "dev", "prefix-project", ownedBy("shop2"), nil),
		obj("v1", "ConfigMap", "dev", "other-manager", map[string]string{LabelManagedBy: "helm", LabelProject: "shop"}, nil),
		controlled,
		obj("v1", "Namespace", "", "adopted", ownedBy("shop"), nil),
		obj("v1", "Namespace", "", "default", ownedBy("shop"), created),
		obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "gadgets.example.com", ownedBy("shop"), nil),
	)
	inv := c.get(t, gvk("v1", "ConfigMap"), "dev", "devloop-inventory-shop")
	inv.Object["data"] = map[string]interface{}{inventoryKey: "example.com/v1/Widget\nv1/ConfigMap\napiextensions.k8s.io/v1/CustomResourceDefinition\napps/v1/ReplicaSet\nnot-a-line\n"}
	if err := c.dyn.Tracker().Update(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, inv, "dev"); err != nil {
		t.Fatal(err)
	}
	return c
}

// lookalikes are the objects of seeded that must survive Prune and Cleanup.
func lookalikes() []string {
	return []string{
		"ConfigMap/dev/no-project",
		"ConfigMap/dev/other-manager",
		"ConfigMap/dev/other-project",
		"ConfigMap/dev/prefix-project",
		"ConfigMap/dev/unlabelled",
		"CustomResourceDefinition//gadgets.example.com",
		"Namespace//adopted",
		"Namespace//default",
		"ReplicaSet/dev/web-123",
	}
}

func TestPrune(t *testing.T) {
	c := seeded(t)
	d := c.deployer(t, "shop")
	keep := []Ref{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "dev", Name: "cfg"}}
	pruned, err := d.Prune(context.Background(), keep)
	if err != nil {
		t.Fatalf("Prune() error: %v", err)
	}
	wantPruned := []string{
		"dev|widget/gone-kind",
		"dev|configmap/old",
		"other-ns|configmap/old-elsewhere",
		"|customresourcedefinition/widgets.example.com",
		"|namespace/made",
	}
	if diff := cmp.Diff(wantPruned, refStrings(pruned)); diff != "" {
		t.Errorf("Prune() (-want +got):\n%s", diff)
	}
	want := append([]string{
		"ConfigMap/dev/cfg",
		"ConfigMap/dev/devloop-inventory-shop",
		"Namespace//dev", // holds the inventory: only Cleanup deletes it
	}, lookalikes()...)
	assertCluster(t, c, want)

	// The inventory forgets kinds that have no objects left, and keeps the kinds of
	// objects it could not delete so the next prune looks again.
	inv := c.get(t, gvk("v1", "ConfigMap"), "dev", "devloop-inventory-shop")
	kinds, _, _ := unstructured.NestedString(inv.Object, "data", inventoryKey)
	if diff := cmp.Diff("apiextensions.k8s.io/v1/CustomResourceDefinition\nv1/ConfigMap\nv1/Namespace", kinds); diff != "" {
		t.Errorf("inventory after prune (-want +got):\n%s", diff)
	}
	var events []string
	for _, e := range c.events.Events() {
		events = append(events, string(e.Status)+" "+e.Resource+" "+e.Message)
	}
	if diff := cmp.Diff("progress widget/gone-kind pruned", events[0]); diff != "" {
		t.Errorf("first prune event (-want +got):\n%s", diff)
	}
}

func assertCluster(t *testing.T, c *fakeCluster, want []string) {
	t.Helper()
	want = append([]string(nil), want...)
	sort.Strings(want)
	if diff := cmp.Diff(want, c.names(t)); diff != "" {
		t.Errorf("objects left in the cluster (-want +got):\n%s", diff)
	}
}

func TestPruneRechecksLiveObject(t *testing.T) {
	// The list says "racy" is ours, but by the time of the delete its labels changed:
	// the live object decides.
	c := newFakeCluster(t, obj("v1", "ConfigMap", "dev", "racy", map[string]string{"app": "mine-now"}, nil))
	c.dyn.PrependReactor("list", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion("v1")
		l.SetKind("ConfigMapList")
		l.Items = []unstructured.Unstructured{*obj("v1", "ConfigMap", "dev", "racy", ownedBy("shop"), nil)}
		return true, l, nil
	})
	d := c.deployer(t, "shop")
	pruned, err := d.Prune(context.Background(), keepCfg())
	if err != nil {
		t.Fatalf("Prune() error: %v", err)
	}
	if len(pruned) != 0 {
		t.Errorf("Prune() = %v, want nothing pruned", refStrings(pruned))
	}
	if c.get(t, gvk("v1", "ConfigMap"), "dev", "racy") == nil {
		t.Error("Prune() deleted an object whose live labels are not devloop's")
	}
	for _, a := range c.dyn.Actions() {
		if a.GetVerb() == "delete" {
			t.Errorf("Prune() sent %v", a)
		}
	}
}

// keepCfg keeps one ConfigMap, so Prune lists ConfigMaps without an inventory.
func keepCfg() []Ref {
	return []Ref{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "dev", Name: "cfg"}}
}

func TestPruneDeletesByUID(t *testing.T) {
	c := newFakeCluster(t, obj("v1", "ConfigMap", "dev", "old", ownedBy("shop"), nil))
	var uids []string
	c.dyn.PrependReactor("delete", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		da := a.(k8stesting.DeleteActionImpl)
		if p := da.DeleteOptions.Preconditions; p != nil && p.UID != nil {
			uids = append(uids, string(*p.UID))
		}
		return false, nil, nil
	})
	if _, err := c.deployer(t, "shop").Prune(context.Background(), keepCfg()); err != nil {
		t.Fatalf("Prune() error: %v", err)
	}
	if diff := cmp.Diff([]string{"uid-1"}, uids); diff != "" {
		t.Errorf("delete preconditions (-want +got):\n%s", diff)
	}
}

func TestPruneReportsDeleteErrors(t *testing.T) {
	c := newFakeCluster(t, obj("v1", "ConfigMap", "dev", "old", ownedBy("shop"), nil), obj("v1", "ConfigMap", "dev", "old2", ownedBy("shop"), nil))
	c.dyn.PrependReactor("delete", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.DeleteAction).GetName() == "old" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "old", nil)
		}
		return false, nil, nil
	})
	pruned, err := c.deployer(t, "shop").Prune(context.Background(), keepCfg())
	if err == nil || !strings.Contains(err.Error(), "deleting configmap/old") {
		t.Errorf("Prune() error = %v, want it to name configmap/old", err)
	}
	if diff := cmp.Diff([]string{"dev|configmap/old2"}, refStrings(pruned)); diff != "" {
		t.Errorf("Prune() continues after a failed delete (-want +got):\n%s", diff)
	}
}

func TestCleanup(t *testing.T) {
	c := seeded(t)
	d := c.deployer(t, "shop")
	deleted, err := d.Cleanup(context.Background())
	if err != nil {
		t.Fatalf("Cleanup() error: %v", err)
	}
	want := []string{
		"dev|widget/gone-kind",
		"dev|configmap/cfg",
		"dev|configmap/old",
		"other-ns|configmap/old-elsewhere",
		"|customresourcedefinition/widgets.example.com",
		"|namespace/dev",
		"|namespace/made",
	}
	if diff := cmp.Diff(want, refStrings(deleted)); diff != "" {
		t.Errorf("Cleanup() (-want +got):\n%s", diff)
	}
	assertCluster(t, c, lookalikes())
}

func TestCleanupWithoutInventory(t *testing.T) {
	// Project "bakery" has no inventory: Cleanup still finds its objects of common kinds.
	c := seeded(t)
	deleted, err := c.deployer(t, "bakery").Cleanup(context.Background())
	if err != nil {
		t.Fatalf("Cleanup() error: %v", err)
	}
	if diff := cmp.Diff([]string{"dev|configmap/other-project"}, refStrings(deleted)); diff != "" {
		t.Errorf("Cleanup() of project bakery (-want +got):\n%s", diff)
	}
}

func TestApplyThenPrune(t *testing.T) {
	c := newFakeCluster(t, obj("v1", "ConfigMap", "dev", "hand-made", nil, nil))
	d := c.deployer(t, "shop")
	if _, err := d.Apply(context.Background(), render(t, d, app)); err != nil {
		t.Fatalf("first Apply() error: %v", err)
	}
	// The ConfigMap and the extra namespace with its Service leave the manifests.
	applied, err := d.Apply(context.Background(), render(t, d, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}"))
	if err != nil {
		t.Fatalf("second Apply() error: %v", err)
	}
	pruned, err := d.Prune(context.Background(), applied)
	if err != nil {
		t.Fatalf("Prune() error: %v", err)
	}
	if diff := cmp.Diff([]string{"extra|service/web", "dev|configmap/cfg", "|namespace/extra"}, refStrings(pruned)); diff != "" {
		t.Errorf("Prune() (-want +got):\n%s", diff)
	}
	assertCluster(t, c, []string{"ConfigMap/dev/devloop-inventory-shop", "ConfigMap/dev/hand-made", "Deployment/dev/web", "Namespace//dev"})
}
