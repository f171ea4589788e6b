package rollout

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/devloop/devloop/pkg/event"
)

// FormatEvent renders one rollout event as a line for humans, with the time elapsed
// since the wait began: "deployment/web: 1/2 ready (3.1s)".
func FormatEvent(e event.Event) string {
	msg := e.Message
	switch {
	case msg == "" && e.Status == event.StatusStart:
		msg = "waiting for rollout"
	case e.Status == event.StatusFailure:
		msg = "failed: " + msg
	}
	return fmt.Sprintf("%s: %s (%s)", e.Resource, msg, FormatElapsed(e.Duration))
}

// FormatFailure renders an error returned by [Watcher.Wait] as a short block for
// humans: a headline with the elapsed time, then the details (the pod and container,
// their events and log lines) indented below it.
func FormatFailure(err error, elapsed time.Duration) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		// Several workloads timed out together: one block each.
		var blocks []string
		for _, e := range j.Unwrap() {
			blocks = append(blocks, FormatFailure(e, elapsed))
		}
		return strings.Join(blocks, "\n")
	}
	var b strings.Builder
	var fe *FailureError
	var te *TimeoutError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintf(&b, "%s: %s (%s)", fe.Resource, fe.Reason, FormatElapsed(elapsed))
		b.WriteString("\n  pod " + fe.Pod)
		if fe.Container != "" {
			b.WriteString(", container " + fe.Container)
		}
		if fe.Message != "" {
			b.WriteString(": " + fe.Message)
		}
		fe.writeDetails(&b)
	case errors.As(err, &te):
		fmt.Fprintf(&b, "%s: not done after %s (%s)", te.Resource, te.Timeout, FormatElapsed(elapsed))
		if te.Status != "" {
			b.WriteString("\n  last status: " + te.Status)
		}
		te.writeDetails(&b)
	default:
		fmt.Fprintf(&b, "rollout failed (%s)", FormatElapsed(elapsed))
		for _, l := range strings.Split(err.Error(), "\n") {
			b.WriteString("\n  " + l)
		}
	}
	return b.String()
}

// FormatElapsed shows a duration the way phase lines do: tenths of a second under a
// minute ("3.1s"), whole seconds above ("1m5s").
func FormatElapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
