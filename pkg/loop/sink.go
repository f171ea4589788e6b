package loop

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/devloop/devloop/pkg/event"
)

// stampSink fills in what stages leave out of their events: the iteration
// number, the time and the duration in milliseconds.
type stampSink struct {
	inner     event.Sink
	now       func() time.Time
	iteration atomic.Int64
}

var _ event.Sink = (*stampSink)(nil)

func (s *stampSink) Send(ctx context.Context, e event.Event) {
	if e.Iteration == 0 {
		e.Iteration = int(s.iteration.Load())
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Status == event.StatusFailure && e.Phase != event.PhaseIteration && context.Cause(ctx) == errSuperseded {
		// A stage stopped because newer changes cancelled its iteration: that is
		// not a failure the user has to look at.
		e.Status, e.Message = event.StatusSkipped, "cancelled: newer changes arrived"
	}
	if e.Duration != 0 && e.DurationMS == 0 {
		e.DurationMS = e.Duration.Milliseconds()
	}
	s.inner.Send(ctx, e)
}
