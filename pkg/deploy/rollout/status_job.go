package rollout

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func jobStatusOf(obj *unstructured.Unstructured) (string, bool, error) {
	var j batchv1.Job
	if err := fromUnstructured(obj, &j); err != nil {
		return "", false, err
	}
	return jobStatus(&j)
}

// jobStatus treats a Job's "rollout" as its run: done when it completed, failed when
// it failed. Jobs carry no observedGeneration; their conditions are authoritative.
func jobStatus(j *batchv1.Job) (string, bool, error) {
	st := j.Status
	// Finished pods are first listed as uncounted, then moved to the counters;
	// they have finished all the same.
	succeeded, failed := st.Succeeded, st.Failed
	if u := st.UncountedTerminatedPods; u != nil {
		succeeded += int32(len(u.Succeeded))
		failed += int32(len(u.Failed))
	}
	progress := fmt.Sprintf("%d succeeded", succeeded)
	if j.Spec.Completions != nil {
		progress = fmt.Sprintf("%d/%d succeeded", succeeded, *j.Spec.Completions)
	}
	for _, c := range st.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			// FailureTarget comes first, while the failed pods are still
			// terminating; the outcome is already decided.
			return "", false, fmt.Errorf("job failed: %s", reasonMessage(c.Reason, c.Message))
		case batchv1.JobComplete, batchv1.JobSuccessCriteriaMet:
			return "complete, " + progress, true, nil
		}
	}
	if j.Spec.Suspend != nil && *j.Spec.Suspend {
		return "suspended", false, nil
	}
	if st.Active > 0 {
		progress += fmt.Sprintf(", %d active", st.Active)
	}
	if failed > 0 {
		progress += fmt.Sprintf(", %d failed", failed)
	}
	return progress, false, nil
}

// reasonMessage joins a machine reason and a human message, either may be empty.
func reasonMessage(reason, message string) string {
	switch {
	case reason == "":
		return message
	case message == "":
		return reason
	}
	return reason + ": " + message
}
