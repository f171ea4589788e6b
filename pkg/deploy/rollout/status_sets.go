package rollout

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// statefulSetStatus follows the StatefulSet controller: pods are replaced one ordinal
// at a time, and a rolling update is complete when the current revision has caught
// up with the update revision (or, with a partition, when every pod at or above the
// partition runs the update revision).
func statefulSetStatus(s *appsv1.StatefulSet) (string, bool, error) {
	if s.Status.ObservedGeneration == 0 || s.Generation > s.Status.ObservedGeneration {
		return observedMsg(s.Generation, s.Status.ObservedGeneration), false, nil
	}
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	if st.ReadyReplicas < want {
		return fmt.Sprintf("%d/%d ready", st.ReadyReplicas, want), false, nil
	}
	ready := fmt.Sprintf("%d/%d ready", st.ReadyReplicas, want)
	switch s.Spec.UpdateStrategy.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		// Pods only change when someone deletes them: nothing more will happen.
		// kubectl refuses this case; a dev loop is better served by "ready".
		return ready + " (OnDelete: pods are replaced only when deleted)", true, nil
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		target := want - *ru.Partition
		if target < 0 {
			target = 0
		}
		if st.UpdatedReplicas < target {
			return fmt.Sprintf("%d/%d updated above partition %d", st.UpdatedReplicas, target, *ru.Partition), false, nil
		}
		return fmt.Sprintf("%s, %d updated above partition %d", ready, st.UpdatedReplicas, *ru.Partition), true, nil
	}
	if st.UpdateRevision != st.CurrentRevision {
		return fmt.Sprintf("%d/%d updated", st.UpdatedReplicas, want), false, nil
	}
	return ready, true, nil
}

// daemonSetStatus follows kubectl: every node that should run the daemon runs the
// updated template and the pods are available.
func daemonSetStatus(d *appsv1.DaemonSet) (string, bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return observedMsg(d.Generation, d.Status.ObservedGeneration), false, nil
	}
	st := d.Status
	if d.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		if st.NumberAvailable < st.DesiredNumberScheduled {
			return fmt.Sprintf("%d/%d ready", st.NumberAvailable, st.DesiredNumberScheduled), false, nil
		}
		return fmt.Sprintf("%d/%d ready (OnDelete: pods are replaced only when deleted)", st.NumberAvailable, st.DesiredNumberScheduled), true, nil
	}
	switch {
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return fmt.Sprintf("%d/%d updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled), false, nil
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return fmt.Sprintf("%d/%d ready", st.NumberAvailable, st.DesiredNumberScheduled), false, nil
	}
	return fmt.Sprintf("%d/%d ready", st.NumberAvailable, st.DesiredNumberScheduled), true, nil
}
