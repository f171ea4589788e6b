package loop

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
)

// Run runs one iteration, numbered 1, as `devloop run` does. With
// Options.PortForward or Options.Tail and a successful iteration, it then keeps
// forwarding ports and streaming logs until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	out, err := e.iterate(ctx, 1, plan{all: true}, &phaseTracker{})
	if err != nil || (!e.opts.PortForward && !e.opts.Tail) {
		return err
	}
	s := e.startServe(ctx)
	s.update(out)
	<-ctx.Done()
	s.stop()
	return nil
}

// server runs the port-forwards and log streams of the deployed workloads in the
// background.
type server struct {
	e         *Engine
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	forwards  bool
	tail      context.CancelFunc
	workloads []rollout.Resource
}

// startServe returns a server that starts once update reports a deploy.
func (e *Engine) startServe(ctx context.Context) *server {
	sctx, cancel := context.WithCancel(ctx)
	return &server{e: e, ctx: sctx, cancel: cancel}
}

// update starts the port-forwards after the first deploy and (re)starts the log
// streams when the set of workloads changed.
func (s *server) update(out outcome) {
	e := s.e
	if e.opts.PortForward && !s.forwards && e.stages.Forwarder != nil && len(e.cfg.PortForward) > 0 {
		s.forwards = true
		f, fwds := e.stages.Forwarder, e.cfg.PortForward
		s.wg.Go(func() {
			if err := f.Forward(s.ctx, fwds); err != nil && s.ctx.Err() == nil {
				e.send(s.ctx, event.Event{Phase: event.PhasePortForward, Status: event.StatusFailure, Message: fmt.Sprintf("port-forward: %v", err)})
			}
		})
	}
	if !e.opts.Tail || e.stages.Tailer == nil || slices.Equal(out.workloads, s.workloads) && s.tail != nil {
		return
	}
	if s.tail != nil {
		s.tail()
	}
	tctx, cancel := context.WithCancel(s.ctx)
	s.tail, s.workloads = cancel, out.workloads
	t, ws := e.stages.Tailer, out.workloads
	s.wg.Go(func() {
		if err := t.Tail(tctx, ws); err != nil && tctx.Err() == nil {
			e.send(tctx, event.Event{Phase: event.PhaseLog, Status: event.StatusFailure, Message: fmt.Sprintf("logs: %v", err)})
		}
	})
}

// stop ends every forward and log stream and waits for them.
func (s *server) stop() {
	s.cancel()
	s.wg.Wait()
}
