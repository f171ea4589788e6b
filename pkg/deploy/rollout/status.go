package rollout

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Status says how far the rollout of obj has come, from the object alone. msg is a
// short human phrase ("1/2 ready"); done is true once the rollout is complete; err is
// non-nil when the rollout has failed for good (a Deployment past its progress
// deadline, a failed Job) or obj is not a kind [Supports] accepts.
//
// Until the controller has observed the object's latest generation, its status
// describes the previous spec; Status then reports that it is waiting for it.
func Status(obj *unstructured.Unstructured) (msg string, done bool, err error) {
	switch kindOf(obj.GroupVersionKind().GroupKind()) {
	case kindDeployment:
		var d appsv1.Deployment
		if err := fromUnstructured(obj, &d); err != nil {
			return "", false, err
		}
		return deploymentStatus(&d)
	case kindStatefulSet:
		var s appsv1.StatefulSet
		if err := fromUnstructured(obj, &s); err != nil {
			return "", false, err
		}
		return statefulSetStatus(&s)
	case kindDaemonSet:
		var d appsv1.DaemonSet
		if err := fromUnstructured(obj, &d); err != nil {
			return "", false, err
		}
		return daemonSetStatus(&d)
	case kindJob:
		return jobStatusOf(obj)
	}
	return "", false, fmt.Errorf("no rollout status for kind %s", obj.GroupVersionKind().GroupKind())
}

func fromUnstructured(obj *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, into); err != nil {
		return fmt.Errorf("decoding %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// ProgressDeadline returns a Deployment's spec.progressDeadlineSeconds, for callers
// that want [Watcher.Wait] to give up when the controller would. ok is false for
// other kinds and when the field is unset.
func ProgressDeadline(obj *unstructured.Unstructured) (d time.Duration, ok bool) {
	if kindOf(obj.GroupVersionKind().GroupKind()) != kindDeployment {
		return 0, false
	}
	s, found, err := unstructured.NestedInt64(obj.Object, "spec", "progressDeadlineSeconds")
	if !found || err != nil || s <= 0 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

// observedMsg is the message for a spec the controller has not seen yet.
func observedMsg(generation, observed int64) string {
	return fmt.Sprintf("waiting for the controller to observe generation %d (at %d)", generation, observed)
}

func deploymentStatus(d *appsv1.Deployment) (string, bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return observedMsg(d.Generation, d.Status.ObservedGeneration), false, nil
	}
	for _, c := range d.Status.Conditions {
		// The controller sets this reason once progressDeadlineSeconds pass without
		// progress; it never retries on its own, so neither do we.
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("progress deadline exceeded: %s", c.Message)
		}
	}
	msg, done := deploymentProgress(d)
	if !done && d.Spec.Paused {
		// A paused Deployment does not roll out its new template; say so rather
		// than wait silently for the deadline.
		msg = "paused (kubectl rollout resume), " + msg
	}
	return msg, done, nil
}

func deploymentProgress(d *appsv1.Deployment) (string, bool) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("%d/%d replicas updated", st.UpdatedReplicas, want), false
	case st.Replicas > st.UpdatedReplicas:
		old := st.Replicas - st.UpdatedReplicas
		return fmt.Sprintf("%d old %s pending termination", old, plural(old, "replica", "replicas")), false
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("%d/%d ready", st.AvailableReplicas, st.UpdatedReplicas), false
	}
	return fmt.Sprintf("%d/%d ready", st.AvailableReplicas, want), true
}

func plural(n int32, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
