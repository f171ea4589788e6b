package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/devloop/devloop/pkg/event"
)

// Apply server-side applies objs (normally Render's Objects) in apply order, with
// field manager "devloop" and Force, and returns what it applied; on error it returns
// what was applied before the failing object. Pass the returned refs to Prune.
//
// Before the first object that is not a Namespace, Apply makes sure Options.Namespace
// exists (creating it, labelled and annotated [AnnotationCreated], when missing; it
// is then part of the result) and records the applied kinds in the inventory.
// Namespaces are corrected with the API server's view of each kind's scope. Custom
// resources whose CRD is in objs wait (up to Options.MappingTimeout) for the API
// server to serve their kind.
//
// Apply reports phase "deploy" events: start, one progress event per object
// (resource "kind/name"), then success or failure.
func (d *Deployer) Apply(ctx context.Context, objs []*unstructured.Unstructured) ([]Ref, error) {
	start := time.Now()
	d.send(ctx, event.Event{Status: event.StatusStart, Message: fmt.Sprintf("applying %d objects", len(objs))})
	applied, err := d.apply(ctx, objs)
	if err != nil {
		d.sendFailure(ctx, err, time.Since(start))
		return applied, err
	}
	d.send(ctx, event.Event{Status: event.StatusSuccess, Message: fmt.Sprintf("applied %d objects", len(applied)), Duration: time.Since(start)})
	return applied, nil
}

// sendFailure reports err, with the manifest location when known.
func (d *Deployer) sendFailure(ctx context.Context, err error, took time.Duration) {
	e := event.Event{Status: event.StatusFailure, Message: err.Error(), Duration: took}
	var me *ManifestError
	if errors.As(err, &me) {
		e.File, e.Line = me.File, me.Line
	}
	var oe *objectErr
	if errors.As(err, &oe) {
		e.Resource = oe.ref.String()
	}
	d.send(ctx, e)
}

// objectErr carries the object an apply or delete failed on, for events.
type objectErr struct {
	ref Ref
	err error
}

func (e *objectErr) Error() string { return e.err.Error() }
func (e *objectErr) Unwrap() error { return e.err }

func (d *Deployer) apply(ctx context.Context, objs []*unstructured.Unstructured) ([]Ref, error) {
	sorted := append([]*unstructured.Unstructured(nil), objs...)
	sortForApply(sorted)
	crds := crdScopes(objs)
	var applied []Ref
	prepared := false
	prepare := func() error {
		prepared = true
		ns, err := d.ensureNamespace(ctx, sorted)
		if err != nil {
			return err
		}
		if ns != nil {
			applied = append(applied, *ns)
		}
		inv, err := d.readInventory(ctx)
		if err != nil {
			return err
		}
		kinds := append(slices.Clone(inv.kinds), gvksOf(applied)...)
		for _, u := range sorted {
			kinds = append(kinds, u.GroupVersionKind())
		}
		return d.writeInventory(ctx, inv, kinds)
	}
	for _, u := range sorted {
		if !prepared && u.GetKind() != "Namespace" {
			if err := prepare(); err != nil {
				return applied, err
			}
		}
		_, isCRKind := crds[u.GroupVersionKind().GroupKind()]
		ref, err := d.applyOne(ctx, u, isCRKind)
		if err != nil {
			return applied, &objectErr{ref: refOf(u), err: objectError(u, "applying", err)}
		}
		applied = append(applied, ref)
		d.send(ctx, event.Event{Status: event.StatusProgress, Resource: ref.String(), Message: "applied"})
	}
	if !prepared && len(sorted) > 0 {
		if err := prepare(); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// applyOne applies one object; wait says its kind comes from a CRD in the same batch,
// so the API server may need a moment to serve it.
func (d *Deployer) applyOne(ctx context.Context, u *unstructured.Unstructured, wait bool) (Ref, error) {
	gvk := u.GroupVersionKind()
	m, err := d.mapping(ctx, gvk, wait)
	if err != nil {
		return Ref{}, err
	}
	p := payload(u)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if p.GetNamespace() == "" {
			p.SetNamespace(d.opts.Namespace)
		}
	} else {
		p.SetNamespace("")
	}
	res := d.resource(m, p.GetNamespace())
	if cascades(gvk.GroupKind()) {
		if err := d.markCreated(ctx, res, p); err != nil {
			return Ref{}, err
		}
	}
	data, err := json.Marshal(p.Object)
	if err != nil {
		return Ref{}, err
	}
	err = d.retry(ctx, wait, apierrors.IsNotFound, func() error {
		_, err := res.Patch(ctx, p.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)})
		return err
	})
	if err != nil {
		return Ref{}, err
	}
	return refOf(p), nil
}

// cascades reports kinds whose deletion deletes other objects devloop may not own.
func cascades(gk schema.GroupKind) bool {
	return gk == schema.GroupKind{Kind: "Namespace"} ||
		gk == schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
}

// markCreated sets AnnotationCreated on p when devloop creates the object now or
// created it before, and strips it otherwise.
func (d *Deployer) markCreated(ctx context.Context, res dynamic.ResourceInterface, p *unstructured.Unstructured) error {
	created := false
	live, err := res.Get(ctx, p.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		created = true
	case err != nil:
		return err
	default:
		created = d.owns(live) && live.GetAnnotations()[AnnotationCreated] == "true"
	}
	a := p.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	delete(a, AnnotationCreated)
	if created {
		a[AnnotationCreated] = "true"
	}
	if len(a) == 0 {
		a = nil
	}
	p.SetAnnotations(a)
	return nil
}

// ensureNamespace creates Options.Namespace when it is missing and objs do not define
// it, and returns its ref when devloop created it (now or earlier).
func (d *Deployer) ensureNamespace(ctx context.Context, objs []*unstructured.Unstructured) (*Ref, error) {
	for _, u := range objs {
		if u.GetKind() == "Namespace" && u.GroupVersionKind().Group == "" && u.GetName() == d.opts.Namespace {
			return nil, nil // applied with the manifests
		}
	}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	live, err := d.dyn.Resource(nsGVR).Get(ctx, d.opts.Namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("checking namespace %s: %w", d.opts.Namespace, err)
	case d.owns(live) && live.GetAnnotations()[AnnotationCreated] == "true":
		// Created by an earlier run: keep it in the applied set so Prune keeps it.
	default:
		return nil, nil // someone else's: use it, never touch it
	}
	ns := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]interface{}{
			"name":        d.opts.Namespace,
			"annotations": map[string]interface{}{AnnotationCreated: "true"},
		},
	}}
	d.markOwned(ns)
	data, err := json.Marshal(ns.Object)
	if err != nil {
		return nil, err
	}
	if _, err := d.dyn.Resource(nsGVR).Patch(ctx, d.opts.Namespace, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)}); err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", d.opts.Namespace, err)
	}
	ref := refOf(ns)
	d.send(ctx, event.Event{Status: event.StatusProgress, Resource: ref.String(), Message: "applied"})
	return &ref, nil
}

// resource returns the client for objects of m in namespace ns (ignored for
// cluster-scoped kinds).
func (d *Deployer) resource(m *meta.RESTMapping, ns string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return d.dyn.Resource(m.Resource).Namespace(ns)
	}
	return d.dyn.Resource(m.Resource)
}

// mapping resolves gvk; with wait it retries while the API server does not serve the
// kind yet (a CRD applied moments ago), resetting a resettable mapper between tries.
func (d *Deployer) mapping(ctx context.Context, gvk schema.GroupVersionKind, wait bool) (*meta.RESTMapping, error) {
	var m *meta.RESTMapping
	err := d.retry(ctx, wait, meta.IsNoMatchError, func() error {
		var err error
		m, err = d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			if r, ok := d.mapper.(meta.ResettableRESTMapper); ok {
				r.Reset()
			}
		}
		return err
	})
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("the API server does not serve %s (is its CRD installed?): %w", gvk.GroupVersion().WithKind(gvk.Kind), err)
	}
	return m, err
}

// retry calls fn until it succeeds, fails with an error that again does not match,
// or Options.MappingTimeout passes; without wait it calls fn once.
func (d *Deployer) retry(ctx context.Context, wait bool, again func(error) bool, fn func() error) error {
	deadline := time.Now().Add(d.opts.MappingTimeout)
	delay := 50 * time.Millisecond
	for {
		err := fn()
		if err == nil || !wait || !again(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}
