package build

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// keepImages is how many images an artifact's OCI layout keeps: the newest, and
// two before it for a sideload or rollback still reading them.
const keepImages = 3

// pruneLayout drops all but the newest keep images from the layout's index.json
// (BuildKit's client appends, so the newest come last) and deletes the blobs no
// kept image references. Without it every rebuild during a dev session would
// leave its layers behind.
func pruneLayout(dir string, keep int) error {
	indexPath := filepath.Join(dir, ocispecs.ImageIndexFile)
	raw, err := os.ReadFile(indexPath)
	if err != nil {
		return err
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return fmt.Errorf("parsing %s: %w", indexPath, err)
	}
	if len(idx.Manifests) <= keep {
		return nil
	}
	idx.Manifests = idx.Manifests[len(idx.Manifests)-keep:]
	live := map[string]bool{}
	for _, d := range idx.Manifests {
		if err := markBlobs(dir, d, live, 0); err != nil {
			return err
		}
	}
	out, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	tmp := indexPath + ".devloop-tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, indexPath); err != nil {
		os.Remove(tmp)
		return err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	entries, err := os.ReadDir(blobs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !live["sha256:"+e.Name()] {
			if err := os.Remove(filepath.Join(blobs, e.Name())); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	return nil
}

// markBlobs marks d and, for manifests and indexes, everything they reference.
func markBlobs(dir string, d ocispecs.Descriptor, live map[string]bool, depth int) error {
	if live[d.Digest.String()] {
		return nil
	}
	live[d.Digest.String()] = true
	if depth > 8 || !isManifestType(d.MediaType) {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
	if err != nil {
		return fmt.Errorf("reading %s: %w", d.Digest, err)
	}
	var m struct {
		Config    *ocispecs.Descriptor  `json:"config"`
		Layers    []ocispecs.Descriptor `json:"layers"`
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("parsing %s: %w", d.Digest, err)
	}
	children := append(append([]ocispecs.Descriptor(nil), m.Layers...), m.Manifests...)
	if m.Config != nil {
		children = append(children, *m.Config)
	}
	for _, c := range children {
		if err := markBlobs(dir, c, live, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func isManifestType(mt string) bool {
	switch mt {
	case ocispecs.MediaTypeImageManifest, ocispecs.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json":
		return true
	}
	return false
}
