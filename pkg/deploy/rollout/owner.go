package rollout

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	// revisionAnnotation is set by the Deployment controller on a Deployment and
	// on its ReplicaSets; the newest ReplicaSet carries the Deployment's value.
	revisionAnnotation = "deployment.kubernetes.io/revision"
	// controllerRevisionLabel names a StatefulSet pod's revision.
	controllerRevisionLabel = "controller-revision-hash"
)

// current reports whether pod belongs to the rollout in progress, so that a stuck
// pod of an older revision (on its way out) never fails the new one. Until the
// controller has observed the workload's latest spec nothing is current: the pods
// that exist then were made for an older one.
func (t *tracker) current(ctx context.Context, obj *unstructured.Unstructured, pod *corev1.Pod) bool {
	ref := metav1.GetControllerOf(pod)
	if ref == nil || pod.DeletionTimestamp != nil {
		return false
	}
	if t.kind != kindJob && !generationObserved(obj) {
		return false
	}
	switch t.kind {
	case kindDeployment:
		return ref.Kind == "ReplicaSet" && t.newestReplicaSet(ctx, obj, ref.Name)
	case kindStatefulSet:
		rev, _, _ := unstructured.NestedString(obj.Object, "status", "updateRevision")
		return ref.UID == obj.GetUID() && (rev == "" || pod.Labels[controllerRevisionLabel] == rev)
	}
	return ref.UID == obj.GetUID()
}

func generationObserved(obj *unstructured.Unstructured) bool {
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	return obj.GetGeneration() <= observed
}

// newestReplicaSet reports whether the ReplicaSet name is the Deployment's newest,
// the one whose pods the rollout is waiting for. Answers are cached per revision:
// a ReplicaSet's revision only changes when the Deployment's does.
func (t *tracker) newestReplicaSet(ctx context.Context, d *unstructured.Unstructured, name string) bool {
	want := d.GetAnnotations()[revisionAnnotation]
	key := name + "@" + want
	if ok, cached := t.owners[key]; cached {
		return ok
	}
	rs, err := t.w.client.AppsV1().ReplicaSets(t.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			// Not cached: the next change looks again.
			t.mu.Lock()
			t.watchErr = fmt.Errorf("reading replica set %s: %w", name, err)
			t.mu.Unlock()
			return false
		}
		t.owners[key] = false
		return false
	}
	ctrl := metav1.GetControllerOf(rs)
	ok := ctrl != nil && ctrl.UID == d.GetUID() && (want == "" || rs.Annotations[revisionAnnotation] == want)
	t.owners[key] = ok
	return ok
}
