package sideload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// DefaultNamespace is the containerd namespace the kubelet's CRI plugin uses.
const DefaultNamespace = "k8s.io"

// DefaultSnapshotter is used when the containerd config names none.
const DefaultSnapshotter = "overlayfs"

// ctrNode imports images into one containerd through its CLI, ctr. kind and local
// containerd share it and differ only in the command prefix (docker exec -i NODE)
// and the ctr global flags (--address SOCK).
type ctrNode struct {
	run Runner
	// prefix runs a command on the node: "docker exec -i NODE", or nothing.
	prefix []string
	// ctr is ctr with its global flags, e.g. {"ctr", "--address", sock}.
	ctr       []string
	namespace string
	// snapshotter is fixed, or empty to read it from `containerd config dump`.
	snapshotter string
	// dumpConfig runs containerd config dump (with --config when needed).
	dumpConfig []string
	// hint is appended to failures that mean the node is not there.
	hint string
	// resolvedSnapshotter is the snapshotter load used, for the caller to cache.
	resolvedSnapshotter string
}

// nodeResult is what one node's load did.
type nodeResult struct {
	tr       transfer
	fallback bool
}

// cmd builds the command line that runs ctr -n NS args… on the node.
func (n *ctrNode) cmd(args ...string) []string {
	c := append(append(append([]string{}, n.prefix...), n.ctr...), "-n", n.namespace)
	return append(c, args...)
}

// load puts li on the node under ref and checks that the node then holds it.
func (n *ctrNode) load(ctx context.Context, li *layoutImage, ref name.Tag) (nodeResult, error) {
	full := containerdName(ref)
	var (
		have        map[v1.Hash]bool
		existing    v1.Hash
		snapshotter = n.snapshotter
	)
	// Three independent questions: ask them at once, each is a process start.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { existing, err = n.imageDigest(gctx, full); return err })
	g.Go(func() (err error) { have, err = n.content(gctx); return err })
	if snapshotter == "" {
		g.Go(func() (err error) { snapshotter, err = n.readSnapshotter(gctx); return err })
	}
	if err := g.Wait(); err != nil {
		return nodeResult{}, err
	}
	n.resolvedSnapshotter = snapshotter
	var res nodeResult
	if existing == li.root.Digest {
		// Content-addressed tags: the same build was loaded before.
		res.tr.skipped = len(li.manifests) + len(li.configs) + len(li.layers)
		return res, nil
	}
	tr, err := n.importArchive(ctx, li, ref, snapshotter, func(h v1.Hash) bool { return have[h] })
	res.tr = tr
	if err != nil && ctx.Err() == nil {
		// The node may have lost blobs since it listed them (GC) or the importer may
		// dislike the partial archive: the full archive always works.
		res.fallback = true
		fullTr, fullErr := n.importArchive(ctx, li, ref, snapshotter, nil)
		res.tr = transfer{bytes: tr.bytes + fullTr.bytes, sent: fullTr.sent, skipped: fullTr.skipped}
		if fullErr != nil {
			fullErr = fmt.Errorf("%w (the partial archive failed first: %v)", fullErr, err)
			if nodeGone(fullErr) {
				// Stopped or removed mid-import (docker stop, a crash).
				fullErr = n.unreachable(fullErr)
			}
		}
		err = fullErr
	}
	if err == nil {
		err = n.verify(ctx, full, li.root.Digest)
	}
	if err != nil {
		if existing.Hex == "" {
			n.untag(ctx, full)
		}
		return res, err
	}
	return res, nil
}

// importArchive streams an OCI archive of li into ctr images import.
func (n *ctrNode) importArchive(ctx context.Context, li *layoutImage, ref name.Tag, snapshotter string, has func(v1.Hash) bool) (transfer, error) {
	args := n.cmd("images", "import", "--all-platforms", "--digests", "--snapshotter="+snapshotter, "-")
	tr, err := stream(
		func(w io.Writer) (transfer, error) { return writeOCIArchive(w, li, ref, has) },
		func(r io.Reader) error { return n.run.Run(ctx, r, nil, nil, args...) },
	)
	if err != nil {
		return tr, fmt.Errorf("importing %s: %w", ref, err)
	}
	return tr, nil
}

// imageDigest returns the digest the node's image name points at, or a zero Hash.
func (n *ctrNode) imageDigest(ctx context.Context, full string) (v1.Hash, error) {
	out, err := output(ctx, n.run, n.cmd("images", "ls", "name=="+full)...)
	if err != nil {
		return v1.Hash{}, n.unreachable(err)
	}
	return parseImagesList(out, full)
}

// content lists the blobs the node's content store holds.
func (n *ctrNode) content(ctx context.Context) (map[v1.Hash]bool, error) {
	out, err := output(ctx, n.run, n.cmd("content", "ls", "-q")...)
	if err != nil {
		return nil, n.unreachable(err)
	}
	have := map[v1.Hash]bool{}
	for _, f := range strings.Fields(string(out)) {
		if h, err := v1.NewHash(f); err == nil {
			have[h] = true
		}
	}
	return have, nil
}

// readSnapshotter asks containerd which snapshotter the CRI plugin uses, as kind
// does, so imported images unpack where the kubelet looks for them.
func (n *ctrNode) readSnapshotter(ctx context.Context) (string, error) {
	out, err := output(ctx, n.run, append(append([]string{}, n.prefix...), n.dumpConfig...)...)
	if err != nil {
		return "", fmt.Errorf("reading the containerd config: %w", err)
	}
	return parseSnapshotter(out), nil
}

// verify checks that the node's image name now points at want.
func (n *ctrNode) verify(ctx context.Context, full string, want v1.Hash) error {
	got, err := n.imageDigest(ctx, full)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", full, err)
	}
	if got != want {
		if got.Hex == "" {
			return fmt.Errorf("verifying %s: the import succeeded but the image is not listed", full)
		}
		return fmt.Errorf("verifying %s: it points at %s, want %s", full, got, want)
	}
	return nil
}

// untag removes an image name this load created, so a failed load leaves nothing
// half-tagged. It runs even when ctx is done.
func (n *ctrNode) untag(ctx context.Context, full string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = n.run.Run(ctx, nil, nil, nil, n.cmd("images", "rm", full)...)
}

// unreachable adds the node's hint to a failure to talk to it.
func (n *ctrNode) unreachable(err error) error {
	if n.hint == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, n.hint)
}

// nodeGone reports whether err says the node's container is not running or gone:
// Docker's own words, or the exit codes docker exec gives when the container
// stops under it (137: killed with it; 126: it could not start in a stopping one).
func nodeGone(err error) bool {
	msg := err.Error()
	for _, s := range []string{"is not running", "No such container", "exit status 126", "exit status 137"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// parseImagesList finds ref in `ctr images ls` output (REF TYPE DIGEST SIZE …) and
// returns its digest; a zero Hash when it is not listed.
func parseImagesList(out []byte, ref string) (v1.Hash, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != ref {
			continue
		}
		h, err := v1.NewHash(f[2])
		if err != nil {
			return v1.Hash{}, fmt.Errorf("parsing ctr images ls line %q: %w", sc.Text(), err)
		}
		return h, nil
	}
	return v1.Hash{}, sc.Err()
}

// parseSnapshotter reads the CRI plugin's snapshotter from `containerd config dump`
// (TOML): plugins."io.containerd.grpc.v1.cri".containerd.snapshotter in config
// version 2 (containerd 1.x), plugins."io.containerd.cri.v1.images".snapshotter in
// version 3 (containerd 2.x). The two keys are all it needs, so it scans lines
// instead of pulling in a TOML parser.
func parseSnapshotter(dump []byte) string {
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			table = strings.NewReplacer(`"`, "", "'", "", " ", "").Replace(strings.Trim(line, "[]"))
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "snapshotter" {
			continue
		}
		if table != "plugins.io.containerd.grpc.v1.cri.containerd" && table != "plugins.io.containerd.cri.v1.images" {
			continue
		}
		val, _, _ = strings.Cut(strings.TrimSpace(val), "#")
		if v := strings.Trim(strings.TrimSpace(val), `"'`); v != "" {
			return v
		}
	}
	return DefaultSnapshotter
}
