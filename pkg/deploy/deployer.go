package deploy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"

	"github.com/devloop/devloop/pkg/event"
)

// Names of the labels and annotations devloop puts on the objects it applies.
const (
	// LabelManagedBy is set to [ManagedByValue] on every applied object.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of [LabelManagedBy].
	ManagedByValue = "devloop"
	// LabelProject holds the project name (devloop.yaml's name).
	LabelProject = "devloop.dev/project"
	// AnnotationConfig holds the path of the devloop.yaml that applied the object.
	AnnotationConfig = "devloop.dev/config"
	// AnnotationCreated is "true" on Namespaces and CustomResourceDefinitions that
	// devloop created (rather than found and adopted); only those are ever deleted.
	AnnotationCreated = "devloop.dev/created"
	// FieldManager is the server-side apply field manager.
	FieldManager = "devloop"
	// DefaultNamespace is used when Options.Namespace is empty.
	DefaultNamespace = "default"
)

// sourceAnnotation records where Read found an object ("file:line" or a kustomize
// directory). It only lives in memory: Apply strips it and Render's hash ignores it.
const sourceAnnotation = "internal.devloop.dev/source"

// Options configure a Deployer.
type Options struct {
	// Project is the project name; it must be a valid label value. Required.
	Project string
	// ConfigPath is the path of devloop.yaml, recorded in [AnnotationConfig].
	ConfigPath string
	// Namespace is given to namespaced objects that have none and holds the
	// inventory; it comes from the config or the kube context. Defaults to
	// [DefaultNamespace].
	Namespace string
	// ImagePaths locate images in custom resources.
	ImagePaths []ImagePath
	// Sink receives phase "deploy" events; nil drops them. Events carry no iteration
	// number: the caller's sink adds it.
	Sink event.Sink
	// MappingTimeout bounds how long Apply waits for the API server to serve the kind
	// of a custom resource whose CRD is applied in the same batch. Defaults to 30s.
	MappingTimeout time.Duration
}

// Deployer renders, applies and prunes the objects of one project. It keeps no state
// between calls beyond its configuration; the inventory lives in the cluster.
type Deployer struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	opts   Options
	paths  []imagePath
}

// New returns a Deployer applying through dyn, resolving kinds with mapper (usually a
// restmapper.DeferredDiscoveryRESTMapper, which Apply resets when a CRD it just applied
// is not served yet). dyn and mapper may be nil for a Deployer that only renders.
func New(dyn dynamic.Interface, mapper meta.RESTMapper, opts Options) (*Deployer, error) {
	if opts.Project == "" {
		return nil, fmt.Errorf("deployer: project name is required")
	}
	if errs := validation.IsValidLabelValue(opts.Project); len(errs) > 0 {
		return nil, fmt.Errorf("deployer: project name %q is not a valid label value: %s", opts.Project, strings.Join(errs, "; "))
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Sink == nil {
		opts.Sink = event.Discard{}
	}
	if opts.MappingTimeout == 0 {
		opts.MappingTimeout = 30 * time.Second
	}
	paths := make([]imagePath, 0, len(opts.ImagePaths))
	for _, p := range opts.ImagePaths {
		ip, err := compileImagePath(p)
		if err != nil {
			return nil, fmt.Errorf("deployer: %w", err)
		}
		paths = append(paths, ip)
	}
	return &Deployer{dyn: dyn, mapper: mapper, opts: opts, paths: paths}, nil
}

// Ref names one object in the cluster.
type Ref struct {
	APIVersion string
	Kind       string
	Namespace  string // empty for cluster-scoped objects
	Name       string
}

// String returns "kind/name" with the kind in lower case, as kubectl prints it and as
// events carry it.
func (r Ref) String() string {
	return strings.ToLower(r.Kind) + "/" + r.Name
}

// GroupKind returns the group and kind of the object.
func (r Ref) GroupKind() schema.GroupKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind).GroupKind()
}

// key identifies an object regardless of the API version it was written in.
type key struct {
	gk              schema.GroupKind
	namespace, name string
}

func (r Ref) key() key { return key{r.GroupKind(), r.Namespace, r.Name} }

func refOf(u *unstructured.Unstructured) Ref {
	return Ref{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

// ownerLabels are the labels marking an object as this project's.
func (d *Deployer) ownerLabels() map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelProject: d.opts.Project}
}

// selector is the label selector matching this project's objects.
func (d *Deployer) selector() string {
	return LabelManagedBy + "=" + ManagedByValue + "," + LabelProject + "=" + d.opts.Project
}

// owns reports whether a live object carries this project's labels.
func (d *Deployer) owns(u *unstructured.Unstructured) bool {
	l := u.GetLabels()
	return l[LabelManagedBy] == ManagedByValue && l[LabelProject] == d.opts.Project
}

// markOwned sets the ownership labels and the config annotation on u.
func (d *Deployer) markOwned(u *unstructured.Unstructured) {
	l := u.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range d.ownerLabels() {
		l[k] = v
	}
	u.SetLabels(l)
	if d.opts.ConfigPath != "" {
		a := u.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[AnnotationConfig] = d.opts.ConfigPath
		u.SetAnnotations(a)
	}
}

// send reports a deploy event.
func (d *Deployer) send(ctx context.Context, e event.Event) {
	e.Time = time.Now()
	e.Phase = event.PhaseDeploy
	if e.Duration != 0 {
		e.DurationMS = e.Duration.Milliseconds()
	}
	d.opts.Sink.Send(ctx, e)
}
