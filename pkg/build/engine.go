package build

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/devloop/devloop/internal/dockerapi"
)

// engine is the little of the Docker Engine API the build needs beyond the
// BuildKit hijack endpoints: tagging and inspecting images.
type engine struct {
	*dockerapi.Client
}

// newEngine returns the engine of the daemon env names.
func newEngine(env dockerapi.Env) (*engine, error) {
	c, err := dockerapi.New(env)
	if err != nil {
		return nil, err
	}
	return &engine{Client: c}, nil
}

// tag names image (an ID or reference) repo:tag in the daemon.
func (e *engine) tag(ctx context.Context, image, repo, tag string) error {
	resp, err := e.Do(ctx, http.MethodPost, "/images/"+image+"/tag", url.Values{"repo": {repo}, "tag": {tag}}, nil)
	if err != nil {
		return fmt.Errorf("tagging %s as %s:%s: %w", image, repo, tag, err)
	}
	resp.Body.Close()
	return nil
}

// imageInfo is the part of GET /images/{name}/json the build reads.
type imageInfo struct {
	ID       string   `json:"Id"`
	RepoTags []string `json:"RepoTags"`
}

// inspect returns the daemon's record of an image.
func (e *engine) inspect(ctx context.Context, ref string) (imageInfo, error) {
	resp, err := e.Do(ctx, http.MethodGet, "/images/"+ref+"/json", nil, nil)
	if err != nil {
		return imageInfo{}, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	defer resp.Body.Close()
	var info imageInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return imageInfo{}, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return info, nil
}
