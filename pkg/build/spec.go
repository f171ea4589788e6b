package build

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devloop/devloop/pkg/sideload"
	"github.com/distribution/reference"
)

// Spec is one artifact to build.
type Spec struct {
	// Name is the image repository without tag or digest, such as "flask-redis-app"
	// or "registry.local:5000/team/web". Other artifacts refer to it in FROM.
	Name string
	// Context is the build context directory.
	Context string
	// Dockerfile is the Dockerfile path; a relative path is relative to Context.
	// Empty means Context/Dockerfile.
	Dockerfile string
	// Target is the stage to build; empty builds the last stage.
	Target string
	// BuildArgs are the frontend's build arguments (--build-arg).
	BuildArgs map[string]string
	// Platform is os/arch[/variant], such as "linux/amd64"; empty builds for the
	// builder's own platform.
	Platform string
	// Secrets maps a secret id (RUN --mount=type=secret,id=ID) to the environment
	// variable holding its value. A variable that is not set fails the build before
	// it starts.
	Secrets map[string]string
	// Ignore holds extra .dockerignore-syntax patterns, relative to Context, kept
	// out of the build context on top of what .dockerignore says.
	Ignore []string
}

// dockerfilePath returns the absolute Dockerfile path of s.
func (s Spec) dockerfilePath() (string, error) {
	df := s.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(s.Context, df)
	}
	return filepath.Abs(df)
}

// validate reports what makes s unbuildable, before anything is sent to BuildKit.
func (s Spec) validate() error {
	if s.Name == "" {
		return errors.New("artifact has no image name")
	}
	named, err := reference.ParseNormalizedNamed(s.Name)
	if err != nil {
		return fmt.Errorf("artifact %s: invalid image name: %w", s.Name, err)
	}
	if !reference.IsNameOnly(named) {
		return fmt.Errorf("artifact %s: image name must not carry a tag or digest (devloop tags by content)", s.Name)
	}
	if s.Context == "" {
		return fmt.Errorf("artifact %s: no build context", s.Name)
	}
	return nil
}

// Result is what one artifact's build produced.
type Result struct {
	// Artifact is the Spec's Name.
	Artifact string
	// Image is the built image as the sideload stage takes it; zero when the
	// build failed.
	Image sideload.Image
	// Duration is the wall time of the build, from the solve request to the tag.
	Duration time.Duration
	// Steps counts the Dockerfile steps BuildKit reported other than FROM (RUN,
	// COPY, WORKDIR, …); Cached counts those it took from its cache.
	Steps, Cached int
	// Ran is true when at least one step really executed; false means the
	// image came entirely from the cache.
	Ran bool
	// Err is the build's error: a *BuildError for Dockerfile and step failures.
	Err error
}

// artifactKey returns the name FROM lines and named build contexts use for an
// image repository: the familiar form ("web", "localhost:5000/web").
func artifactKey(name string) (string, error) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", err
	}
	return reference.FamiliarName(named), nil
}

// checkUnique refuses two specs naming the same image: their tags and layout
// directories would collide.
func checkUnique(specs []Spec) error {
	seen := make([]string, 0, len(specs))
	for _, s := range specs {
		k, err := artifactKey(s.Name)
		if err != nil {
			return fmt.Errorf("artifact %s: invalid image name: %w", s.Name, err)
		}
		if slices.Contains(seen, k) {
			return fmt.Errorf("artifact %s is listed twice", s.Name)
		}
		seen = append(seen, k)
	}
	return nil
}

// layoutSubdir is the directory under the cache dir that holds an artifact's
// layout; the repository's slashes become nested directories.
func layoutSubdir(name string) string {
	return filepath.Join(filepath.FromSlash(strings.ReplaceAll(name, ":", "_")), "layout")
}
