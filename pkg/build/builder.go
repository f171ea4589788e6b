package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/sideload"
	"github.com/moby/buildkit/client"
)

// Builder builds artifacts through one BuildKit connection. It is safe for
// concurrent use; Close it when done.
type Builder struct {
	opts   Options
	ep     endpoint
	output Output
	c      *client.Client
	eng    *engine // Docker daemon only

	mu sync.Mutex
	// last holds the image most recently built per artifact (familiar name), so a
	// Build of only a dependent artifact still gets its base artifact's image.
	last map[string]sideload.Image
	// locks serialize builds of one artifact across concurrent Build calls:
	// they share its layout directory and its tags.
	locks map[string]*sync.Mutex
	// stores are the open content stores of layout directories.
	stores map[string]content.Store
}

// artifactLock returns the lock of the artifact key.
func (b *Builder) artifactLock(key string) *sync.Mutex {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.locks[key]
	if !ok {
		l = &sync.Mutex{}
		b.locks[key] = l
	}
	return l
}

// New connects to the BuildKit that opts choose (see Options.Builder) and checks
// that it answers.
func New(ctx context.Context, opts Options) (*Builder, error) {
	opts = opts.withDefaults()
	if _, _, err := progressMode(opts.Progress); err != nil {
		return nil, err
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	ep, err := resolveEndpoint(opts.Builder, opts.DockerHost, opts.LookupEnv, exists)
	if err != nil {
		return nil, err
	}
	out, err := opts.outputFor(ep)
	if err != nil {
		return nil, err
	}
	c, eng, err := connect(ctx, ep, opts.BuildkitTLS, opts.LookupEnv)
	if err != nil {
		return nil, err
	}
	return &Builder{opts: opts, ep: ep, output: out, c: c, eng: eng, last: map[string]sideload.Image{}, locks: map[string]*sync.Mutex{}, stores: map[string]content.Store{}}, nil
}

// Close closes the BuildKit connection and the Docker daemon's idle ones.
func (b *Builder) Close() error {
	if b.eng != nil {
		b.eng.Close()
	}
	return b.c.Close()
}

// Endpoint describes the BuildKit the Builder talks to, such as
// "buildkitd at unix:///run/buildkit/buildkitd.sock".
func (b *Builder) Endpoint() string { return b.ep.String() }

// Output returns where the Builder puts images (never OutputAuto).
func (b *Builder) Output() Output { return b.output }

// Build builds specs, at most Options.Concurrency at a time, each after the
// artifacts its Dockerfile builds FROM (see Dependencies); those images reach it
// as named build contexts, so the FROM line needs no tag. A FROM naming an artifact
// that is not in specs gets the image this Builder last built for it, if any.
//
// Images are tagged by content (TagFor). As BuildKit's exporters need the name
// before the digest exists, the image is exported without one and named after:
// OutputLayout adds the name to index.json itself; OutputDaemon exports a
// dangling image and tags its ID through the Engine API (POST
// /images/{id}/tag), so no temporary tag is ever visible; OutputRegistry pushes
// by digest and then tags the manifest in the registry.
//
// Build returns one Result per spec, in order, and an error joining every
// failure; a *BuildError (errors.As) locates a Dockerfile or step failure. An
// artifact whose base artifact failed is not built.
func (b *Builder) Build(ctx context.Context, specs ...Spec) ([]Result, error) {
	plan, err := b.plan(specs)
	if err != nil {
		return nil, err
	}
	disp, err := startDisplay(ctx, b.opts.Progress, b.opts.ProgressOut, len(specs) > 1)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(specs))
	done := make([]chan struct{}, len(specs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, b.opts.Concurrency)
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() {
			defer close(done[i])
			results[i] = b.await(ctx, s, plan[i], results, done, sem, disp)
		})
	}
	wg.Wait()
	disp.close()
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

// specPlan is what a spec waits for before building.
type specPlan struct {
	key string
	// inSet are indexes of specs built in the same call; outside are artifacts
	// built by an earlier call.
	inSet   []int
	deps    []dependency
	outside []string
}

// plan validates specs and works out their dependencies.
func (b *Builder) plan(specs []Spec) ([]specPlan, error) {
	for _, s := range specs {
		if err := s.validate(); err != nil {
			return nil, err
		}
	}
	keys, _, err := indexSpecs(specs)
	if err != nil {
		return nil, err
	}
	known := append([]string(nil), keys...)
	b.mu.Lock()
	for k := range b.last {
		if !slices.Contains(known, k) {
			known = append(known, k)
		}
	}
	b.mu.Unlock()
	plans := make([]specPlan, len(specs))
	graph := map[string][]string{}
	for i, s := range specs {
		deps, err := specDependencies(s, known)
		if err != nil {
			return nil, err
		}
		p := specPlan{key: keys[i], deps: deps}
		for _, d := range deps {
			if j := slices.Index(keys, d.artifact); j >= 0 {
				if !slices.Contains(p.inSet, j) {
					p.inSet = append(p.inSet, j)
					graph[keys[i]] = append(graph[keys[i]], d.artifact)
				}
			} else if !slices.Contains(p.outside, d.artifact) {
				p.outside = append(p.outside, d.artifact)
			}
		}
		plans[i] = p
	}
	if _, err := topoOrder(keys, graph); err != nil {
		return nil, err
	}
	return plans, nil
}

// await waits for spec's base artifacts and a concurrency slot, then builds it.
func (b *Builder) await(ctx context.Context, s Spec, p specPlan, results []Result, done []chan struct{}, sem chan struct{}, disp *display) Result {
	images := map[string]sideload.Image{}
	for _, j := range p.inSet {
		select {
		case <-done[j]:
		case <-ctx.Done():
			return Result{Artifact: s.Name, Err: fmt.Errorf("building %s: %w", s.Name, context.Cause(ctx))}
		}
		if results[j].Err != nil {
			return Result{Artifact: s.Name, Err: fmt.Errorf("building %s: not built because %s, which it builds FROM, failed", s.Name, results[j].Artifact)}
		}
		k, _ := artifactKey(results[j].Artifact)
		images[k] = results[j].Image
	}
	b.mu.Lock()
	for _, k := range p.outside {
		images[k] = b.last[k]
	}
	b.mu.Unlock()
	deps := make([]depImage, 0, len(p.deps))
	for _, d := range p.deps {
		deps = append(deps, depImage{artifact: d.artifact, contextName: d.contextName, img: images[d.artifact]})
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return Result{Artifact: s.Name, Err: fmt.Errorf("building %s: %w", s.Name, context.Cause(ctx))}
	}
	defer func() { <-sem }()
	return b.buildOne(ctx, s, p.key, deps, disp)
}

// buildOne builds one spec and reports it to the event sink.
func (b *Builder) buildOne(ctx context.Context, s Spec, key string, deps []depImage, disp *display) Result {
	l := b.artifactLock(key)
	l.Lock()
	defer l.Unlock()
	start := time.Now()
	b.opts.Events.Send(ctx, event.Event{Time: start, Phase: event.PhaseBuild, Status: event.StatusStart, Artifact: s.Name})
	img, tr, err := b.solve(ctx, s, key, deps, disp)
	r := Result{Artifact: s.Name, Image: img, Duration: time.Since(start), Err: err}
	if tr != nil {
		r.Steps, r.Cached = tr.steps, tr.cached
		r.Ran = tr.steps > tr.cached
	}
	e := event.Event{Time: time.Now(), Phase: event.PhaseBuild, Artifact: s.Name, Duration: r.Duration}
	if err != nil {
		e.Status = event.StatusFailure
		e.Message, _, _ = strings.Cut(err.Error(), "\n")
		var be *BuildError
		if errors.As(err, &be) {
			e.Message = be.Msg
			if be.Step != "" {
				e.Message = be.Step + ": " + be.Msg
			}
			e.File, e.Line, e.Column = be.File, be.Line, be.Column
		}
	} else {
		e.Status = event.StatusSuccess
		e.Ref = img.Ref.String()
		e.Message = fmt.Sprintf("%d steps, %d cached", r.Steps, r.Cached)
		b.mu.Lock()
		b.last[key] = img
		b.mu.Unlock()
	}
	b.opts.Events.Send(ctx, e)
	return r
}
