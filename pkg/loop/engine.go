package loop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/sideload"
)

// AnnotationHash is set on every applied object to the rendered hash of the apply,
// so a later run can tell that the cluster still holds exactly what it would apply.
const AnnotationHash = "devloop.dev/rendered-hash"

// Options configure an Engine.
type Options struct {
	// NewStages makes the stages for a config: at New and after every config
	// reload. Required.
	NewStages StagesFunc
	// Sink receives every event; nil drops them.
	Sink event.Sink
	// State remembers builds and applies across processes; nil remembers only
	// within this Engine.
	State *StateStore
	// NoWait skips waiting for rollouts.
	NoWait bool
	// Timeout bounds each wait for rollouts; 0 means the config's
	// deploy.rolloutTimeout.
	Timeout time.Duration
	// AllowContexts are kube contexts allowed on top of the config's.
	AllowContexts []string
	// PortForward forwards the config's ports once deployed; Tail streams the
	// deployed pods' logs. For Run they keep it running until ctx ends.
	PortForward, Tail bool

	// Reload reads the config again after devloop.yaml changed (Dev); nil
	// ignores such changes.
	Reload func() (*config.Config, error)
	// Watch starts watching roots (Dev); nil uses package watch.
	Watch WatchFunc
	// Cleanup makes Dev delete what it applied when it stops.
	Cleanup bool
	// CleanupTimeout bounds that cleanup; default 30s.
	CleanupTimeout time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Engine runs iterations of the pipeline for one project. It is not safe for
// concurrent use: Build, RunOnce, Run and Dev are called one at a time.
type Engine struct {
	opts   Options
	sink   *stampSink
	cfg    *config.Config
	stages *Stages

	key     string                   // state key: context, namespace, target
	state   *TargetState             // persisted memory for key
	builds  map[string]artifactImage // last good build per artifact
	loaded  map[string]loadedImage   // what this process loaded, per artifact
	applied *AppliedState            // last successful apply
}

// artifactImage is an artifact's last good build.
type artifactImage struct {
	inputs string
	image  sideload.Image
	here   bool // built by this process's builder
}

// loadedImage is an image this process loaded and the reference it got.
type loadedImage struct {
	digest v1.Hash
	ref    string
}

// New makes the stages for cfg and returns an Engine ready to run.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Engine, error) {
	if opts.NewStages == nil {
		return nil, errors.New("loop: Options.NewStages is required")
	}
	if opts.Sink == nil {
		opts.Sink = event.Discard{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CleanupTimeout <= 0 {
		opts.CleanupTimeout = 30 * time.Second
	}
	e := &Engine{
		opts:   opts,
		sink:   &stampSink{inner: opts.Sink, now: opts.Now},
		builds: map[string]artifactImage{},
		loaded: map[string]loadedImage{},
	}
	st, err := opts.NewStages(ctx, cfg, e.sink)
	if err != nil {
		return nil, err
	}
	e.use(ctx, cfg, st)
	return e, nil
}

// Close releases the stages.
func (e *Engine) Close() error {
	if e.stages == nil {
		return nil
	}
	return e.stages.Close()
}

// Config returns the config the Engine runs.
func (e *Engine) Config() *config.Config { return e.cfg }

// use switches to cfg and st, and to the state remembered for their target.
// What was loaded stays valid only for the same target.
func (e *Engine) use(ctx context.Context, cfg *config.Config, st *Stages) {
	key := st.Kube.Name + "|" + st.Kube.Namespace + "|" + st.Target
	if key != e.key {
		e.loaded = map[string]loadedImage{}
		e.applied = nil
		e.state = &TargetState{}
		if e.opts.State != nil {
			ts, err := e.opts.State.Load(key)
			if err != nil {
				e.warn(ctx, event.PhaseIteration, err)
			}
			e.state = ts
		}
		if e.state.Builds == nil {
			e.state.Builds = map[string]BuildState{}
		}
		e.applied = e.state.Applied
	}
	e.key, e.cfg, e.stages = key, cfg, st
}

// saveState persists the memory for the current target; a failure only costs a
// rebuild next time, so it is reported, not returned.
func (e *Engine) saveState(ctx context.Context) {
	if e.opts.State == nil {
		return
	}
	if err := e.opts.State.Save(e.key, e.state); err != nil {
		e.warn(ctx, event.PhaseIteration, err)
	}
}

// reuseFromState returns the image the state remembers for a built from
// inputs, if it can still be loaded.
func (e *Engine) reuseFromState(a string, inputs string, usable func(BuildState) bool) (sideload.Image, bool) {
	bs, ok := e.state.Builds[a]
	if !ok || bs.Inputs != inputs || !usable(bs) {
		return sideload.Image{}, false
	}
	ref, err := name.NewTag(bs.Ref)
	if err != nil {
		return sideload.Image{}, false
	}
	dg, err := v1.NewHash(bs.Digest)
	if err != nil {
		return sideload.Image{}, false
	}
	return sideload.Image{Ref: ref, Digest: dg, LayoutDir: bs.LayoutDir, InDaemon: bs.InDaemon}, true
}

func (e *Engine) send(ctx context.Context, ev event.Event) { e.sink.Send(ctx, ev) }

func (e *Engine) warn(ctx context.Context, phase event.Phase, err error) {
	e.send(ctx, event.Event{Phase: phase, Status: event.StatusProgress, Message: "warning: " + err.Error()})
}

// rolloutTimeout is the deadline of one wait for rollouts.
func (e *Engine) rolloutTimeout() time.Duration {
	if e.opts.Timeout > 0 {
		return e.opts.Timeout
	}
	if e.cfg.Deploy.RolloutTimeout > 0 {
		return e.cfg.Deploy.RolloutTimeout
	}
	return config.DefaultRolloutTimeout
}

// Build builds every artifact, as `devloop build` does: no input hashing, no
// load, no deploy. It returns the results in config order.
func (e *Engine) Build(ctx context.Context) ([]Built, error) {
	e.sink.iteration.Store(1)
	if len(e.cfg.Artifacts) == 0 {
		return nil, errors.New("the config has no artifacts to build")
	}
	res, err := e.stages.Builder.Build(ctx, e.cfg.Artifacts)
	if err != nil {
		return res, fmt.Errorf("building: %w", err)
	}
	return res, nil
}
