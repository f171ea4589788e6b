package loop

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
)

// Cancelled is the message of a stage's skipped event when the caller cancelled
// the iteration's context (Ctrl-C).
const Cancelled = "cancelled"

// stampSink fills in what stages leave out of their events: the iteration
// number, the time and the duration in milliseconds.
type stampSink struct {
	inner     event.Sink
	now       func() time.Time
	iteration atomic.Int64
	// sources maps a workload ("deployment/web") to where its manifest is, so
	// that a rollout failure points at it (editors' problem matchers need a file).
	sources atomic.Pointer[map[string]location]
}

// location is a place in a manifest file.
type location struct {
	file string
	line int
}

// locate records where the workloads among objs were read from.
func (s *stampSink) locate(objs []*unstructured.Unstructured) {
	m := map[string]location{}
	for _, o := range objs {
		if file, line := deploy.Source(o); file != "" {
			m[rollout.ResourceOf(o).String()] = location{file, line}
		}
	}
	s.sources.Store(&m)
}

var _ event.Sink = (*stampSink)(nil)

func (s *stampSink) Send(ctx context.Context, e event.Event) {
	if e.Iteration == 0 {
		e.Iteration = int(s.iteration.Load())
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Status == event.StatusFailure && e.Phase != event.PhaseIteration && errors.Is(ctx.Err(), context.Canceled) {
		// A stage stopped because its iteration was cancelled, by newer changes
		// or by the caller (Ctrl-C): that is not a failure the user has to look
		// at. A deadline is left alone: running out of time is a failure.
		e.Status, e.Message = event.StatusSkipped, Cancelled
		if context.Cause(ctx) == errSuperseded {
			e.Message = "cancelled: newer changes arrived"
		}
	}
	if e.Phase == event.PhaseRollout && e.Status == event.StatusFailure && e.File == "" && e.Resource != "" {
		if m := s.sources.Load(); m != nil {
			if l, ok := (*m)[e.Resource]; ok {
				e.File, e.Line = l.file, l.line
			}
		}
	}
	if e.Duration != 0 && e.DurationMS == 0 {
		e.DurationMS = e.Duration.Milliseconds()
	}
	s.inner.Send(ctx, e)
}
