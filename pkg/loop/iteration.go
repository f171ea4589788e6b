package loop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
)

// RunOnce runs one full iteration, numbered iteration: build (or reuse) every
// artifact, load, render, apply, prune and wait for the rollouts. A failed build
// or load applies nothing. When the images and the rendered manifests are those
// of the last successful apply and the cluster still holds them, nothing is
// loaded or applied.
func (e *Engine) RunOnce(ctx context.Context, iteration int) error {
	_, err := e.iterate(ctx, iteration, plan{all: true}, &phaseTracker{})
	return err
}

// phaseTracker tells Dev which phase the running iteration is in, to decide
// whether a new batch may cancel it.
type phaseTracker struct {
	v atomic.Value
	// newer is set when changes arrived that the iteration could not be
	// cancelled for (during its apply): it then skips waiting for rollouts and
	// lets the next iteration start.
	newer atomic.Bool
}

func (p *phaseTracker) set(ph event.Phase) { p.v.Store(ph) }

func (p *phaseTracker) get() event.Phase {
	ph, _ := p.v.Load().(event.Phase)
	return ph
}

// outcome is what an iteration did.
type outcome struct {
	applied   bool // the apply finished: a later iteration need not redo it for this plan
	workloads []rollout.Resource
	t         timings
}

func (e *Engine) iterate(ctx context.Context, n int, p plan, pt *phaseTracker) (out outcome, err error) {
	start := e.opts.Now()
	e.sink.iteration.Store(int64(n))
	files := e.relFiles(p.files)
	e.send(ctx, event.Event{Phase: event.PhaseIteration, Status: event.StatusStart, Files: files})
	defer func() {
		if ph := pt.get(); ph == event.PhaseDeploy || ph == event.PhaseRollout {
			err = e.explainKube(err)
		}
		ev := event.Event{Phase: event.PhaseIteration, Files: files, Duration: e.opts.Now().Sub(start)}
		switch {
		case err != nil && context.Cause(ctx) == errSuperseded:
			ev.Status, ev.Message = event.StatusSkipped, fmt.Sprintf("iteration %d cancelled: newer changes arrived", n)
		case err != nil && ctx.Err() != nil:
			ev.Status, ev.Message = event.StatusSkipped, fmt.Sprintf("iteration %d stopped", n)
		case err != nil:
			ev.Status, ev.Message = event.StatusFailure, fmt.Sprintf("iteration %d failed: %v", n, err)
		default:
			ev.Status, ev.Message = event.StatusSuccess, out.t.summary(n, files)
		}
		e.send(context.WithoutCancel(ctx), ev)
	}()

	if e.stages.Deployer != nil {
		if err := deploy.CheckContext(e.stages.Kube.Name, e.stages.Kube.Server, slices.Concat(e.cfg.AllowContexts, e.opts.AllowContexts)); err != nil {
			return out, err
		}
	}
	pt.set(event.PhaseBuild)
	reused, err := e.buildPhase(ctx, p, nil, &out.t)
	if err != nil {
		return out, err
	}
	if e.stages.Deployer == nil || e.stages.Renderer == nil {
		return out, nil
	}

	pt.set(event.PhaseDeploy)
	if same, rendered, err := e.unchanged(ctx); err != nil {
		return out, err
	} else if same {
		out.t.nothingChanged = true
		e.send(ctx, event.Event{Phase: event.PhaseDeploy, Status: event.StatusSkipped, Message: out.t.nothingChangedMessage()})
		out.applied, out.workloads = true, Workloads(rendered.Objects)
		return out, e.waitPhase(ctx, rendered.Objects, pt, &out.t)
	}

	pt.set(event.PhaseSideload)
	refs, failedReused, err := e.loadPhase(ctx, reused, &out.t)
	if err != nil && len(failedReused) > 0 {
		// The image a state remembered is gone from the layout or daemon: build it
		// again, this once, and load that.
		pt.set(event.PhaseBuild)
		if _, berr := e.buildPhase(ctx, plan{}, failedReused, &out.t); berr != nil {
			return out, errors.Join(err, berr)
		}
		pt.set(event.PhaseSideload)
		refs, _, err = e.loadPhase(ctx, nil, &out.t)
	}
	if err != nil {
		return out, err
	}

	pt.set(event.PhaseDeploy)
	rendered, err := e.stages.Renderer.Render(ctx, refs)
	if err != nil {
		return out, fmt.Errorf("rendering manifests: %w", err)
	}
	annotate(rendered.Objects, AnnotationHash, rendered.Hash)
	applyStart := e.opts.Now()
	applied, err := e.stages.Deployer.Apply(ctx, rendered.Objects)
	if err != nil {
		return out, fmt.Errorf("applying: %w", err)
	}
	if _, err := e.stages.Deployer.Prune(ctx, applied); err != nil {
		return out, fmt.Errorf("pruning: %w", err)
	}
	out.t.apply = e.opts.Now().Sub(applyStart)
	out.t.applied = len(applied)
	out.applied, out.workloads = true, Workloads(rendered.Objects)
	e.recordApply(ctx, rendered.Hash, refs)

	return out, e.waitPhase(ctx, rendered.Objects, pt, &out.t)
}

// unchanged reports whether the current images and manifests are exactly those of
// the last successful apply and the cluster still holds them; rendered is what the
// manifests render to with the last apply's references.
func (e *Engine) unchanged(ctx context.Context) (bool, *deploy.Rendered, error) {
	last := e.applied
	if last == nil || len(last.Digests) != len(e.cfg.Artifacts) {
		return false, nil, nil
	}
	for _, a := range e.cfg.Artifacts {
		b, ok := e.builds[a.Image]
		if !ok || last.Digests[a.Image] != b.image.Digest.String() || last.Refs[a.Image] == "" {
			return false, nil, nil
		}
	}
	rendered, err := e.stages.Renderer.Render(ctx, last.Refs)
	if err != nil {
		return false, nil, fmt.Errorf("rendering manifests: %w", err)
	}
	if rendered.Hash != last.Hash {
		return false, rendered, nil
	}
	if e.stages.Live != nil {
		ok, err := e.stages.Live.Current(ctx, rendered.Objects, rendered.Hash)
		if err != nil {
			e.warn(ctx, event.PhaseDeploy, fmt.Errorf("checking the live objects: %w", err))
			return false, rendered, nil
		}
		if !ok {
			return false, rendered, nil
		}
	}
	return true, rendered, nil
}

// loadPhase loads the image of every artifact that this process has not loaded
// yet, at most build.concurrency at a time, and returns the references the
// cluster runs. failedReused lists the failed artifacts whose image came from
// the state rather than from a build of this iteration.
func (e *Engine) loadPhase(ctx context.Context, reused map[string]bool, t *timings) (refs map[string]string, failedReused []string, err error) {
	if e.stages.Loader == nil {
		return nil, nil, errors.New("no sideload target")
	}
	start := e.opts.Now()
	refs = make(map[string]string, len(e.cfg.Artifacts))
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, max(1, e.cfg.Build.Concurrency))
	)
	var todo []string
	for _, a := range e.cfg.Artifacts {
		b := e.builds[a.Image]
		if l, ok := e.loaded[a.Image]; ok && l.digest == b.image.Digest {
			refs[a.Image] = l.ref
			continue
		}
		todo = append(todo, a.Image)
	}
	for _, a := range todo {
		b := e.builds[a]
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, fmt.Errorf("loading %s: %w", a, context.Cause(ctx)))
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			ls := e.opts.Now()
			e.send(ctx, event.Event{Phase: event.PhaseSideload, Status: event.StatusStart, Artifact: a, Ref: b.image.Ref.String(), Message: e.stages.Target})
			res, err := e.stages.Loader.Load(ctx, b.image)
			ev := event.Event{Phase: event.PhaseSideload, Artifact: a, Duration: e.opts.Now().Sub(ls)}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				err = fmt.Errorf("loading %s: %w", a, err)
				ev.Status, ev.Message = event.StatusFailure, err.Error()
				e.send(ctx, ev)
				errs = append(errs, err)
				if reused[a] {
					failedReused = append(failedReused, a)
				}
				return
			}
			ref := res.Ref.String()
			ev.Status, ev.Ref, ev.Bytes, ev.BlobsSkipped = event.StatusSuccess, ref, res.BytesSent, res.BlobsSkipped
			e.send(ctx, ev)
			refs[a] = ref
			e.loaded[a] = loadedImage{digest: b.image.Digest, ref: ref}
			t.loaded++
			t.bytes += res.BytesSent
		})
	}
	wg.Wait()
	if t.loaded > 0 || len(errs) > 0 {
		t.load += e.opts.Now().Sub(start)
	}
	return refs, failedReused, errors.Join(errs...)
}

// recordApply remembers a successful apply, in memory and in the state file.
func (e *Engine) recordApply(ctx context.Context, hash string, refs map[string]string) {
	a := &AppliedState{Hash: hash, Digests: map[string]string{}, Refs: maps.Clone(refs), Time: e.opts.Now()}
	for _, art := range e.cfg.Artifacts {
		a.Digests[art.Image] = e.builds[art.Image].image.Digest.String()
	}
	e.applied = a
	e.state.Applied = a
	e.saveState(ctx)
}

// waitPhase waits for the rollouts of the workloads among objs.
func (e *Engine) waitPhase(ctx context.Context, objs []*unstructured.Unstructured, pt *phaseTracker, t *timings) error {
	if e.opts.NoWait || e.stages.Waiter == nil || pt.newer.Load() {
		return nil
	}
	pt.set(event.PhaseRollout)
	e.sink.locate(objs)
	start := e.opts.Now()
	err := e.stages.Waiter.Wait(ctx, Workloads(objs), e.rolloutTimeout())
	t.rollout, t.waited = e.opts.Now().Sub(start), true
	if err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	return nil
}

// Workloads returns the objects among objs whose rollout can be waited for.
func Workloads(objs []*unstructured.Unstructured) []rollout.Resource {
	var rs []rollout.Resource
	for _, o := range objs {
		if rollout.Supports(o.GroupVersionKind().GroupKind()) {
			rs = append(rs, rollout.ResourceOf(o))
		}
	}
	return rs
}

// annotate sets the annotation k=v on every object.
func annotate(objs []*unstructured.Unstructured, k, v string) {
	for _, o := range objs {
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[k] = v
		o.SetAnnotations(a)
	}
}
