package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// inventoryKey is the ConfigMap data key listing applied kinds, one
// "group/version/Kind" (or "version/Kind" for the core group) per line.
const inventoryKey = "kinds"

func configMapsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
}

// inventoryName is devloop-inventory-<project>, or a hash of the project name when
// that is not a valid object name.
func (d *Deployer) inventoryName() string {
	const prefix = "devloop-inventory-"
	p := d.opts.Project
	if len(validation.IsDNS1123Label(p)) == 0 && len(prefix)+len(p) <= validation.DNS1123LabelMaxLength {
		return prefix + p
	}
	sum := sha256.Sum256([]byte(p))
	return prefix + hex.EncodeToString(sum[:])[:16]
}

// inventoryRef names the inventory ConfigMap.
func (d *Deployer) inventoryRef() Ref {
	return Ref{APIVersion: "v1", Kind: "ConfigMap", Namespace: d.opts.Namespace, Name: d.inventoryName()}
}

// inventory is what readInventory found.
type inventory struct {
	exists bool
	kinds  []schema.GroupVersionKind // sorted, unique
}

// readInventory returns the kinds recorded by earlier applies. An object of that name
// that is not this project's is an error: devloop neither trusts nor overwrites it.
func (d *Deployer) readInventory(ctx context.Context) (inventory, error) {
	cm, err := d.dyn.Resource(configMapsGVR()).Namespace(d.opts.Namespace).Get(ctx, d.inventoryName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return inventory{}, nil
	}
	if err != nil {
		return inventory{}, fmt.Errorf("reading inventory configmap %s/%s: %w", d.opts.Namespace, d.inventoryName(), err)
	}
	if !d.owns(cm) {
		return inventory{}, fmt.Errorf("inventory configmap %s/%s exists but is not labelled %s=%s, %s=%s: rename or remove it",
			d.opts.Namespace, d.inventoryName(), LabelManagedBy, ManagedByValue, LabelProject, d.opts.Project)
	}
	data, _, _ := unstructured.NestedString(cm.Object, "data", inventoryKey)
	var gvks []schema.GroupVersionKind
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		i := strings.LastIndexByte(line, '/')
		if i <= 0 {
			continue
		}
		gv, err := schema.ParseGroupVersion(line[:i])
		if err != nil {
			continue
		}
		gvks = append(gvks, gv.WithKind(line[i+1:]))
	}
	return inventory{exists: true, kinds: uniqueGVKs(gvks)}, nil
}

// writeInventory records gvks, replacing what old recorded; it sends nothing when
// that would change nothing, saving a request per apply and prune.
func (d *Deployer) writeInventory(ctx context.Context, old inventory, gvks []schema.GroupVersionKind) error {
	gvks = uniqueGVKs(gvks)
	if old.exists && slices.Equal(old.kinds, gvks) {
		return nil
	}
	lines := make([]string, 0, len(gvks))
	for _, gvk := range gvks {
		lines = append(lines, gvkLine(gvk))
	}
	cm := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]interface{}{
			"name":      d.inventoryName(),
			"namespace": d.opts.Namespace,
		},
		"data": map[string]interface{}{inventoryKey: strings.Join(lines, "\n")},
	}}
	d.markOwned(cm)
	data, err := json.Marshal(cm.Object)
	if err != nil {
		return err
	}
	_, err = d.dyn.Resource(configMapsGVR()).Namespace(d.opts.Namespace).Patch(ctx, d.inventoryName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)})
	if err != nil {
		return fmt.Errorf("writing inventory configmap %s/%s: %w", d.opts.Namespace, d.inventoryName(), err)
	}
	return nil
}

// gvkLine formats gvk as an inventory line: "apps/v1/Deployment", "v1/ConfigMap".
func gvkLine(gvk schema.GroupVersionKind) string {
	return gvk.GroupVersion().String() + "/" + gvk.Kind
}

// uniqueGVKs sorts gvks and drops duplicates.
func uniqueGVKs(gvks []schema.GroupVersionKind) []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, g := range gvks {
		if g.Kind == "" || seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return gvkLine(out[i]) < gvkLine(out[j]) })
	return out
}

func gvksOf(refs []Ref) []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, 0, len(refs))
	for _, r := range refs {
		out = append(out, schema.FromAPIVersionAndKind(r.APIVersion, r.Kind))
	}
	return out
}
