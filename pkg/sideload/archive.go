package sideload

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations containerd's importer reads from index.json to name an image.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// transfer counts what one archive or push moved.
type transfer struct {
	bytes         int64
	sent, skipped int
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// archiveWriter writes tar entries with fixed metadata, so equal input gives equal
// bytes, and counts what it writes.
type archiveWriter struct {
	cw *countingWriter
	bw *bufio.Writer
	tw *tar.Writer
	tr transfer
}

func newArchiveWriter(w io.Writer) *archiveWriter {
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	return &archiveWriter{cw: cw, bw: bw, tw: tar.NewWriter(bw)}
}

func (a *archiveWriter) header(name string, size int64) error {
	return a.tw.WriteHeader(&tar.Header{
		Name:     name,
		Mode:     0o644,
		Size:     size,
		Typeflag: tar.TypeReg,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatPAX,
	})
}

func (a *archiveWriter) bytes(name string, b []byte) error {
	if err := a.header(name, int64(len(b))); err != nil {
		return err
	}
	_, err := a.tw.Write(b)
	return err
}

// file copies a blob of the layout into the archive, refusing one whose size differs
// from its descriptor (a half-written layout).
func (a *archiveWriter) file(name string, li *layoutImage, d v1.Descriptor) error {
	f, err := os.Open(li.blobPath(d.Digest))
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", li.dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != d.Size {
		return fmt.Errorf("OCI layout %s: blob %s has %d bytes, its descriptor says %d", li.dir, d.Digest, st.Size(), d.Size)
	}
	if err := a.header(name, d.Size); err != nil {
		return err
	}
	if _, err := io.CopyN(a.tw, f, d.Size); err != nil {
		return fmt.Errorf("copying blob %s: %w", d.Digest, err)
	}
	a.tr.sent++
	return nil
}

func (a *archiveWriter) close() (transfer, error) {
	if err := a.tw.Close(); err != nil {
		return a.tr, err
	}
	err := a.bw.Flush()
	a.tr.bytes = a.cw.n
	return a.tr, err
}

func blobName(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// containerdName is the name containerd and the kubelet use for ref: fully qualified,
// with Docker Hub spelled docker.io (ggcr says index.docker.io).
func containerdName(ref name.Tag) string {
	reg := ref.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + ref.Context().RepositoryStr() + ":" + ref.TagStr()
}

// writeOCIArchive streams an OCI image layout archive of li to w, naming the image
// ref in index.json. Manifests and configs always go in (they are small and the
// importer reads them); a layer goes in only when has says the target lacks it.
// containerd's importer writes whatever blobs the archive carries and resolves the
// rest against its content store, so the partial archive imports like a full one.
// A nil has writes the full archive.
func writeOCIArchive(w io.Writer, li *layoutImage, ref name.Tag, has func(v1.Hash) bool) (transfer, error) {
	a := newArchiveWriter(w)
	root := li.root
	root.Annotations = map[string]string{
		annotationContainerdName: containerdName(ref),
		annotationRefName:        ref.TagStr(),
	}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests:     []v1.Descriptor{root},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return transfer{}, err
	}
	if err := a.bytes("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return transfer{}, err
	}
	if err := a.bytes("index.json", indexJSON); err != nil {
		return transfer{}, err
	}
	for _, m := range li.manifests {
		if err := a.bytes(blobName(m.desc.Digest), m.raw); err != nil {
			return transfer{}, err
		}
		a.tr.sent++
	}
	for _, c := range li.configs {
		if err := a.file(blobName(c.Digest), li, c); err != nil {
			return transfer{}, err
		}
	}
	for _, l := range li.layers {
		if has != nil && has(l.Digest) {
			a.tr.skipped++
			continue
		}
		if err := a.file(blobName(l.Digest), li, l); err != nil {
			return transfer{}, err
		}
	}
	return a.close()
}

// dockerManifestEntry is one entry of a docker-archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// writeDockerArchive streams a docker-archive (what `docker save` writes and
// `POST /images/load` reads) of the image m to w, tagged repoTag. The first skip
// layers are listed in manifest.json but their files are left out: dockerd looks a
// layer up by its chain ID before it opens the file, so a prefix it already has
// never needs to travel. Layers stay compressed as in the layout; dockerd
// decompresses what it loads, as it does for ggcr's tarball.Write archives.
func writeDockerArchive(w io.Writer, li *layoutImage, m *v1.Manifest, repoTag string, skip int) (transfer, error) {
	if skip < 0 || skip > len(m.Layers) {
		return transfer{}, fmt.Errorf("cannot skip %d of %d layers", skip, len(m.Layers))
	}
	entry := dockerManifestEntry{Config: blobName(m.Config.Digest), RepoTags: []string{repoTag}}
	needed := map[v1.Hash]bool{}
	for i, l := range m.Layers {
		entry.Layers = append(entry.Layers, blobName(l.Digest))
		if i >= skip {
			needed[l.Digest] = true
		}
	}
	mj, err := json.Marshal([]dockerManifestEntry{entry})
	if err != nil {
		return transfer{}, err
	}
	a := newArchiveWriter(w)
	if err := a.bytes("manifest.json", mj); err != nil {
		return transfer{}, err
	}
	if err := a.file(blobName(m.Config.Digest), li, m.Config); err != nil {
		return transfer{}, err
	}
	written := map[v1.Hash]bool{}
	for _, l := range m.Layers {
		if written[l.Digest] {
			continue
		}
		written[l.Digest] = true
		if !needed[l.Digest] {
			a.tr.skipped++
			continue
		}
		if err := a.file(blobName(l.Digest), li, l); err != nil {
			return transfer{}, err
		}
	}
	return a.close()
}
