package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// node is the kind-style node's containerd, reached with docker exec as kind does.
type node struct {
	container string
	// prefix is the repository prefix of every image the benchmark creates; images
	// with it, and the import-…@digest names pointing at the same digests, are the
	// benchmark's own and the only ones it removes.
	prefix string
}

// nodeImage is one line of ctr images ls.
type nodeImage struct {
	Name   string
	Digest v1.Hash
}

func (n node) ctr(ctx context.Context, args ...string) ([]byte, error) {
	return runCmd(ctx, nil, append([]string{"docker", "exec", n.container, "ctr", "-n", "k8s.io"}, args...)...)
}

// images lists the node's images.
func (n node) images(ctx context.Context) ([]nodeImage, error) {
	out, err := n.ctr(ctx, "images", "ls")
	if err != nil {
		return nil, err
	}
	return parseNodeImages(out), nil
}

// parseNodeImages reads ctr images ls output: REF TYPE DIGEST SIZE PLATFORMS LABELS.
func parseNodeImages(out []byte) []nodeImage {
	var imgs []nodeImage
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] == "REF" {
			continue
		}
		h, err := v1.NewHash(f[2])
		if err != nil {
			continue
		}
		imgs = append(imgs, nodeImage{Name: f[0], Digest: h})
	}
	return imgs
}

// ours returns the benchmark's images among imgs: those named with its prefix and
// every other name of the same digests (ctr import --digests adds one).
func (n node) ours(imgs []nodeImage) []nodeImage {
	digests := map[v1.Hash]bool{}
	for _, i := range imgs {
		if strings.HasPrefix(i.Name, n.prefix) {
			digests[i.Digest] = true
		}
	}
	var out []nodeImage
	for _, i := range imgs {
		if digests[i.Digest] {
			out = append(out, i)
		}
	}
	return out
}

// content returns the set of blobs the node's content store holds.
func (n node) content(ctx context.Context) (map[v1.Hash]bool, error) {
	out, err := n.ctr(ctx, "content", "ls", "-q")
	if err != nil {
		return nil, err
	}
	have := map[v1.Hash]bool{}
	for _, f := range strings.Fields(string(out)) {
		if h, err := v1.NewHash(f); err == nil {
			have[h] = true
		}
	}
	return have, nil
}

// reset puts the node back into a run's start state: it removes the benchmark's
// images except those pointing at keep (synchronously, so containerd's GC drops
// the content and snapshots nothing else uses), then deletes whichever of gone is
// still there, and fails if any of them survives. gone must list only blobs no
// other image can share (never a base image's layers).
func (n node) reset(ctx context.Context, keep map[v1.Hash]bool, gone []v1.Hash) error {
	imgs, err := n.images(ctx)
	if err != nil {
		return err
	}
	var rm []string
	for _, i := range n.ours(imgs) {
		if !keep[i.Digest] {
			rm = append(rm, i.Name)
		}
	}
	if len(rm) > 0 {
		if _, err := n.ctr(ctx, append([]string{"images", "rm", "--sync"}, rm...)...); err != nil {
			return fmt.Errorf("removing images: %w", err)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	left, err := n.present(ctx, gone)
	if err != nil || len(left) == 0 {
		return err
	}
	args := []string{"content", "rm"}
	for _, h := range left {
		args = append(args, h.String())
	}
	if _, err := n.ctr(ctx, args...); err != nil {
		return fmt.Errorf("removing blobs: %w", err)
	}
	if left, err = n.present(ctx, gone); err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("the node still holds %d of the blobs the run must move (%s)", len(left), left[0])
	}
	return nil
}

// present returns which of hs the node holds.
func (n node) present(ctx context.Context, hs []v1.Hash) ([]v1.Hash, error) {
	have, err := n.content(ctx)
	if err != nil {
		return nil, err
	}
	var out []v1.Hash
	for _, h := range hs {
		if have[h] {
			out = append(out, h)
		}
	}
	return out, nil
}

// has checks that the node lists name.
func (n node) has(ctx context.Context, name string) error {
	out, err := n.ctr(ctx, "images", "ls", "-q", "name=="+name)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(out)) != name {
		return fmt.Errorf("node %s does not list %s", n.container, name)
	}
	return nil
}

// removeAll removes every image of the benchmark from the node.
func (n node) removeAll(ctx context.Context) error {
	return n.reset(ctx, nil, nil)
}
