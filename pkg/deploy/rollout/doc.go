// Package rollout waits for applied workloads to finish rolling out and says why
// when they will not.
//
// Whether a workload is done is decided by [Status], a pure function of the object
// as the API server reports it (Deployment, StatefulSet, DaemonSet and Job), in the
// spirit of kubectl's rollout status viewers. Whether a pod is stuck for good
// (ImagePullBackOff, CrashLoopBackOff, Unschedulable, ...) is decided by
// [ClassifyPod], another pure function.
//
// A [Watcher] drives both from client-go informers: one for each workload (by name)
// and one for its pods (by the workload's selector). Informers re-list and re-watch
// by themselves when a watch closes or fails, so a dead watch never hangs a wait.
// [Watcher.Wait] reports every status change to an [event.Sink] (phase rollout),
// returns nil once every workload is done, and returns early with a [*FailureError]
// (carrying the pod's recent events and the failing container's last log lines) as
// soon as one pod of the current rollout is in a terminal state, or with a
// [*TimeoutError] when the caller's deadline passes. [FormatEvent] and
// [FormatFailure] render both for humans.
//
// The package does not apply, render or prune objects (see package deploy), and it
// only reads from the cluster.
package rollout
