package stages

import (
	"context"

	"github.com/devloop/devloop/pkg/build"
	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/loop"
)

// BuildKit builds artifacts with a *build.Builder.
type BuildKit struct {
	B *build.Builder
}

var (
	_ loop.Builder          = BuildKit{}
	_ loop.DependencyLister = BuildKit{}
)

// Build implements loop.Builder.
func (b BuildKit) Build(ctx context.Context, artifacts []config.Artifact) ([]loop.Built, error) {
	res, err := b.B.Build(ctx, Specs(artifacts)...)
	out := make([]loop.Built, len(res))
	for i, r := range res {
		out[i] = loop.Built{Artifact: r.Artifact, Image: r.Image, Duration: r.Duration, Err: r.Err}
	}
	return out, err
}

// Dependencies implements loop.DependencyLister.
func (b BuildKit) Dependencies(artifacts []config.Artifact) (map[string][]string, error) {
	return build.Dependencies(Specs(artifacts))
}

// Close closes the BuildKit connection.
func (b BuildKit) Close() error { return b.B.Close() }

// Specs turns config artifacts into build specs.
func Specs(artifacts []config.Artifact) []build.Spec {
	specs := make([]build.Spec, len(artifacts))
	for i, a := range artifacts {
		specs[i] = build.Spec{
			Name:       a.Image,
			Context:    a.Context,
			Dockerfile: a.Dockerfile,
			Target:     a.Target,
			BuildArgs:  a.BuildArgs,
			Platform:   a.Platform,
			Ignore:     a.Ignore,
		}
	}
	return specs
}
