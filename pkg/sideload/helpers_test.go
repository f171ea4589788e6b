package sideload

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testImages builds a base image of n layers of size bytes each and variants that
// add one small distinct layer each, as a one-line source change would.
func testImages(t testing.TB, n int, size int64, variants int) (base v1.Image, vs []v1.Image) {
	t.Helper()
	base, err := random.Image(size, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	base, err = mutate.ConfigFile(base, mustConfig(t, base))
	if err != nil {
		t.Fatal(err)
	}
	for range variants {
		l, err := random.Layer(512, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		v, err := mutate.AppendLayers(base, l)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return base, vs
}

// mustConfig gives random.Image's config an OS and architecture.
func mustConfig(t testing.TB, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	return cf
}

// writeLayout writes imgs into an OCI layout at dir (appending, as BuildKit's
// exporter does) and returns their manifest digests.
func writeLayout(t testing.TB, dir string, imgs ...v1.Image) []v1.Hash {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			t.Fatal(err)
		}
	}
	var ds []v1.Hash
	for i, img := range imgs {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
			annotationContainerdName: fmt.Sprintf("docker.io/library/other:%d", i),
		})); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ds
}

func mustTag(t testing.TB, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func layerDigests(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var ds []v1.Hash
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ds
}

func configDigest(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// readTar returns the entries of a tar stream by name.
func readTar(t testing.TB, r io.Reader) map[string][]byte {
	t.Helper()
	out, err := tarEntries(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tarEntries(r io.Reader) (map[string][]byte, error) {
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		out[h.Name] = b
	}
}

func names(m map[string][]byte) []string {
	var ns []string
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

func blobNames(hs ...v1.Hash) []string {
	var ns []string
	for _, h := range hs {
		ns = append(ns, blobName(h))
	}
	return ns
}

// fakeRunner records commands and answers them with respond, which sees the
// command line and everything written to its stdin.
type fakeRunner struct {
	respond func(args []string, stdin []byte) (string, error)

	mu    sync.Mutex
	calls [][]string
}

func (f *fakeRunner) Run(ctx context.Context, stdin io.Reader, stdout, _ io.Writer, args ...string) error {
	var in []byte
	if stdin != nil {
		var err error
		if in, err = io.ReadAll(stdin); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, args)
	f.mu.Unlock()
	out, err := f.respond(args, in)
	if stdout != nil {
		if _, werr := io.WriteString(stdout, out); werr != nil {
			return werr
		}
	}
	if err != nil {
		return &RunError{Command: args, Output: []byte(err.Error()), Err: errors.New("exit status 1")}
	}
	return ctx.Err()
}

// commands returns the recorded command lines joined by spaces.
func (f *fakeRunner) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cs []string
	for _, c := range f.calls {
		cs = append(cs, strings.Join(c, " "))
	}
	return cs
}

// imagesTable renders `ctr images ls` output listing ref at digest.
func imagesTable(ref string, d v1.Hash) string {
	var b bytes.Buffer
	fmt.Fprintln(&b, "REF TYPE DIGEST SIZE PLATFORMS LABELS")
	if d.Hex != "" {
		fmt.Fprintf(&b, "%s application/vnd.oci.image.manifest.v1+json %s 3.0 MiB linux/amd64 -\n", ref, d)
	}
	return b.String()
}

func nameTag(s string) (name.Tag, error) { return name.NewTag(s, name.StrictValidation) }
