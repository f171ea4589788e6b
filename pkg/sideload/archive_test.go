package sideload

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestWriteOCIArchive(t *testing.T) {
	dir := t.TempDir()
	base, vs := testImages(t, 3, 4096, 2)
	// The layout holds several images over time; the loader must pick by digest.
	ds := writeLayout(t, dir, base, vs[0], vs[1])
	img, dgst := vs[1], ds[2]
	layers := layerDigests(t, img)
	baseLayers := layers[:3]

	tests := []struct {
		name        string
		has         []v1.Hash
		wantLayers  []v1.Hash
		wantSkipped int
	}{
		{name: "node has nothing", wantLayers: layers},
		{name: "node has the base layers", has: baseLayers, wantLayers: layers[3:], wantSkipped: 3},
		{name: "node has every layer", has: layers, wantSkipped: 4},
		{name: "node has unrelated blobs", has: layerDigests(t, vs[0])[3:], wantLayers: layers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			li, err := readLayoutImage(dir, dgst)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			tr, err := writeOCIArchive(&buf, li, mustTag(t, "app:v2"), func(h v1.Hash) bool { return slices.Contains(tc.has, h) })
			if err != nil {
				t.Fatal(err)
			}
			if tr.bytes != int64(buf.Len()) {
				t.Errorf("counted %d bytes, wrote %d", tr.bytes, buf.Len())
			}
			entries := readTar(t, &buf)
			want := append([]string{"index.json", "oci-layout"}, blobNames(append([]v1.Hash{dgst, configDigest(t, img)}, tc.wantLayers...)...)...)
			slices.Sort(want)
			if diff := cmp.Diff(want, names(entries)); diff != "" {
				t.Errorf("archive entries (-want +got):\n%s", diff)
			}
			if tr.sent != 2+len(tc.wantLayers) || tr.skipped != tc.wantSkipped {
				t.Errorf("sent, skipped = %d, %d; want %d, %d", tr.sent, tr.skipped, 2+len(tc.wantLayers), tc.wantSkipped)
			}
			var idx v1.IndexManifest
			if err := json.Unmarshal(entries["index.json"], &idx); err != nil {
				t.Fatal(err)
			}
			size, _ := img.Size()
			wantIdx := v1.IndexManifest{
				SchemaVersion: 2,
				MediaType:     types.OCIImageIndex,
				Manifests: []v1.Descriptor{{
					MediaType: types.DockerManifestSchema2,
					Size:      size,
					Digest:    dgst,
					// ggcr's layout writer records it; it is kept as is.
					ArtifactType: string(types.DockerConfigJSON),
					Annotations: map[string]string{
						"io.containerd.image.name":          "docker.io/library/app:v2",
						"org.opencontainers.image.ref.name": "v2",
					},
				}},
			}
			if diff := cmp.Diff(wantIdx, idx); diff != "" {
				t.Errorf("index.json (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteOCIArchiveFullIsALayout extracts a full archive and reads it back as an
// OCI layout: the archive is what it claims to be.
func TestWriteOCIArchiveFullIsALayout(t *testing.T) {
	src := t.TempDir()
	_, vs := testImages(t, 2, 1024, 1)
	ds := writeLayout(t, src, vs[0])
	li, err := readLayoutImage(src, ds[0])
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := writeOCIArchive(&buf, li, mustTag(t, "registry.example:5000/team/app:abc"), nil); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for n, b := range readTar(t, &buf) {
		p := filepath.Join(dst, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := layout.FromPath(dst)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Image(ds[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(got); err != nil {
		t.Errorf("validate.Image() = %v", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := im.Manifests[0].Annotations[annotationContainerdName], "registry.example:5000/team/app:abc"; got != want {
		t.Errorf("io.containerd.image.name = %q, want %q", got, want)
	}
}

func TestReadLayoutImageIndex(t *testing.T) {
	dir := t.TempDir()
	idx, err := random.Index(1024, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil { // nested: index.json → idx → images
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("index root", func(t *testing.T) {
		li, err := readLayoutImage(dir, d)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(li.manifests), 3; got != want {
			t.Errorf("manifests = %d, want %d", got, want)
		}
		if got, want := len(li.layers), 4; got != want {
			t.Errorf("layers = %d, want %d", got, want)
		}
	})
	t.Run("child of an index", func(t *testing.T) {
		child := im.Manifests[1].Digest
		li, err := readLayoutImage(dir, child)
		if err != nil {
			t.Fatal(err)
		}
		if li.root.Digest != child || !li.root.MediaType.IsImage() {
			t.Errorf("root = %+v, want image %s", li.root, child)
		}
	})
}

func TestReadLayoutImageErrors(t *testing.T) {
	dir := t.TempDir()
	_, vs := testImages(t, 1, 256, 1)
	ds := writeLayout(t, dir, vs[0])
	missing := v1.Hash{Algorithm: "sha256", Hex: "0000000000000000000000000000000000000000000000000000000000000000"}

	corrupt := t.TempDir()
	cds := writeLayout(t, corrupt, vs[0])
	if err := os.WriteFile(filepath.Join(corrupt, "blobs", "sha256", cds[0].Hex), []byte(`{"schemaVersion":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		dgst v1.Hash
	}{
		{"no layout dir", "", ds[0]},
		{"not a layout", t.TempDir(), ds[0]},
		{"digest not in layout", dir, missing},
		{"corrupt manifest", corrupt, cds[0]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := readLayoutImage(tc.dir, tc.dgst); err == nil {
				t.Errorf("readLayoutImage(%q, %s) = nil error, want one", tc.dir, tc.dgst)
			}
		})
	}
}

func TestWriteDockerArchive(t *testing.T) {
	dir := t.TempDir()
	_, vs := testImages(t, 3, 2048, 1)
	img := vs[0]
	ds := writeLayout(t, dir, img)
	li, err := readLayoutImage(dir, ds[0])
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers := layerDigests(t, img)
	for _, skip := range []int{0, 2, 4} {
		var buf bytes.Buffer
		tr, err := writeDockerArchive(&buf, li, m, "docker.io/library/app:v1", skip)
		if err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		entries := readTar(t, bytes.NewReader(raw))
		want := append([]string{"manifest.json"}, blobNames(append([]v1.Hash{m.Config.Digest}, layers[skip:]...)...)...)
		slices.Sort(want)
		if diff := cmp.Diff(want, names(entries)); diff != "" {
			t.Errorf("skip %d: entries (-want +got):\n%s", skip, diff)
		}
		var mf []dockerManifestEntry
		if err := json.Unmarshal(entries["manifest.json"], &mf); err != nil {
			t.Fatal(err)
		}
		wantMF := []dockerManifestEntry{{Config: blobName(m.Config.Digest), RepoTags: []string{"docker.io/library/app:v1"}, Layers: blobNames(layers...)}}
		if diff := cmp.Diff(wantMF, mf); diff != "" {
			t.Errorf("skip %d: manifest.json (-want +got):\n%s", skip, diff)
		}
		if tr.skipped != skip || tr.sent != 1+len(layers)-skip {
			t.Errorf("skip %d: sent, skipped = %d, %d", skip, tr.sent, tr.skipped)
		}
		if skip == 0 {
			// A full archive is a docker-archive ggcr reads back as the same image.
			got, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Image(got); err != nil {
				t.Errorf("validate.Image() = %v", err)
			}
			if got, want := configDigest(t, got), m.Config.Digest; got != want {
				t.Errorf("config digest = %s, want %s", got, want)
			}
		}
	}
	if _, err := writeDockerArchive(io.Discard, li, m, "app:v1", 5); err == nil {
		t.Error("writeDockerArchive(skip 5 of 4) = nil error, want one")
	}
}

func TestWriteArchiveShortBlob(t *testing.T) {
	dir := t.TempDir()
	_, vs := testImages(t, 1, 1024, 1)
	ds := writeLayout(t, dir, vs[0])
	li, err := readLayoutImage(dir, ds[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(li.blobPath(li.layers[0].Digest), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := writeOCIArchive(io.Discard, li, mustTag(t, "app:v1"), nil); err == nil {
		t.Error("writeOCIArchive() with a truncated blob = nil error, want one")
	}
}

func TestContainerdName(t *testing.T) {
	tests := map[string]string{
		"app:v1":                        "docker.io/library/app:v1",
		"team/app:v1":                   "docker.io/team/app:v1",
		"devloop.local/app:5f2c":        "devloop.local/app:5f2c",
		"localhost:5001/a/b:c":          "localhost:5001/a/b:c",
		"index.docker.io/library/app:x": "docker.io/library/app:x",
	}
	for in, want := range tests {
		if got := containerdName(mustTag(t, in)); got != want {
			t.Errorf("containerdName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPartialArchive checks, for any set of blobs a node may hold and any tag, that
// the archive carries exactly the manifest, the config and the missing layers.
func FuzzPartialArchive(f *testing.F) {
	dir := f.TempDir()
	_, vs := testImages(f, 5, 128, 1)
	ds := writeLayout(f, dir, vs[0])
	layers := layerDigests(f, vs[0])
	cfg := configDigest(f, vs[0])
	f.Add(uint8(0), "v1")
	f.Add(uint8(0x1f), "latest")
	f.Add(uint8(0x0a), "a_b.c-d")
	f.Fuzz(func(t *testing.T, mask uint8, tag string) {
		ref, err := nameTag("docker.io/library/app:" + tag)
		if err != nil {
			t.Skip()
		}
		li, err := readLayoutImage(dir, ds[0])
		if err != nil {
			t.Fatal(err)
		}
		has := func(h v1.Hash) bool {
			i := slices.Index(layers, h)
			return i >= 0 && mask&(1<<i) != 0
		}
		var buf bytes.Buffer
		tr, err := writeOCIArchive(&buf, li, ref, has)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"index.json", "oci-layout", blobName(ds[0]), blobName(cfg)}
		for _, l := range layers {
			if !has(l) {
				want = append(want, blobName(l))
			}
		}
		slices.Sort(want)
		entries := readTar(t, &buf)
		if diff := cmp.Diff(want, names(entries)); diff != "" {
			t.Errorf("mask %05b: entries (-want +got):\n%s", mask, diff)
		}
		if tr.sent+tr.skipped != 2+len(layers) {
			t.Errorf("sent %d + skipped %d != %d blobs", tr.sent, tr.skipped, 2+len(layers))
		}
		var idx v1.IndexManifest
		if err := json.Unmarshal(entries["index.json"], &idx); err != nil {
			t.Fatal(err)
		}
		if got := idx.Manifests[0].Annotations[annotationRefName]; got != ref.TagStr() {
			t.Errorf("ref.name = %q, want %q", got, ref.TagStr())
		}
	})
}
