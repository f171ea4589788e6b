package bench

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/devloop/devloop/pkg/build"
	"github.com/devloop/devloop/pkg/sideload"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fixtureSpec sizes the benchmark image: a base image, a dependencies layer, a
// large asset layer and the application source on top, which is what the
// one-line change touches.
type fixtureSpec struct {
	Base     string // FROM; seeded by the test bed (python:3.11-slim, busybox)
	VendorMB int    // MiB of the dependencies layer
	AssetMB  int    // MiB of the asset layer
}

// fixedTime is the modification time of every file of the build context: the
// same spec then gives the same layers, run after run, so BuildKit's cache and
// the registry's storage do not grow with every benchmark.
var fixedTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const dockerfile = `FROM %s
WORKDIR /app
COPY vendor/ /opt/vendor/
COPY assets/ /opt/assets/
COPY app.py /app/app.py
CMD ["python3", "/app/app.py"]
`

// appSource is app.py; version is the one line that changes.
func appSource(version string) string {
	return `import http.server

VERSION = "` + version + `"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(("hello from devloop bench " + VERSION + "\n").encode())


http.server.HTTPServer(("", 8080), Handler).serve_forever()
`
}

// writeContext writes the build context into dir, with app.py at version.
func writeContext(dir string, spec fixtureSpec, version string) error {
	files := []struct {
		path string
		mb   int
		seed byte
		text string
	}{
		{path: "Dockerfile", text: fmt.Sprintf(dockerfile, spec.Base)},
		{path: "vendor/deps.bin", mb: spec.VendorMB, seed: 1},
		{path: "assets/model.bin", mb: spec.AssetMB, seed: 2},
		{path: "app.py", text: appSource(version)},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		var err error
		if f.text != "" {
			err = os.WriteFile(p, []byte(f.text), 0o644)
		} else {
			err = writeRandom(p, int64(f.mb)<<20, f.seed)
		}
		if err != nil {
			return err
		}
	}
	return fixTimes(dir)
}

// writeRandom writes size bytes that do not compress (as a model or a media asset
// does not), the same bytes for the same seed.
func writeRandom(path string, size int64, seed byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = w.ReadFrom(io.LimitReader(rand.NewChaCha8([32]byte{seed}), size))
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fixTimes sets every file and directory under dir to fixedTime.
func fixTimes(dir string) error {
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixedTime, fixedTime)
	})
}

// writeApp rewrites app.py in place (no temporary file, no rename: what an editor
// that saves in place does, and what the watcher must see as one change).
//
// Its modification time is fixed per version: the same version gives the same
// layer run after run, and two versions never share a time. BuildKit's context
// transfer, like rsync, takes a file with unchanged size and time as unchanged,
// and "v1" and "v2" have the same size.
func writeApp(dir, version string) error {
	p := filepath.Join(dir, "app.py")
	if err := os.WriteFile(p, []byte(appSource(version)), 0o644); err != nil {
		return err
	}
	h := fnv.New32a()
	h.Write([]byte(version))
	t := fixedTime.Add(time.Duration(h.Sum32()) * time.Second)
	return os.Chtimes(p, t, t)
}

// fixture is the benchmark image before (v1) and after (v2) a one-line change to
// app.py, both in one OCI image layout as pkg/build leaves them.
type fixture struct {
	spec   fixtureSpec
	ctxDir string
	v1, v2 sideload.Image
	// size is the image's size as a registry or a layout stores it: manifest,
	// config and compressed layers of v2.
	size   int64
	layers int
	// v1Blobs and v2Blobs are every blob of each image (manifest, config, layers);
	// changed are v2's blobs that v1 lacks, changedSize their bytes.
	v1Blobs, v2Blobs []v1.Hash
	changed          []v1.Hash
	changedSize      int64
}

// buildFixture writes the build context under dir and builds v1 and v2 with
// pkg/build through the test bed's buildkitd into an OCI layout.
func buildFixture(ctx context.Context, buildkit, dir, repo string, spec fixtureSpec) (*fixture, error) {
	f := &fixture{spec: spec, ctxDir: filepath.Join(dir, "context")}
	if err := writeContext(f.ctxDir, spec, "v1"); err != nil {
		return nil, fmt.Errorf("writing the build context: %w", err)
	}
	b, err := build.New(ctx, build.Options{Builder: buildkit, Output: build.OutputLayout, CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	spec1 := build.Spec{Name: repo, Context: f.ctxDir}
	for _, v := range []struct {
		version string
		img     *sideload.Image
	}{{"v1", &f.v1}, {"v2", &f.v2}} {
		if err := writeApp(f.ctxDir, v.version); err != nil {
			return nil, err
		}
		res, err := b.Build(ctx, spec1)
		if err != nil {
			return nil, fmt.Errorf("building the %s image: %w", v.version, err)
		}
		*v.img = res[0].Image
	}
	if err := f.describe(); err != nil {
		return nil, fmt.Errorf("reading the built images: %w", err)
	}
	return f, nil
}

// describe fills in the sizes and blob lists from the layout.
func (f *fixture) describe() error {
	p, err := layout.FromPath(f.v2.LayoutDir)
	if err != nil {
		return err
	}
	sizes := map[v1.Hash]int64{}
	blobs := func(d v1.Hash) ([]v1.Hash, error) {
		img, err := p.Image(d)
		if err != nil {
			return nil, err
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		raw, err := img.RawManifest()
		if err != nil {
			return nil, err
		}
		sizes[d] = int64(len(raw))
		sizes[m.Config.Digest] = m.Config.Size
		hs := []v1.Hash{d, m.Config.Digest}
		for _, l := range m.Layers {
			sizes[l.Digest] = l.Size
			hs = append(hs, l.Digest)
		}
		f.layers = len(m.Layers)
		return hs, nil
	}
	if f.v1Blobs, err = blobs(f.v1.Digest); err != nil {
		return err
	}
	if f.v2Blobs, err = blobs(f.v2.Digest); err != nil {
		return err
	}
	in1 := map[v1.Hash]bool{}
	for _, h := range f.v1Blobs {
		in1[h] = true
	}
	f.size, f.changed, f.changedSize = 0, nil, 0
	for _, h := range f.v2Blobs {
		f.size += sizes[h]
		if !in1[h] {
			f.changed = append(f.changed, h)
			f.changedSize += sizes[h]
		}
	}
	return nil
}

// image returns the v1 or v2 image from the layout.
func (f *fixture) image(img sideload.Image) (v1.Image, error) {
	p, err := layout.FromPath(img.LayoutDir)
	if err != nil {
		return nil, err
	}
	return p.Image(img.Digest)
}

// writeDockerArchive writes img as a docker-archive (what docker save writes,
// with the layout's compressed layers) naming it ref.
func (f *fixture) writeDockerArchive(img sideload.Image, ref name.Tag, path string) (int64, error) {
	i, err := f.image(img)
	if err != nil {
		return 0, err
	}
	if err := tarball.WriteToFile(path, ref, i); err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
