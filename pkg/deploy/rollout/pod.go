package rollout

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// LogSource says which instance of a failing container has logs worth reading.
type LogSource int

const (
	// LogsNone: the container never ran (its image or config is the problem).
	LogsNone LogSource = iota
	// LogsCurrent: the running or last started instance.
	LogsCurrent
	// LogsPrevious: the instance that exited before the current one, e.g. for a
	// container in CrashLoopBackOff whose new instance has not started.
	LogsPrevious
)

// PodFailure is why a pod will not become ready unless someone changes something.
type PodFailure struct {
	// Container is the failing container; empty for pod-level reasons.
	Container string
	// Reason is the kubelet's or scheduler's reason, e.g. "CrashLoopBackOff".
	Reason string
	// Message is their explanation, with the last exit code when there is one.
	Message string
	// Logs says where the container's logs are.
	Logs LogSource
}

// terminalWaiting maps the waiting reasons that will not clear by themselves to the
// logs that explain them. ErrImagePull is often followed by ImagePullBackOff; both
// mean the image cannot be had, and in a local loop no registry comes to the rescue.
func terminalWaiting(reason string) (LogSource, bool) {
	switch reason {
	case "CrashLoopBackOff":
		return LogsPrevious, true
	case "RunContainerError":
		return LogsCurrent, true
	case "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName",
		"CreateContainerConfigError", "CreateContainerError":
		return LogsNone, true
	}
	return LogsNone, false
}

// ClassifyPod reports whether pod is stuck for good: a container (init containers
// first, in order) waiting for a terminal reason, or a pod the scheduler cannot
// place (PodScheduled=False, reason Unschedulable). Pods being deleted are never
// stuck: they are on their way out.
func ClassifyPod(pod *corev1.Pod) (PodFailure, bool) {
	if pod.DeletionTimestamp != nil {
		return PodFailure{}, false
	}
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range statuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			logs, ok := terminalWaiting(w.Reason)
			if !ok {
				continue
			}
			msg := w.Message
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg = joinNonEmpty(msg, fmt.Sprintf("last exit code %d (%s)", t.ExitCode, t.Reason))
			} else if logs == LogsPrevious {
				logs = LogsCurrent
			}
			return PodFailure{Container: cs.Name, Reason: w.Reason, Message: msg, Logs: logs}, true
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return PodFailure{Reason: c.Reason, Message: c.Message}, true
		}
	}
	return PodFailure{}, false
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// podSummary says in one line why pod is not ready yet; ready is true when it is.
func podSummary(pod *corev1.Pod) (line string, ready bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return fmt.Sprintf("pod %s: not scheduled: %s", pod.Name, reasonMessage(c.Reason, c.Message)), false
		}
	}
	var waiting []string
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if cs.Ready {
				continue
			}
			switch st := cs.State; {
			case st.Waiting != nil:
				waiting = append(waiting, fmt.Sprintf("%s %s", cs.Name, st.Waiting.Reason))
			case st.Running != nil:
				waiting = append(waiting, cs.Name+" running, not ready")
			case st.Terminated != nil:
				if st.Terminated.ExitCode == 0 && isInit(pod, cs.Name) {
					continue
				}
				waiting = append(waiting, fmt.Sprintf("%s terminated (%s, exit code %d)", cs.Name, st.Terminated.Reason, st.Terminated.ExitCode))
			default:
				waiting = append(waiting, cs.Name+" not started")
			}
		}
	}
	if len(waiting) == 0 {
		if pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == corev1.PodSucceeded {
			return "", true
		}
		return fmt.Sprintf("pod %s: %s", pod.Name, pod.Status.Phase), false
	}
	return fmt.Sprintf("pod %s: %s", pod.Name, strings.Join(waiting, ", ")), false
}

func isInit(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}
