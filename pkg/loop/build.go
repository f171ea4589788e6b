package loop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
)

// DependencyLister is implemented by Builders that know which artifacts an
// artifact builds FROM; the Engine then rebuilds dependents of a changed artifact
// and folds the inputs of a base artifact into its dependents'.
type DependencyLister interface {
	Dependencies(artifacts []config.Artifact) (map[string][]string, error)
}

// buildPhase brings every artifact the plan touches up to date: an artifact whose
// inputs hash is that of its last good image is not built again; the others are
// built together. force lists artifacts to build whatever their inputs. It returns
// the artifacts whose image was taken from the state file.
func (e *Engine) buildPhase(ctx context.Context, p plan, force []string, t *timings) (map[string]bool, error) {
	deps := map[string][]string{}
	if dl, ok := e.stages.Builder.(DependencyLister); ok {
		d, err := dl.Dependencies(e.cfg.Artifacts)
		if err != nil {
			return nil, fmt.Errorf("building: %w", err)
		}
		deps = d
	}
	byName := make(map[string]config.Artifact, len(e.cfg.Artifacts))
	for _, a := range e.cfg.Artifacts {
		byName[a.Image] = a
	}
	hashes := map[string]string{}
	var inputs func(a string) string
	inputs = func(a string) string {
		if h, ok := hashes[a]; ok {
			return h
		}
		hashes[a] = "" // breaks cycles; the builder reports them
		own, err := InputsHash(ctx, byName[a])
		if err != nil {
			e.warn(ctx, event.PhaseBuild, err)
			return ""
		}
		var ds []string
		for _, d := range deps[a] {
			h := inputs(d)
			if h == "" {
				return ""
			}
			ds = append(ds, h)
		}
		hashes[a] = combineHashes(own, ds)
		return hashes[a]
	}

	reused := map[string]bool{}
	toBuild := map[string]bool{}
	if force != nil {
		for _, a := range force {
			toBuild[a] = true
		}
	} else {
		for _, a := range e.candidates(p, deps) {
			h := inputs(a)
			if h != "" && e.builds[a].inputs == h {
				continue // built or reused earlier in this process
			}
			if img, ok := e.reuseFromState(a, h, imageUsable); h != "" && ok {
				e.builds[a] = artifactImage{inputs: h, image: img}
				reused[a] = true
				t.reused++
				e.send(ctx, event.Event{Phase: event.PhaseBuild, Status: event.StatusSkipped, Artifact: a, Ref: img.Ref.String(), Message: "inputs unchanged"})
				continue
			}
			toBuild[a] = true
		}
	}
	if len(toBuild) == 0 {
		return reused, nil
	}
	// A base artifact built by another process is unknown to this builder: build
	// it too (from BuildKit's cache) so its dependents get its image.
	for changed := true; changed; {
		changed = false
		for a := range toBuild {
			for _, d := range deps[a] {
				if !toBuild[d] && !e.builtHere(d) {
					toBuild[d], changed = true, true
				}
			}
		}
	}
	var arts []config.Artifact
	for _, a := range e.cfg.Artifacts {
		if toBuild[a.Image] {
			arts = append(arts, a)
		}
	}
	start := e.opts.Now()
	results, err := e.stages.Builder.Build(ctx, arts)
	t.build += e.opts.Now().Sub(start)
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, wrapBuildError(r.Artifact, r.Err))
			continue
		}
		h := inputs(r.Artifact)
		e.builds[r.Artifact] = artifactImage{inputs: h, image: r.Image, here: true}
		if h != "" {
			e.state.Builds[r.Artifact] = BuildState{Inputs: h, Ref: r.Image.Ref.String(), Digest: r.Image.Digest.String(), LayoutDir: r.Image.LayoutDir, InDaemon: r.Image.InDaemon}
		}
		t.built++
	}
	if t.built > 0 {
		e.saveState(ctx)
	}
	if err != nil && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("building: %w", err))
	}
	return reused, errors.Join(errs...)
}

// candidates are the artifacts an iteration must look at: all of them, or the
// changed ones, those never built, and every artifact building FROM one of these.
func (e *Engine) candidates(p plan, deps map[string][]string) []string {
	set := map[string]bool{}
	for _, a := range e.cfg.Artifacts {
		if _, ok := e.builds[a.Image]; p.all || p.build[a.Image] || !ok {
			set[a.Image] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for a, ds := range deps {
			if set[a] {
				continue
			}
			if slices.ContainsFunc(ds, func(d string) bool { return set[d] }) {
				set[a], changed = true, true
			}
		}
	}
	var out []string
	for _, a := range e.cfg.Artifacts {
		if set[a.Image] {
			out = append(out, a.Image)
		}
	}
	return out
}

// builtHere reports whether this process's builder built artifact a.
func (e *Engine) builtHere(a string) bool { return e.builds[a].here }

// imageUsable reports whether a remembered image can still be loaded: its
// manifest is still in the layout directory (the builder prunes old images from
// it), or it lives in a Docker daemon (the loader checks that).
func imageUsable(bs BuildState) bool {
	if bs.InDaemon {
		return true
	}
	if bs.LayoutDir == "" {
		return false
	}
	alg, hex, ok := strings.Cut(bs.Digest, ":")
	if !ok {
		return false
	}
	_, err := os.Stat(filepath.Join(bs.LayoutDir, "blobs", alg, hex))
	return err == nil
}

// wrapBuildError names the artifact unless the error already does.
func wrapBuildError(artifact string, err error) error {
	if strings.HasPrefix(err.Error(), "building "+artifact) {
		return err
	}
	return fmt.Errorf("building %s: %w", artifact, err)
}
