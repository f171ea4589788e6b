package loop

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/watch"
)

// plan is what one iteration must do.
type plan struct {
	// files are the changed files that asked for it, absolute.
	files []string
	// all builds (or reuses, when unchanged) every artifact.
	all bool
	// build names the artifacts whose sources changed.
	build map[string]bool
	// reload reads devloop.yaml again first.
	reload bool
}

// merge returns the plan doing what p and q do.
func (p plan) merge(q plan) plan {
	m := plan{all: p.all || q.all, reload: p.reload || q.reload, build: map[string]bool{}}
	for a := range p.build {
		m.build[a] = true
	}
	for a := range q.build {
		m.build[a] = true
	}
	m.files = append(slices.Clone(p.files), q.files...)
	slices.Sort(m.files)
	m.files = slices.Compact(m.files)
	return m
}

// roleKind says what a watched root is for.
type roleKind int

const (
	roleArtifact roleKind = iota // an artifact's context or Dockerfile
	roleManifest                 // manifests or a kustomize directory
	roleConfig                   // devloop.yaml itself
)

// role is what changes under one watched root mean.
type role struct {
	kind     roleKind
	artifact string // roleArtifact only
}

// watchRoots returns the roots Dev watches for cfg and what each one is for:
// every artifact's context (filtered by its .dockerignore and ignore patterns) and
// Dockerfile, the manifests and kustomize directory, and the config file.
func watchRoots(cfg *config.Config) ([]watch.Root, []role) {
	var roots []watch.Root
	var roles []role
	add := func(r watch.Root, ro role) {
		if _, err := os.Stat(r.Path); err != nil {
			return // a missing path is reported by the stage that reads it
		}
		roots = append(roots, r)
		roles = append(roles, ro)
	}
	for _, a := range cfg.Artifacts {
		r := watch.Root{Path: a.Context, Ignore: a.Ignore, DockerIgnore: true}
		df := a.Dockerfile
		if df == "" {
			df = filepath.Join(a.Context, config.DefaultDockerfile)
		}
		if rel, ok := within(a.Context, df); ok {
			r.Keep = []string{rel}
			add(r, role{kind: roleArtifact, artifact: a.Image})
		} else {
			add(r, role{kind: roleArtifact, artifact: a.Image})
			add(watch.Root{Path: df}, role{kind: roleArtifact, artifact: a.Image})
		}
	}
	for _, m := range cfg.Deploy.Manifests {
		add(watch.Root{Path: globBase(m)}, role{kind: roleManifest})
	}
	if cfg.Deploy.Kustomize != "" {
		add(watch.Root{Path: cfg.Deploy.Kustomize}, role{kind: roleManifest})
	}
	if cfg.File != "" {
		add(watch.Root{Path: cfg.File}, role{kind: roleConfig})
	}
	return roots, roles
}

// planFor maps a batch of changes to what must be done: a change under an
// artifact's root rebuilds it, under the manifests re-applies, to devloop.yaml
// reloads the config. An overflowed batch (events lost) redoes everything.
func planFor(b watch.Batch, roles []role) plan {
	p := plan{files: slices.Clone(b.Paths), build: map[string]bool{}}
	if b.Overflow {
		p.all, p.reload = true, true
		return p
	}
	for _, rc := range b.Roots {
		if rc.Index < 0 || rc.Index >= len(roles) || len(rc.Paths) == 0 {
			continue
		}
		switch ro := roles[rc.Index]; ro.kind {
		case roleArtifact:
			p.build[ro.artifact] = true
		case roleConfig:
			p.reload = true
		}
	}
	return p
}

// relFiles shows changed files relative to the config's directory.
func (e *Engine) relFiles(files []string) []string {
	if len(files) == 0 {
		return nil
	}
	out := make([]string, len(files))
	for i, f := range files {
		if rel, ok := within(e.cfg.Dir, f); ok && e.cfg.Dir != "" {
			f = rel
		}
		out[i] = f
	}
	return out
}

// within returns p relative to dir when p is inside dir.
func within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// globBase is the directory a manifest source lives under: the source itself, or
// for a glob pattern the longest leading path without a wildcard.
func globBase(p string) string {
	if !strings.ContainsAny(p, "*?[") {
		return p
	}
	dir := p
	for strings.ContainsAny(dir, "*?[") {
		dir = filepath.Dir(dir)
	}
	return dir
}
