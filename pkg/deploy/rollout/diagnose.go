package rollout

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
)

// maxLineLen keeps one runaway log line from flooding a terminal.
const maxLineLen = 400

// diagnose turns a stuck pod into a FailureError with its events and logs. Both are
// best effort: a failure to read them is reported in their place.
func (t *tracker) diagnose(ctx context.Context, pod *corev1.Pod, f PodFailure) *FailureError {
	ctx, cancel := context.WithTimeout(ctx, t.w.opts.DiagnoseTimeout)
	defer cancel()
	fe := &FailureError{
		Resource:  t.res.String(),
		Pod:       pod.Name,
		Container: f.Container,
		Reason:    f.Reason,
		Message:   f.Message,
		Events:    t.podEvents(ctx, pod, false, t.w.opts.EventLines),
	}
	if f.Logs != LogsNone {
		fe.Logs = t.containerLogs(ctx, pod, f.Container, f.Logs == LogsPrevious)
	}
	return fe
}

// timedOut builds the TimeoutError for the deadline that just passed. ctx is
// already done, so the look at the pods gets its own short deadline.
func (t *tracker) timedOut(ctx context.Context) *TimeoutError {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.w.opts.DiagnoseTimeout)
	defer cancel()
	te := &TimeoutError{Resource: t.res.String(), Timeout: t.timeout, Status: t.lastMsg}
	if err := t.lastWatchErr(); err != nil {
		te.WatchError = err.Error()
	}
	if !t.seen {
		return te
	}
	item, exists, _ := t.workload.GetStore().GetByKey(t.ns + "/" + t.res.Name)
	if !exists {
		return te
	}
	obj, ok := item.(*unstructured.Unstructured)
	if !ok {
		return te
	}
	const maxPods, maxEvents = 3, 3
	n := 0
	for _, pod := range t.currentPods(ctx, obj) {
		line, ready := podSummary(pod)
		if ready {
			continue
		}
		if n++; n > maxPods {
			break
		}
		te.Pods = append(te.Pods, line)
		for _, e := range t.podEvents(ctx, pod, true, maxEvents) {
			te.Pods = append(te.Pods, "  "+e)
		}
	}
	return te
}

// podEvents returns the last n events of pod, oldest first, as lines.
func (t *tracker) podEvents(ctx context.Context, pod *corev1.Pod, warningsOnly bool, n int) []string {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", pod.Name),
		fields.OneTermEqualSelector("involvedObject.kind", "Pod"),
	)
	list, err := t.w.client.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel.String()})
	if err != nil {
		return []string{fmt.Sprintf("(events unavailable: %v)", err)}
	}
	return formatPodEvents(list.Items, pod, warningsOnly, n)
}

// formatPodEvents picks pod's events out of events (the server's field selector is
// trusted but not relied on: a StatefulSet pod's name outlives its UID) and renders
// the last n, oldest first, as "Warning BackOff: Back-off restarting ... (x3)".
func formatPodEvents(events []corev1.Event, pod *corev1.Pod, warningsOnly bool, n int) []string {
	var mine []corev1.Event
	for _, e := range events {
		io := e.InvolvedObject
		if io.Kind != "Pod" || io.Name != pod.Name || (io.UID != "" && pod.UID != "" && io.UID != pod.UID) {
			continue
		}
		if warningsOnly && e.Type != corev1.EventTypeWarning {
			continue
		}
		mine = append(mine, e)
	}
	sort.SliceStable(mine, func(i, j int) bool { return eventTime(mine[i]).Before(eventTime(mine[j])) })
	if len(mine) > n {
		mine = mine[len(mine)-n:]
	}
	var lines []string
	for _, e := range mine {
		l := fmt.Sprintf("%s %s: %s", e.Type, e.Reason, oneLine(e.Message))
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		if count > 1 {
			l += fmt.Sprintf(" (x%d)", count)
		}
		lines = append(lines, truncate(l))
	}
	return lines
}

// eventTime is when an event last happened, whichever API wrote it.
func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// containerLogs returns the last log lines of a container. The previous instance
// of a crashing container may already be gone; the current one is the fallback.
func (t *tracker) containerLogs(ctx context.Context, pod *corev1.Pod, container string, previous bool) []string {
	tail := int64(t.w.opts.LogLines)
	limit := int64(64 << 10)
	read := func(previous bool) ([]byte, error) {
		return t.w.client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
			Container:  container,
			Previous:   previous,
			TailLines:  &tail,
			LimitBytes: &limit,
		}).DoRaw(ctx)
	}
	b, err := read(previous)
	if err != nil && previous && ctx.Err() == nil {
		b, err = read(false)
	}
	if err != nil {
		return []string{fmt.Sprintf("(logs unavailable: %v)", err)}
	}
	return lastLines(string(b), t.w.opts.LogLines)
}

// lastLines splits text into lines and keeps the last n, without a trailing empty
// line and with overlong lines cut.
func lastLines(text string, n int) []string {
	text = strings.TrimRight(text, "\r\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = truncate(strings.TrimRight(l, "\r"))
	}
	return lines
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to about maxLineLen bytes, on a rune boundary.
func truncate(s string) string {
	if len(s) <= maxLineLen {
		return s
	}
	cut := maxLineLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
