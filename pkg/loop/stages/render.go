package stages

import (
	"context"
	"fmt"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/loop"
)

// Manifests reads the project's manifests on every Render (they may have
// changed) and renders them with a *deploy.Deployer.
type Manifests struct {
	D *deploy.Deployer
	// Sources are manifest files, directories, globs and kustomize directories.
	Sources []string
	// Sideloaded says the images were put into the nodes rather than pushed.
	Sideloaded bool
}

var _ loop.Renderer = Manifests{}

// ManifestSources lists the config's manifest sources, kustomize last.
func ManifestSources(d config.Deploy) []string {
	src := append([]string(nil), d.Manifests...)
	if d.Kustomize != "" {
		src = append(src, d.Kustomize)
	}
	return src
}

// Render implements loop.Renderer.
func (m Manifests) Render(ctx context.Context, images map[string]string) (*deploy.Rendered, error) {
	if len(m.Sources) == 0 {
		return nil, fmt.Errorf("the config has no manifests (deploy.manifests or deploy.kustomize)")
	}
	objs, err := deploy.Read(ctx, m.Sources)
	if err != nil {
		return nil, err
	}
	return m.D.Render(objs, images, deploy.RenderOptions{Sideloaded: m.Sideloaded})
}

// ImagePaths converts the config's image paths for deploy.Options.
func ImagePaths(ps []config.ImagePath) []deploy.ImagePath {
	out := make([]deploy.ImagePath, len(ps))
	for i, p := range ps {
		out[i] = deploy.ImagePath{Kind: p.Kind, Path: p.Path}
	}
	return out
}
