package stages

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/devloop/devloop/pkg/loop"
)

// Live reads objects from the cluster to tell whether they still carry the
// rendered hash devloop applied.
type Live struct {
	Dyn    dynamic.Interface
	Mapper meta.RESTMapper
}

var _ loop.LiveChecker = Live{}

// Current implements loop.LiveChecker: false as soon as one object is missing or
// carries another hash.
func (l Live) Current(ctx context.Context, objs []*unstructured.Unstructured, hash string) (bool, error) {
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := l.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			if meta.IsNoMatchError(err) {
				return false, nil
			}
			return false, fmt.Errorf("resolving %s: %w", gvk.Kind, err)
		}
		var ri dynamic.ResourceInterface = l.Dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = l.Dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		live, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading %s/%s: %w", gvk.Kind, o.GetName(), err)
		}
		if live.GetAnnotations()[loop.AnnotationHash] != hash || live.GetDeletionTimestamp() != nil {
			return false, nil
		}
	}
	return true, nil
}
