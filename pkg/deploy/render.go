package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RenderOptions vary between renders of the same project.
type RenderOptions struct {
	// Sideloaded says the images were put straight into the nodes (docker, kind,
	// containerd targets) rather than pushed to a registry: containers running them
	// get imagePullPolicy IfNotPresent so the kubelet never tries to pull them.
	// Images in custom resources (ImagePath) get no pull policy: their schema is
	// unknown.
	Sideloaded bool
}

// Rendered is what Render produces.
type Rendered struct {
	// Objects are the objects to apply, in apply order. They still carry the
	// in-memory source annotation set by Read, which Apply strips.
	Objects []*unstructured.Unstructured
	// Hash is "sha256:<hex>" over Objects as they will be applied: equal hashes mean
	// there is nothing new to apply.
	Hash string
}

// Render prepares objects for Apply without touching the cluster; objs are not
// modified. images maps the image names written in manifests (a repository, any tag
// or digest ignored) to the references the cluster should run; every PodSpec of
// Pods, ReplicationControllers, PodTemplates, Deployments, ReplicaSets, StatefulSets,
// DaemonSets, Jobs and CronJobs (containers, initContainers and ephemeralContainers)
// and every configured ImagePath is searched. An image of images that no object uses
// is an error: the manifests probably name it differently than devloop.yaml.
//
// Render also labels and annotates each object as this project's (see the package
// documentation), gives namespaced objects without a namespace Options.Namespace
// (deciding scope from built-in knowledge and CRDs in objs; Apply corrects it with
// the API server's view) and rejects objects defined twice.
func (d *Deployer) Render(objs []*unstructured.Unstructured, images map[string]string, opts RenderOptions) (*Rendered, error) {
	sub, err := newSubstituter(images, opts.Sideloaded)
	if err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	cluster := clusterScopedKinds()
	crds := crdScopes(objs)
	out := make([]*unstructured.Unstructured, 0, len(objs))
	seen := map[key]*unstructured.Unstructured{}
	for _, in := range objs {
		u := in.DeepCopy()
		if u.GetName() == "" || u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, objectError(u, "rendering", fmt.Errorf("apiVersion, kind and metadata.name are required"))
		}
		if err := sub.substitute(u, d.paths); err != nil {
			return nil, objectError(u, "rendering", err)
		}
		d.markOwned(u)
		gk := u.GroupVersionKind().GroupKind()
		namespaced, known := crds[gk]
		if !known {
			namespaced = !cluster[gk]
		}
		switch {
		case namespaced && u.GetNamespace() == "":
			u.SetNamespace(d.opts.Namespace)
		case !namespaced:
			u.SetNamespace("")
		}
		k := refOf(u).key()
		if prev, dup := seen[k]; dup {
			return nil, objectError(u, "rendering", fmt.Errorf("defined twice: also in %s", describe(prev)))
		}
		seen[k] = u
		out = append(out, u)
	}
	if err := unusedImages(sub, out); err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	sortForApply(out)
	h := sha256.New()
	for _, u := range out {
		data, err := json.Marshal(payload(u).Object) // map keys marshal sorted: stable
		if err != nil {
			return nil, objectError(u, "rendering", err)
		}
		h.Write(data)
		h.Write([]byte{'\n'})
	}
	return &Rendered{Objects: out, Hash: "sha256:" + hex.EncodeToString(h.Sum(nil))}, nil
}

// unusedImages reports the built images that no object refers to.
func unusedImages(sub *substituter, objs []*unstructured.Unstructured) error {
	var unused []string
	for repo := range sub.images {
		if !sub.used[repo] {
			unused = append(unused, sub.names[repo])
		}
	}
	if len(unused) == 0 {
		return nil
	}
	sort.Strings(unused)
	const max = 20
	var searched []string
	for i, u := range objs {
		if i == max {
			searched = append(searched, fmt.Sprintf("and %d more", len(objs)-max))
			break
		}
		searched = append(searched, describe(u))
	}
	where := "no manifests"
	if len(searched) > 0 {
		where = strings.Join(searched, ", ")
	}
	noun := "image"
	if len(unused) > 1 {
		noun = "images"
	}
	return fmt.Errorf("built %s %s not used by any manifest (searched %s): check the image names in the manifests, or add an imagePath for custom resources",
		noun, strings.Join(unused, ", "), where)
}

// crdScopes reads the scope of the kinds defined by CRDs among objs: true means
// namespaced.
func crdScopes(objs []*unstructured.Unstructured) map[schema.GroupKind]bool {
	scopes := map[schema.GroupKind]bool{}
	for _, u := range objs {
		if u.GroupVersionKind().GroupKind() != (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}) {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		if kind != "" {
			scopes[schema.GroupKind{Group: group, Kind: kind}] = scope != "Cluster"
		}
	}
	return scopes
}

// payload returns a copy of u as it is sent to the API server: without the
// in-memory source annotation.
func payload(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	a := c.GetAnnotations()
	if _, ok := a[sourceAnnotation]; ok {
		delete(a, sourceAnnotation)
		if len(a) == 0 {
			a = nil // removes the field rather than sending annotations: {}
		}
		c.SetAnnotations(a)
	}
	return c
}

// objectError wraps err with the object it concerns and, when Read recorded it, the
// manifest file and line.
func objectError(u *unstructured.Unstructured, doing string, err error) error {
	err = fmt.Errorf("%s %s: %w", doing, refOf(u), err)
	if file, line := sourceOf(u); file != "" {
		return &ManifestError{File: file, Line: line, Err: err}
	}
	return err
}
