package build

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// itTimeout bounds one integration test; these machines are slow and noisy.
const itTimeout = 5 * time.Minute

// target is one way to run the integration builds.
type target struct {
	name string
	opts func(tb testbed.Env, t *testing.T) Options
	// base is a seeded base image with a shell.
	base string
}

func buildkitdLayout() target {
	return target{name: "buildkitd-layout", base: "python:3.11-slim", opts: func(tb testbed.Env, t *testing.T) Options {
		needBuildkitd(t, tb)
		return Options{Builder: tb.BuildkitHost, Output: OutputLayout, CacheDir: t.TempDir()}
	}}
}

func buildkitdRegistry() target {
	return target{name: "buildkitd-registry", base: "python:3.11-slim", opts: func(tb testbed.Env, t *testing.T) Options {
		needBuildkitd(t, tb)
		return Options{Builder: tb.BuildkitHost, Output: OutputRegistry, Registry: tb.Registry}
	}}
}

func dockerDaemon() target {
	return target{name: "docker-daemon", base: "busybox", opts: func(tb testbed.Env, t *testing.T) Options {
		return Options{Builder: BuilderDocker, DockerHost: tb.DockerHost, Output: OutputDaemon}
	}}
}

// needBuildkitd skips a test the test bed cannot run for want of a buildkitd:
// with BUILDKIT_HOST empty the "auto" builder would quietly pick Docker instead.
func needBuildkitd(t *testing.T, tb testbed.Env) {
	t.Helper()
	if tb.BuildkitHost == "" {
		t.Skip("the test bed exports no BUILDKIT_HOST")
	}
}

func itContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), itTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newITBuilder(ctx context.Context, t *testing.T, opts Options) *Builder {
	t.Helper()
	if opts.ProgressOut == nil && opts.Progress == ProgressAuto {
		opts.Progress, opts.ProgressOut = ProgressPlain, testWriter{t}
	}
	b, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	t.Cleanup(func() { b.Close() })
	if b.ep.docker {
		t.Cleanup(func() { removeDaemonImages(t, b) })
	}
	return b
}

// testWriter sends BuildKit's plain progress to the test log (shown with -v).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// removeDaemonImages removes the devloop-it* images tests tagged in the shared
// daemon.
func removeDaemonImages(t *testing.T, b *Builder) {
	ctx := context.WithoutCancel(t.Context())
	resp, err := b.eng.Do(ctx, http.MethodGet, "/images/json", url.Values{"filters": {`{"reference":["devloop-it*"]}`}}, nil)
	if err != nil {
		t.Logf("listing test images: %v", err)
		return
	}
	defer resp.Body.Close()
	var imgs []imageInfo
	if err := json.NewDecoder(resp.Body).Decode(&imgs); err != nil {
		t.Logf("listing test images: %v", err)
		return
	}
	for _, img := range imgs {
		for _, tag := range img.RepoTags {
			if resp, err := b.eng.Do(ctx, http.MethodDelete, "/images/"+tag, nil, nil); err == nil {
				resp.Body.Close()
			}
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// appContext writes a small app whose first layer changes every test run (the
// nonce), so the first build really builds even with BuildKit's cache warm.
func appContext(t *testing.T, base string) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM " + base + "\n" +
			"WORKDIR /app\n" +
			"COPY nonce.txt .\n" +
			"RUN echo built > built.txt && cat nonce.txt\n" +
			"COPY . .\n" +
			"RUN test ! -e secret.txt && test ! -e debug.log && test -e app.py\n",
		".dockerignore": "secret.txt\n*.log\n",
		"nonce.txt":     fmt.Sprintf("%d\n", time.Now().UnixNano()),
		"app.py":        "print('hello')\n",
		"secret.txt":    "must not reach the build\n",
		"debug.log":     "nor this\n",
	})
	return dir
}

func buildOK(ctx context.Context, t *testing.T, b *Builder, s Spec) Result {
	t.Helper()
	rs, err := b.Build(ctx, s)
	if err != nil {
		t.Fatalf("Build(%s) error = %v", s.Name, err)
	}
	return rs[0]
}

// checkRebuilds builds s, rebuilds it unchanged, then after a one-line change,
// and checks the tags and the cache.
func checkRebuilds(ctx context.Context, t *testing.T, b *Builder, s Spec) (first, second, changed Result) {
	first = buildOK(ctx, t, b, s)
	tag, err := TagFor(first.Image.Digest)
	if err != nil || first.Image.Ref.TagStr() != tag {
		t.Errorf("first build tag = %q, want TagFor(%s) = %q (%v)", first.Image.Ref.TagStr(), first.Image.Digest, tag, err)
	}
	if !first.Ran {
		t.Errorf("first build Ran = false, want true (the nonce layer is new)")
	}
	second = buildOK(ctx, t, b, s)
	t.Logf("first build %v (%d/%d steps cached), unchanged rebuild %v (%d/%d cached)",
		first.Duration, first.Cached, first.Steps, second.Duration, second.Cached, second.Steps)
	if second.Image.Ref != first.Image.Ref || second.Image.Digest != first.Image.Digest {
		t.Errorf("unchanged rebuild = %s (%s), want %s (%s)", second.Image.Ref, second.Image.Digest, first.Image.Ref, first.Image.Digest)
	}
	if second.Ran || second.Cached != second.Steps {
		t.Errorf("unchanged rebuild ran %d of %d steps, want all cached", second.Steps-second.Cached, second.Steps)
	}
	if second.Duration >= first.Duration {
		t.Errorf("unchanged rebuild took %v, first build %v: want less", second.Duration, first.Duration)
	}

	writeFiles(t, s.Context, map[string]string{"app.py": "print('hello, again')\n"})
	changed = buildOK(ctx, t, b, s)
	t.Logf("one-line change: %v, %d of %d steps cached", changed.Duration, changed.Cached, changed.Steps)
	if changed.Image.Ref == first.Image.Ref {
		t.Errorf("rebuild after a change kept tag %s, want a new one", changed.Image.Ref)
	}
	// WORKDIR, COPY nonce.txt and the first RUN come from the cache.
	if changed.Cached < 3 || !changed.Ran {
		t.Errorf("rebuild after a change: %d of %d steps cached (ran: %v), want the 3 lower ones cached", changed.Cached, changed.Steps, changed.Ran)
	}
	return first, second, changed
}

// layoutFiles lists the files in the image's filesystem, flattened.
func layoutFiles(t *testing.T, r Result) []string {
	t.Helper()
	p, err := layout.FromPath(r.Image.LayoutDir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(r.Image.Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	var files []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, strings.TrimPrefix(h.Name, "./"))
	}
	return files
}
