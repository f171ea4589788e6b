package deploy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ImagePath tells devloop where objects of one kind hold image references, for custom
// resources whose pod templates devloop does not know.
type ImagePath struct {
	// APIVersion optionally restricts the path to one group ("example.com") or one
	// group/version ("example.com/v1"); empty matches the kind in any group.
	APIVersion string
	// Kind is the object kind, e.g. "MyApp".
	Kind string
	// Path leads to a string field holding an image reference. It is a dotted field
	// path ("spec.image"); a field holding a list is followed by "[*]" (or "[]") to
	// visit every item, or "[N]" for one item ("spec.containers[*].image"). The
	// kubectl JSONPath spelling "{.spec.containers[*].image}" is accepted too; filters
	// and keys containing dots are not. Missing fields are skipped.
	Path string
}

// imagePath is a compiled ImagePath.
type imagePath struct {
	ImagePath
	segs []segment
}

// segment is one step of a path: a field, then optionally a list index (-1 = all).
type segment struct {
	field  string
	isList bool
	index  int
}

func compileImagePath(p ImagePath) (imagePath, error) {
	if p.Kind == "" {
		return imagePath{}, fmt.Errorf("image path %q: kind is required", p.Path)
	}
	s := strings.TrimSpace(p.Path)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = s[1 : len(s)-1]
	}
	s = strings.TrimPrefix(s, "$")
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return imagePath{}, fmt.Errorf("image path for kind %s: path is empty", p.Kind)
	}
	var segs []segment
	for _, part := range strings.Split(s, ".") {
		seg := segment{field: part}
		if i := strings.IndexByte(part, '['); i >= 0 {
			if !strings.HasSuffix(part, "]") {
				return imagePath{}, fmt.Errorf("image path %q for kind %s: bad segment %q", p.Path, p.Kind, part)
			}
			seg.field, seg.isList, seg.index = part[:i], true, -1
			switch idx := part[i+1 : len(part)-1]; idx {
			case "", "*":
			default:
				n, err := strconv.Atoi(idx)
				if err != nil || n < 0 {
					return imagePath{}, fmt.Errorf("image path %q for kind %s: bad index %q", p.Path, p.Kind, idx)
				}
				seg.index = n
			}
		}
		if seg.field == "" || strings.ContainsAny(seg.field, "[]*?=@()'\" ") {
			return imagePath{}, fmt.Errorf("image path %q for kind %s: bad segment %q", p.Path, p.Kind, part)
		}
		segs = append(segs, seg)
	}
	return imagePath{ImagePath: p, segs: segs}, nil
}

func (p imagePath) matches(gvk schema.GroupVersionKind) bool {
	if p.Kind != gvk.Kind {
		return false
	}
	switch p.APIVersion {
	case "", gvk.Group, gvk.GroupVersion().String():
		return true
	}
	return false
}

// visit calls fn for every string field the path reaches in m.
func (p imagePath) visit(m map[string]interface{}, fn func(parent map[string]interface{}, field string) error) error {
	return visit(m, p.segs, fn)
}

func visit(m map[string]interface{}, segs []segment, fn func(map[string]interface{}, string) error) error {
	seg := segs[0]
	v, ok := m[seg.field]
	if !ok || v == nil {
		return nil
	}
	if !seg.isList {
		if len(segs) == 1 {
			return fn(m, seg.field)
		}
		child, ok := v.(map[string]interface{})
		if !ok {
			return fmt.Errorf("field %s is not an object", seg.field)
		}
		return visit(child, segs[1:], fn)
	}
	list, ok := v.([]interface{})
	if !ok {
		return fmt.Errorf("field %s is not a list", seg.field)
	}
	for i, it := range list {
		if seg.index >= 0 && i != seg.index {
			continue
		}
		if len(segs) == 1 {
			// A list of image strings: replace items in place through a one-field map.
			s, ok := it.(string)
			if !ok {
				return fmt.Errorf("field %s[%d] is not a string", seg.field, i)
			}
			tmp := map[string]interface{}{"image": s}
			if err := fn(tmp, "image"); err != nil {
				return err
			}
			list[i] = tmp["image"]
			continue
		}
		child, ok := it.(map[string]interface{})
		if !ok {
			return fmt.Errorf("field %s[%d] is not an object", seg.field, i)
		}
		if err := visit(child, segs[1:], fn); err != nil {
			return err
		}
	}
	return nil
}

// podSpecPath returns where the PodSpec sits in objects of the built-in workload
// kinds, or nil.
func podSpecPath(gvk schema.GroupVersionKind) []string {
	switch gvk.GroupKind() {
	case schema.GroupKind{Kind: "Pod"}:
		return []string{"spec"}
	case schema.GroupKind{Kind: "PodTemplate"}:
		return []string{"template", "spec"}
	case schema.GroupKind{Kind: "ReplicationController"},
		schema.GroupKind{Group: "apps", Kind: "Deployment"},
		schema.GroupKind{Group: "apps", Kind: "ReplicaSet"},
		schema.GroupKind{Group: "apps", Kind: "StatefulSet"},
		schema.GroupKind{Group: "apps", Kind: "DaemonSet"},
		schema.GroupKind{Group: "extensions", Kind: "Deployment"},
		schema.GroupKind{Group: "extensions", Kind: "ReplicaSet"},
		schema.GroupKind{Group: "extensions", Kind: "DaemonSet"},
		schema.GroupKind{Group: "batch", Kind: "Job"}:
		return []string{"spec", "template", "spec"}
	case schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return nil
}

// containerFields are the PodSpec fields holding containers.
func containerFields() []string {
	return []string{"initContainers", "containers", "ephemeralContainers"}
}

// repository normalizes an image reference to its repository, ignoring tag and
// digest: "app", "app:v1", "docker.io/library/app:latest" and "app@sha256:…" all give
// "index.docker.io/library/app".
func repository(ref string) (string, bool) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", false
	}
	return r.Context().Name(), true
}

// substituter replaces built images and remembers which were used.
type substituter struct {
	images     map[string]string // repository -> new reference
	names      map[string]string // repository -> image name as the caller gave it
	used       map[string]bool
	sideloaded bool
}

func newSubstituter(images map[string]string, sideloaded bool) (*substituter, error) {
	s := &substituter{images: map[string]string{}, names: map[string]string{}, used: map[string]bool{}, sideloaded: sideloaded}
	for repo, ref := range images {
		r, ok := repository(repo)
		if !ok {
			return nil, fmt.Errorf("built image %q is not a valid image reference", repo)
		}
		if _, err := name.ParseReference(ref); err != nil {
			return nil, fmt.Errorf("new reference %q for image %q: %w", ref, repo, err)
		}
		s.images[r] = ref
		s.names[r] = repo
	}
	return s, nil
}

// replace rewrites parent[field] when it names a built image; container says whether
// parent is a container (so its pull policy may be set).
func (s *substituter) replace(parent map[string]interface{}, field string, container bool) error {
	v, ok := parent[field]
	if !ok || v == nil {
		return nil
	}
	img, ok := v.(string)
	if !ok {
		return fmt.Errorf("field %s is not a string", field)
	}
	repo, ok := repository(img)
	if !ok {
		return nil // not ours: templated or malformed references are left alone
	}
	ref, ok := s.images[repo]
	if !ok {
		return nil
	}
	s.used[repo] = true
	parent[field] = ref
	if container && s.sideloaded {
		parent["imagePullPolicy"] = "IfNotPresent"
	}
	return nil
}

// substitute rewrites the images of one object in place.
func (s *substituter) substitute(u *unstructured.Unstructured, paths []imagePath) error {
	gvk := u.GroupVersionKind()
	if p := podSpecPath(gvk); p != nil {
		spec, found, err := unstructured.NestedFieldNoCopy(u.Object, p...)
		if err != nil {
			return err
		}
		if found && spec != nil {
			podSpec, ok := spec.(map[string]interface{})
			if !ok {
				return fmt.Errorf("%s is not an object", strings.Join(p, "."))
			}
			for _, f := range containerFields() {
				err := visit(podSpec, []segment{{field: f, isList: true, index: -1}, {field: "image"}},
					func(c map[string]interface{}, field string) error { return s.replace(c, field, true) })
				if err != nil {
					return fmt.Errorf("%s.%s: %w", strings.Join(p, "."), f, err)
				}
			}
		}
	}
	for _, p := range paths {
		if !p.matches(gvk) {
			continue
		}
		err := p.visit(u.Object, func(parent map[string]interface{}, field string) error {
			return s.replace(parent, field, false)
		})
		if err != nil {
			return fmt.Errorf("image path %q: %w", p.Path, err)
		}
	}
	return nil
}
