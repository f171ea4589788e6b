package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// FailureError reports a pod of a rollout stuck in a terminal state, with what a
// developer needs to fix it: the reason, the pod's recent events and the failing
// container's last log lines. Its Error text spans several lines.
type FailureError struct {
	Resource  string // the workload, e.g. "deployment/web"
	Pod       string
	Container string // empty for pod-level reasons such as Unschedulable
	Reason    string // e.g. "CrashLoopBackOff"
	Message   string
	Events    []string // the pod's recent events, oldest first
	Logs      []string // the failing container's last log lines (previous instance after a crash)
}

// Error implements error: a summary line, then the events and logs, indented.
func (e *FailureError) Error() string {
	var b strings.Builder
	b.WriteString(e.Resource + ": " + e.summary())
	e.writeDetails(&b)
	return b.String()
}

// summary is the one-line cause, without the resource.
func (e *FailureError) summary() string {
	where := "pod " + e.Pod
	if e.Container != "" {
		where += ": container " + e.Container
	}
	return where + ": " + reasonMessage(e.Reason, e.Message)
}

func (e *FailureError) writeDetails(b *strings.Builder) {
	writeSection(b, "events", e.Events)
	title := "logs"
	if e.Container != "" {
		title = "logs of " + e.Container
	}
	writeSection(b, title, e.Logs)
}

func writeSection(b *strings.Builder, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n  %s:", title)
	for _, l := range lines {
		b.WriteString("\n    " + l)
	}
}

// TimeoutError reports workloads that were still rolling out when the deadline given
// to [Watcher.Wait] passed. errors.Is(err, context.DeadlineExceeded) holds for it.
type TimeoutError struct {
	Resource string        // e.g. "deployment/web"
	Timeout  time.Duration // the deadline Wait was given
	Status   string        // the last status message
	// Pods says why pods of the rollout were not ready, one line per pod followed by
	// its recent warning events.
	Pods []string
	// WatchError is the last error of the watches, when they were failing.
	WatchError string
}

// Error implements error.
func (e *TimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: not done after %s", e.Resource, e.Timeout)
	if e.Status != "" {
		b.WriteString(": " + e.Status)
	}
	e.writeDetails(&b)
	return b.String()
}

func (e *TimeoutError) writeDetails(b *strings.Builder) {
	writeSection(b, "pods", e.Pods)
	if e.WatchError != "" {
		b.WriteString("\n  last watch error: " + e.WatchError)
	}
}

// Unwrap lets errors.Is match context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }
