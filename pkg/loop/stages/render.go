package stages

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/event"
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
	// Sink, when set, receives a deploy failure event when the manifests do
	// not read or render, located in the manifest when the error says where.
	Sink event.Sink
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
	r, err := m.render(ctx, images)
	if err != nil && m.Sink != nil {
		m.Sink.Send(ctx, renderFailure(err))
	}
	return r, err
}

func (m Manifests) render(ctx context.Context, images map[string]string) (*deploy.Rendered, error) {
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

// renderFailure is the event of a render error: with the manifest's file and line
// when a *deploy.ManifestError names them, and then a message without them.
func renderFailure(err error) event.Event {
	e := event.Event{Phase: event.PhaseDeploy, Status: event.StatusFailure, Message: err.Error()}
	var me *deploy.ManifestError
	if errors.As(err, &me) && me.File != "" {
		e.File, e.Line = me.File, me.Line
		loc := me.File
		if me.Line > 0 {
			loc += fmt.Sprintf(":%d", me.Line)
		}
		e.Message = strings.TrimPrefix(me.Error(), loc+": ")
	}
	return e
}
