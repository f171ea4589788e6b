package sideload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layoutImage is one image, or one index with its images, picked by digest out of an
// OCI image layout directory. It reads the directory itself rather than through
// ggcr's layout package because the archives need the raw manifest bytes, the exact
// blob files and the set of distinct blobs, in a stable order.
type layoutImage struct {
	dir string
	// root describes the selected manifest or index (digest, media type, size and,
	// when index.json lists it, its platform).
	root v1.Descriptor
	// manifests holds the raw bytes of the root and every child manifest, root first.
	manifests []rawManifest
	// configs and layers are the distinct config and layer blobs, in manifest order.
	configs []v1.Descriptor
	layers  []v1.Descriptor
}

// rawManifest is a manifest or index blob with its descriptor.
type rawManifest struct {
	desc v1.Descriptor
	raw  []byte
}

// maxManifestSize bounds the manifests read into memory; registries use 4 MiB.
const maxManifestSize = 4 << 20

// readLayoutImage selects the manifest or index whose digest is dgst from the layout
// at dir. BuildKit's oci exporter with tar=false keeps adding images to the same
// directory, so the selection is by digest, never by position.
func readLayoutImage(dir string, dgst v1.Hash) (*layoutImage, error) {
	if dir == "" {
		return nil, errors.New("the image has no OCI layout directory (was it built into a Docker daemon? only the docker target loads those)")
	}
	idxRaw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(idxRaw))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, "index.json"), err)
	}
	li := &layoutImage{dir: dir}
	desc, ok := li.find(idx, dgst, 0)
	if !ok {
		// Not listed (a child of an index, or index.json rewritten meanwhile): the
		// blob itself says what it is.
		raw, err := li.readManifest(v1.Descriptor{Digest: dgst, Size: -1})
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s has no manifest %s: %w", dir, dgst, err)
		}
		desc = v1.Descriptor{Digest: dgst, Size: int64(len(raw)), MediaType: sniffMediaType(raw)}
	}
	li.root = desc
	if err := li.walk(desc, 0); err != nil {
		return nil, err
	}
	return li, nil
}

// find looks for dgst in idx and, depth-first, in the indexes it references.
func (li *layoutImage) find(idx *v1.IndexManifest, dgst v1.Hash, depth int) (v1.Descriptor, bool) {
	for _, d := range idx.Manifests {
		if d.Digest == dgst {
			return d, true
		}
	}
	if depth > 4 {
		return v1.Descriptor{}, false
	}
	for _, d := range idx.Manifests {
		if !d.MediaType.IsIndex() {
			continue
		}
		raw, err := li.readManifest(d)
		if err != nil {
			continue // a dangling entry does not hide the one we look for
		}
		child, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			continue
		}
		if found, ok := li.find(child, dgst, depth+1); ok {
			return found, true
		}
	}
	return v1.Descriptor{}, false
}

// walk records desc's manifest and everything it references.
func (li *layoutImage) walk(desc v1.Descriptor, depth int) error {
	if depth > 4 {
		return fmt.Errorf("OCI layout %s: indexes nested too deep at %s", li.dir, desc.Digest)
	}
	raw, err := li.readManifest(desc)
	if err != nil {
		return err
	}
	li.manifests = append(li.manifests, rawManifest{desc: desc, raw: raw})
	switch {
	case desc.MediaType.IsIndex():
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("parsing index %s: %w", desc.Digest, err)
		}
		for _, child := range idx.Manifests {
			if err := li.walk(child, depth+1); err != nil {
				return err
			}
		}
	case desc.MediaType.IsImage():
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("parsing manifest %s: %w", desc.Digest, err)
		}
		li.configs = appendUnique(li.configs, m.Config)
		for _, l := range m.Layers {
			li.layers = appendUnique(li.layers, l)
		}
	default:
		return fmt.Errorf("OCI layout %s: %s has media type %q, want an image manifest or index", li.dir, desc.Digest, desc.MediaType)
	}
	return nil
}

// readManifest reads a small blob and checks its digest (and size when known).
func (li *layoutImage) readManifest(desc v1.Descriptor) ([]byte, error) {
	f, err := os.Open(li.blobPath(desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", li.dir, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", desc.Digest, err)
	}
	if len(raw) > maxManifestSize {
		return nil, fmt.Errorf("manifest %s is larger than %d bytes", desc.Digest, maxManifestSize)
	}
	if desc.Size >= 0 && desc.Size != int64(len(raw)) {
		return nil, fmt.Errorf("manifest %s has %d bytes, its descriptor says %d", desc.Digest, len(raw), desc.Size)
	}
	if desc.Digest.Algorithm == "sha256" {
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != desc.Digest.Hex {
			return nil, fmt.Errorf("manifest %s is corrupt: its content hashes to sha256:%s", desc.Digest, got)
		}
	}
	return raw, nil
}

// blobPath is where the layout stores the blob with digest h.
func (li *layoutImage) blobPath(h v1.Hash) string {
	return filepath.Join(li.dir, "blobs", h.Algorithm, h.Hex)
}

// images returns the image manifests (not indexes) with their parsed form.
func (li *layoutImage) images() ([]v1.Descriptor, []*v1.Manifest, error) {
	var descs []v1.Descriptor
	var ms []*v1.Manifest
	for _, rm := range li.manifests {
		if !rm.desc.MediaType.IsImage() {
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(rm.raw))
		if err != nil {
			return nil, nil, err
		}
		descs = append(descs, rm.desc)
		ms = append(ms, m)
	}
	return descs, ms, nil
}

// pickImage returns the single image manifest to load into a daemon that runs one
// platform: the root itself, or the child of an index matching p (attestation
// manifests, platform unknown/unknown, never match).
func (li *layoutImage) pickImage(p v1.Platform) (v1.Descriptor, *v1.Manifest, error) {
	descs, ms, err := li.images()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	if li.root.MediaType.IsImage() {
		return descs[0], ms[0], nil
	}
	var candidates []int
	for i, d := range descs {
		if d.Platform != nil && d.Platform.OS == "unknown" {
			continue
		}
		candidates = append(candidates, i)
		if d.Platform != nil && d.Platform.OS == p.OS && d.Platform.Architecture == p.Architecture &&
			(p.Variant == "" || d.Platform.Variant == p.Variant) {
			return d, ms[i], nil
		}
	}
	if len(candidates) == 1 {
		return descs[candidates[0]], ms[candidates[0]], nil
	}
	return v1.Descriptor{}, nil, fmt.Errorf("index %s has no image for platform %s", li.root.Digest, p.String())
}

func appendUnique(ds []v1.Descriptor, d v1.Descriptor) []v1.Descriptor {
	for _, x := range ds {
		if x.Digest == d.Digest {
			return ds
		}
	}
	return append(ds, d)
}

// sniffMediaType reads the mediaType field of a manifest, falling back on its shape.
func sniffMediaType(raw []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.Manifests != nil:
		return types.OCIImageIndex
	default:
		return types.OCIManifestSchema1
	}
}
