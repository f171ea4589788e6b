package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/devloop/devloop/pkg/event"
)

// Options tune a Watcher. The zero value is ready to use.
type Options struct {
	// LogLines is how many of a failing container's last log lines a
	// [FailureError] carries. Defaults to 20.
	LogLines int
	// EventLines is how many of a failing pod's recent events it carries.
	// Defaults to 10.
	EventLines int
	// DiagnoseTimeout bounds the calls that gather events and logs once a failure
	// or a timeout is known. Defaults to 5s.
	DiagnoseTimeout time.Duration
	// Now is the clock events are stamped with; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.LogLines <= 0 {
		o.LogLines = 20
	}
	if o.EventLines <= 0 {
		o.EventLines = 10
	}
	if o.DiagnoseTimeout <= 0 {
		o.DiagnoseTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Watcher waits for rollouts. It holds only its clients and configuration, so one
// Watcher serves any number of concurrent Waits.
type Watcher struct {
	client kubernetes.Interface // pods, replica sets, events, logs
	dyn    dynamic.Interface    // the workloads themselves, as unstructured objects
	sink   event.Sink
	opts   Options
}

// New returns a Watcher reading workloads through dyn and pods, ReplicaSets, events
// and logs through client. Status changes go to sink (nil drops them); events carry
// no iteration number: the caller's sink adds it.
func New(client kubernetes.Interface, dyn dynamic.Interface, sink event.Sink, opts Options) *Watcher {
	if sink == nil {
		sink = event.Discard{}
	}
	return &Watcher{client: client, dyn: dyn, sink: sink, opts: opts.withDefaults()}
}

// Causes that end a tracker's context, told apart with context.Cause.
var (
	errDeadline      = errors.New("rollout deadline passed")
	errSiblingFailed = errors.New("another rollout failed")
)

// Wait watches every resource until all have rolled out (nil), one fails (the first
// failure: a [*FailureError] for a stuck pod, or the reason from [Status]), timeout
// passes ([*TimeoutError], one per unfinished resource, joined), or ctx ends (its
// error, wrapped). A timeout of zero or less means no deadline but ctx's. Callers
// that want the controller's own deadline pass [ProgressDeadline].
//
// Every change of a resource's status is sent to the sink as a phase rollout event.
func (w *Watcher) Wait(ctx context.Context, resources []Resource, timeout time.Duration) error {
	for _, r := range resources {
		if _, err := r.gvr(); err != nil {
			return err
		}
		if r.Name == "" {
			return fmt.Errorf("waiting for rollout: a %s without a name", r.GVK.Kind)
		}
	}
	if len(resources) == 0 {
		return nil
	}
	if _, err := logr.FromContext(ctx); err != nil {
		// client-go logs watch hiccups it recovers from through the context's
		// logger, or klog's global one. A library stays silent unless its caller
		// hands it a logger.
		ctx = logr.NewContext(ctx, logr.Discard())
	}
	start := w.opts.Now()
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if timeout > 0 {
		var stop context.CancelFunc
		gctx, stop = context.WithTimeoutCause(gctx, timeout, errDeadline)
		defer stop()
	}

	errs := make([]error, len(resources))
	var wg sync.WaitGroup
	for i, r := range resources {
		wg.Go(func() {
			t := newTracker(w, r, start, timeout)
			if err := t.run(gctx); err != nil {
				errs[i] = err
				cancel(errSiblingFailed)
			}
		})
	}
	wg.Wait()

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("waiting for rollout of %s: %w", names(resources), err)
	}
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, errSiblingFailed) {
			failed = append(failed, err)
		}
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return failed[0]
	}
	return errors.Join(failed...)
}

func names(rs []Resource) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
