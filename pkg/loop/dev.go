package loop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/watch"
)

// Watch is a running file watcher; *watch.Watcher is one.
type Watch interface {
	Run(ctx context.Context) error
	Batches() <-chan watch.Batch
	Close() error
}

// WatchFunc starts watching roots.
type WatchFunc func(ctx context.Context, roots []watch.Root) (Watch, error)

// errSuperseded cancels an iteration that newer changes made pointless.
var errSuperseded = errors.New("superseded by newer changes")

// stopGrace bounds how long Dev waits for a cancelled iteration after Ctrl-C, so
// that devloop exits within two seconds whatever a stage does.
const stopGrace = 1500 * time.Millisecond

// running is an iteration in flight.
type running struct {
	n      int
	plan   plan
	pt     *phaseTracker
	cancel context.CancelCauseFunc
	done   chan runResult
	// superseded is set when newer changes cancelled it.
	superseded bool
}

type runResult struct {
	out outcome
	err error
}

// Dev runs the inner loop until ctx ends: a first full iteration, then one per
// batch of changes. A batch arriving while an iteration builds, loads or waits for
// rollouts cancels it and the next iteration does both batches' work; during an
// apply it waits for the apply to finish. Failures are reported and the loop keeps
// watching. On return, with Options.Cleanup, it deletes what devloop applied.
func (e *Engine) Dev(ctx context.Context) error {
	w, roles, stopWatch, err := e.startWatch(ctx)
	if err != nil {
		return err
	}
	defer func() { stopWatch() }()
	if e.opts.Cleanup {
		defer e.cleanup(ctx)
	}
	serve := e.startServe(ctx)
	defer func() { serve.stop() }()

	pending, hasPending := plan{all: true}, true
	var cur *running
	n := 0
	for {
		if cur == nil && hasPending {
			if pending.reload {
				if nw, nroles, nstop, ok := e.reload(ctx); ok {
					stopWatch()
					w, roles, stopWatch = nw, nroles, nstop
					pending.all = true
					serve.stop()
					serve = e.startServe(ctx)
				}
				pending.reload = false
			}
			n++
			cur = e.start(ctx, n, pending)
			pending, hasPending = plan{}, false
		}
		var done chan runResult
		if cur != nil {
			done = cur.done
		}
		select {
		case <-ctx.Done():
			if cur != nil {
				cur.cancel(context.Cause(ctx))
				select {
				case <-cur.done:
				case <-time.After(stopGrace):
				}
			}
			return nil
		case b, ok := <-w.Batches():
			if !ok {
				return errors.New("the file watcher stopped")
			}
			p := planFor(b, roles)
			e.send(ctx, event.Event{Phase: event.PhaseWatch, Status: event.StatusProgress, Files: e.relFiles(b.Paths), Message: fmt.Sprintf("%d changed", len(b.Paths))})
			pending, hasPending = pending.merge(p), true
			switch {
			case cur == nil:
			case cancellable(cur.pt.get()):
				cur.superseded = true
				cur.cancel(errSuperseded)
			default:
				cur.pt.newer.Store(true)
			}
		case r := <-done:
			if r.err != nil && !r.out.applied && cur.superseded {
				// Cancelled before its apply: the next iteration does its work too.
				pending, hasPending = pending.merge(cur.plan), true
			}
			if r.out.applied {
				serve.update(r.out)
			}
			cur = nil
		}
	}
}

// cancellable reports whether an iteration in phase ph may be cancelled for a
// newer one: not while it applies (a half-applied set of objects helps nobody).
func cancellable(ph event.Phase) bool {
	return ph != event.PhaseDeploy
}

// start runs iteration n of p in its own goroutine.
func (e *Engine) start(ctx context.Context, n int, p plan) *running {
	ictx, cancel := context.WithCancelCause(ctx)
	r := &running{n: n, plan: p, pt: &phaseTracker{}, cancel: cancel, done: make(chan runResult, 1)}
	go func() {
		defer cancel(nil)
		out, err := e.iterate(ictx, n, p, r.pt)
		// done is buffered for this one send: it never blocks, even once Dev has
		// stopped listening.
		r.done <- runResult{out: out, err: err}
	}()
	return r
}

// startWatch watches the roots of the current config and runs the watcher until
// the returned stop is called or ctx ends.
func (e *Engine) startWatch(ctx context.Context) (Watch, []role, func(), error) {
	roots, roles := watchRoots(e.cfg)
	wf := e.opts.Watch
	if wf == nil {
		wf = func(ctx context.Context, roots []watch.Root) (Watch, error) {
			return watch.New(ctx, roots, watch.Options{Warn: func(err error) { e.warn(ctx, event.PhaseWatch, err) }})
		}
	}
	w, err := wf(ctx, roots)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("watching files: %w", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if err := w.Run(wctx); err != nil {
			e.warn(wctx, event.PhaseWatch, err)
		}
	}()
	stop := func() {
		cancel()
		w.Close()
		<-stopped
	}
	return w, roles, stop, nil
}

// reload reads the config again and makes its stages. On any error it reports it
// and keeps the running config: ok is false.
func (e *Engine) reload(ctx context.Context) (Watch, []role, func(), bool) {
	if e.opts.Reload == nil {
		return nil, nil, nil, false
	}
	cfg, err := e.opts.Reload()
	if err == nil {
		var st *Stages
		if st, err = e.opts.NewStages(ctx, cfg, e.sink); err == nil {
			old, oldCfg := e.stages, e.cfg
			e.use(ctx, cfg, st)
			w, roles, stop, werr := e.startWatch(ctx)
			if werr == nil {
				old.Close()
				e.send(ctx, event.Event{Phase: event.PhaseConfig, Status: event.StatusSuccess, File: cfg.File, Message: "config reloaded"})
				return w, roles, stop, true
			}
			st.Close()
			e.use(ctx, oldCfg, old)
			err = werr
		}
	}
	e.reportConfigError(ctx, err)
	return nil, nil, nil, false
}

// reportConfigError sends one failure event per positioned config problem, so an
// editor can jump to each, and says the running config stays.
func (e *Engine) reportConfigError(ctx context.Context, err error) {
	ces := config.Errors(err)
	if len(ces) == 0 {
		e.send(ctx, event.Event{Phase: event.PhaseConfig, Status: event.StatusFailure, File: e.cfg.File, Message: "config not reloaded, the previous one keeps running: " + err.Error()})
		return
	}
	for _, ce := range ces {
		e.send(ctx, event.Event{Phase: event.PhaseConfig, Status: event.StatusFailure, File: ce.File, Line: ce.Line, Column: ce.Column,
			Message: ce.Detail() + " (config not reloaded, the previous one keeps running)"})
	}
}

// cleanup deletes what devloop applied. It runs after ctx ended, so it uses a
// context of its own, bounded by Options.CleanupTimeout.
func (e *Engine) cleanup(ctx context.Context) {
	if e.stages.Cleaner == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.CleanupTimeout)
	defer cancel()
	start := e.opts.Now()
	e.send(cctx, event.Event{Phase: event.PhaseDeploy, Status: event.StatusStart, Message: "cleaning up"})
	refs, err := e.stages.Cleaner.Cleanup(cctx)
	ev := event.Event{Phase: event.PhaseDeploy, Duration: e.opts.Now().Sub(start)}
	if err != nil {
		ev.Status, ev.Message = event.StatusFailure, "cleanup: "+err.Error()
	} else {
		ev.Status, ev.Message = event.StatusSuccess, fmt.Sprintf("cleaned up %d objects", len(refs))
		e.applied, e.state.Applied = nil, nil
		e.saveState(cctx)
	}
	e.send(cctx, ev)
}
