package build

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestPruneLayout(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	base, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []v1.Image
	for i := 0; i < 5; i++ {
		top, err := random.Layer(512, "application/vnd.oci.image.layer.v1.tar+gzip")
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(base, top)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}

	if err := pruneLayout(dir, 3); err != nil {
		t.Fatalf("pruneLayout() error = %v", err)
	}

	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 3 {
		t.Fatalf("pruned index has %d images, want 3", len(m.Manifests))
	}
	for i, img := range imgs {
		h, _ := img.Digest()
		kept := i >= 2
		if kept {
			got, err := p.Image(h)
			if err != nil {
				t.Fatalf("kept image %d: %v", i, err)
			}
			if err := validate.Image(got); err != nil {
				t.Errorf("kept image %d is incomplete: %v", i, err)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "blobs", h.Algorithm, h.Hex)); !os.IsNotExist(err) {
			t.Errorf("pruned image %d manifest still on disk (stat error %v)", i, err)
		}
		layers, _ := img.Layers()
		top, _ := layers[len(layers)-1].Digest()
		if _, err := os.Stat(filepath.Join(dir, "blobs", top.Algorithm, top.Hex)); !os.IsNotExist(err) {
			t.Errorf("pruned image %d top layer still on disk (stat error %v)", i, err)
		}
	}

	if err := pruneLayout(dir, 3); err != nil {
		t.Errorf("pruneLayout() again error = %v", err)
	}
}
