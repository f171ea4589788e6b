package sideload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/devloop/devloop/internal/dockerapi"
)

// engine is the little of the Docker Engine API sideloading needs.
type engine struct {
	*dockerapi.Client
	host string // DOCKER_HOST, for messages
}

// newEngine builds a client for env.Host (unix:// or tcp://, with TLS as docker does).
func newEngine(env DockerEnv) (*engine, error) {
	c, err := dockerapi.New(env)
	if err != nil {
		return nil, err
	}
	return &engine{Client: c, host: env.Host}, nil
}

// imageInspect is the part of GET /images/{name}/json sideloading reads.
type imageInspect struct {
	ID     string `json:"Id"`
	RootFS struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

// do sends a request. The daemon's refusal is wrapped with doing (when not
// empty); a daemon that does not answer gets a one-line hint instead.
func (e *engine) do(ctx context.Context, doing, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	resp, err := e.Do(ctx, method, path, query, body)
	if _, ok := errors.AsType[*dockerapi.UnreachableError](err); ok {
		return nil, fmt.Errorf("%w: is it running? (minikube: eval $(minikube docker-env))", err)
	}
	if _, ok := errors.AsType[*dockerapi.APIError](err); ok && doing != "" {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return resp, err
}

// inspect returns the image ref, or nil when the daemon does not have it.
func (e *engine) inspect(ctx context.Context, ref string) (*imageInspect, error) {
	resp, err := e.do(ctx, "inspecting image "+ref, http.MethodGet, "/images/"+ref+"/json", nil, nil)
	switch {
	case dockerapi.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	defer resp.Body.Close()
	var ii imageInspect
	if err := json.NewDecoder(resp.Body).Decode(&ii); err != nil {
		return nil, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return &ii, nil
}

// list returns the IDs of the daemon's images, only those of repository repo
// when it is not empty.
func (e *engine) list(ctx context.Context, repo string) ([]string, error) {
	q := url.Values{}
	if repo != "" {
		f, err := json.Marshal(map[string][]string{"reference": {repo}})
		if err != nil {
			return nil, err
		}
		q.Set("filters", string(f))
	}
	resp, err := e.do(ctx, "listing images", http.MethodGet, "/images/json", q, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var sums []struct {
		ID string `json:"Id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sums); err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	ids := make([]string, 0, len(sums))
	for _, s := range sums {
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// load posts a docker-archive to /images/load. The daemon answers 200 and then
// reports failures inside the JSON message stream, so the stream is read to the end.
func (e *engine) load(ctx context.Context, archive io.Reader) error {
	resp, err := e.do(ctx, "loading image", http.MethodPost, "/images/load", url.Values{"quiet": {"1"}}, archive)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return fmt.Errorf("loading image: %s", msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return fmt.Errorf("loading image: %s", msg.Error)
		}
	}
	return sc.Err()
}

// version returns the daemon's OS and architecture.
func (e *engine) version(ctx context.Context) (osName, arch string, err error) {
	resp, err := e.do(ctx, "asking the daemon's version", http.MethodGet, "/version", nil, nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var v struct{ Os, Arch string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", "", err
	}
	return v.Os, v.Arch, nil
}

// untag removes the tag ref (and the image, if it was its only name), keeping parents.
func (e *engine) untag(ctx context.Context, ref string) error {
	resp, err := e.do(ctx, "", http.MethodDelete, "/images/"+ref, url.Values{"noprune": {"1"}}, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
