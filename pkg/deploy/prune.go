package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/devloop/devloop/pkg/event"
)

// Prune deletes this project's objects that are not in keep (normally what Apply
// just returned) and returns what it deleted. It lists, in every namespace and by
// this project's label selector, each kind recorded in the inventory, each kind in
// keep, and Namespaces; then it re-reads every candidate right before deleting it and
// deletes only when the live object still carries this project's labels, is not
// controlled by another object, and is not a Namespace or CRD that devloop did not
// create. Deletes are conditional on the UID seen and ordered workloads first,
// Namespaces last. The namespace holding the inventory is never pruned (Cleanup
// removes it when devloop created it). Afterwards the inventory keeps only the kinds
// of keep and of objects that could not be deleted.
//
// Prune reports one progress event per deleted object (message "pruned") and a
// failure event on error.
func (d *Deployer) Prune(ctx context.Context, keep []Ref) ([]Ref, error) {
	start := time.Now()
	pruned, err := d.prune(ctx, keep, false)
	if err != nil {
		err = fmt.Errorf("pruning: %w", err)
		d.sendFailure(ctx, err, time.Since(start))
	}
	return pruned, err
}

// Cleanup deletes every object of this project that the checks of Prune allow,
// including the namespace devloop created for Options.Namespace, then the inventory.
// Besides the kinds Prune lists it also lists the common built-in kinds, so a lost
// inventory does not leave the usual objects behind.
// `devloop dev --cleanup` calls it on exit. Called after Ctrl-C, it needs a context
// that is not cancelled yet: context.WithoutCancel with a timeout of its own.
func (d *Deployer) Cleanup(ctx context.Context) ([]Ref, error) {
	start := time.Now()
	deleted, err := d.prune(ctx, nil, true)
	if err == nil {
		err = d.deleteInventory(ctx)
	}
	if err != nil {
		err = fmt.Errorf("cleaning up: %w", err)
		d.sendFailure(ctx, err, time.Since(start))
	}
	return deleted, err
}

// candidate is a listed object that may be deleted.
type candidate struct {
	ref     Ref
	mapping *meta.RESTMapping
}

func (d *Deployer) prune(ctx context.Context, keep []Ref, cleanup bool) ([]Ref, error) {
	inv, err := d.readInventory(ctx)
	if err != nil {
		return nil, err
	}
	namespaceGVK := schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	gvks := append(append(slices.Clone(inv.kinds), gvksOf(keep)...), namespaceGVK)
	if cleanup {
		gvks = append(gvks, commonKinds()...)
	}
	gvks = uniqueGVKs(gvks)
	keepSet := map[key]bool{d.inventoryRef().key(): true}
	for _, r := range keep {
		keepSet[r.key()] = true
	}
	if !cleanup {
		keepSet[Ref{APIVersion: "v1", Kind: "Namespace", Name: d.opts.Namespace}.key()] = true
	}

	var errs []error
	remaining := gvksOf(keep) // kinds the inventory must still list afterwards
	listed := map[schema.GroupKind]bool{}
	var cands []candidate
	for _, gvk := range gvks {
		m, ok := d.pruneMapping(gvk)
		if !ok || listed[m.GroupVersionKind.GroupKind()] {
			continue
		}
		listed[m.GroupVersionKind.GroupKind()] = true
		list, err := d.dyn.Resource(m.Resource).List(ctx, metav1.ListOptions{LabelSelector: d.selector()})
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", m.Resource.Resource, err))
			remaining = append(remaining, gvk)
			continue
		}
		for i := range list.Items {
			item := &list.Items[i]
			if item.GetKind() == "" {
				item.SetGroupVersionKind(m.GroupVersionKind)
			}
			r := refOf(item)
			if keepSet[r.key()] || !d.owns(item) || metav1.GetControllerOf(item) != nil {
				continue
			}
			cands = append(cands, candidate{ref: r, mapping: m})
		}
	}

	refs := make([]Ref, len(cands))
	byRef := map[Ref]*meta.RESTMapping{}
	for i, c := range cands {
		refs[i] = c.ref
		byRef[c.ref] = c.mapping
	}
	sortForDelete(refs)
	var deleted []Ref
	for _, r := range refs {
		ok, err := d.deleteOwned(ctx, byRef[r], r)
		if err != nil {
			errs = append(errs, &objectErr{ref: r, err: fmt.Errorf("deleting %s: %w", r, err)})
		}
		if !ok {
			remaining = append(remaining, schema.FromAPIVersionAndKind(r.APIVersion, r.Kind))
			continue
		}
		deleted = append(deleted, r)
		d.send(ctx, event.Event{Status: event.StatusProgress, Resource: r.String(), Message: "pruned"})
	}
	if err := errors.Join(errs...); err != nil {
		return deleted, err
	}
	if cleanup && len(remaining) == 0 {
		return deleted, nil // the inventory is deleted next
	}
	return deleted, d.writeInventory(ctx, inv, remaining)
}

// commonKinds are the built-in kinds manifests usually hold.
func commonKinds() []schema.GroupVersionKind {
	core := func(k string) schema.GroupVersionKind { return schema.GroupVersionKind{Version: "v1", Kind: k} }
	apps := func(k string) schema.GroupVersionKind {
		return schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: k}
	}
	rbac := func(k string) schema.GroupVersionKind {
		return schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: k}
	}
	return []schema.GroupVersionKind{
		core("ConfigMap"), core("Secret"), core("Service"), core("ServiceAccount"), core("Pod"),
		core("PersistentVolumeClaim"), apps("Deployment"), apps("StatefulSet"), apps("DaemonSet"),
		apps("ReplicaSet"), {Group: "batch", Version: "v1", Kind: "Job"}, {Group: "batch", Version: "v1", Kind: "CronJob"},
		{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, rbac("Role"), rbac("RoleBinding"),
		rbac("ClusterRole"), rbac("ClusterRoleBinding"),
	}
}

// pruneMapping resolves a recorded kind, falling back to the preferred version when
// the recorded one is no longer served; ok is false when the kind is gone.
func (d *Deployer) pruneMapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, bool) {
	m, err := d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		m, err = d.mapper.RESTMapping(gvk.GroupKind())
	}
	return m, err == nil
}

// deleteOwned deletes r after re-reading it and checking it is still this project's
// (see Prune); ok is false when it was left alone or was already gone.
func (d *Deployer) deleteOwned(ctx context.Context, m *meta.RESTMapping, r Ref) (ok bool, err error) {
	res := d.resource(m, r.Namespace)
	live, err := res.Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !d.deletable(live) {
		return false, nil
	}
	uid := live.GetUID()
	err = res.Delete(ctx, r.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return false, nil // gone, or replaced by another object of the same name
	}
	return err == nil, err
}

// deletable is the last check before a delete, on the live object.
func (d *Deployer) deletable(live *unstructured.Unstructured) bool {
	if !d.owns(live) || metav1.GetControllerOf(live) != nil || live.GetDeletionTimestamp() != nil {
		return false
	}
	gk := live.GroupVersionKind().GroupKind()
	if !cascades(gk) {
		return true
	}
	if gk.Kind == "Namespace" && protectedNamespace(live.GetName()) {
		return false
	}
	return live.GetAnnotations()[AnnotationCreated] == "true"
}

// protectedNamespace names namespaces devloop never deletes.
func protectedNamespace(name string) bool {
	switch name {
	case "default", "kube-system", "kube-public", "kube-node-lease":
		return true
	}
	return false
}

// deleteInventory removes the inventory ConfigMap, if it is this project's.
func (d *Deployer) deleteInventory(ctx context.Context) error {
	m := &meta.RESTMapping{
		Resource:         configMapsGVR(),
		GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
		Scope:            meta.RESTScopeNamespace,
	}
	if _, err := d.deleteOwned(ctx, m, d.inventoryRef()); err != nil {
		return fmt.Errorf("deleting inventory: %w", err)
	}
	return nil
}
