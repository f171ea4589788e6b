package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/devloop/devloop/pkg/sideload"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// kindScenarios loads the image into the kind-style node with devloop's kind
// loader, kind load docker-image and docker save | ctr import: first the whole
// image into a node that has none of it, then the one-line change into a node
// that holds the previous build.
func (b *bencher) kindScenarios(ctx context.Context, rep *Report) error {
	env := b.cfg.Env
	if env.KindNode == "" || env.KindCluster == "" {
		return errors.New("the test bed exports no kind-style node (DEVLOOP_TESTBED_KIND_NODE, DEVLOOP_TESTBED_KIND_CLUSTER)")
	}
	f := b.fix
	// The peers take the image from dockerd, as kind load does.
	for _, which := range []string{"v1", "v2"} {
		a, err := b.dockerArchive(which)
		if err != nil {
			return err
		}
		if err := b.daemon.load(ctx, a.path); err != nil {
			return fmt.Errorf("docker load of the %s image: %w", which, err)
		}
	}
	save1, err := b.daemon.saveSize(ctx, f.v1.Ref.String())
	if err != nil {
		return err
	}
	save2, err := b.daemon.saveSize(ctx, f.v2.Ref.String())
	if err != nil {
		return err
	}
	rep.Setup = append(rep.Setup, fmt.Sprintf("docker save of the image: %s (uncompressed layers; what kind load streams to every node)", humanBytes(save2)))
	base, err := b.baseLayers(ctx)
	if err != nil {
		return err
	}
	private := without(union(f.v1Blobs, f.v2Blobs), base)

	shimDir := filepath.Join(b.tmp, "shim")
	if err := os.MkdirAll(shimDir, 0o755); err != nil {
		return err
	}
	realDocker, err := exec.LookPath("docker")
	if err != nil {
		return err
	}
	if _, err := writeDockerShim(shimDir, realDocker); err != nil {
		return err
	}
	loader, err := sideload.NewKind(sideload.KindOptions{Cluster: env.KindCluster})
	if err != nil {
		return err
	}

	if err := b.execFloor(ctx, rep); err != nil {
		return err
	}

	// The whole image, into a node that lacks it.
	if err := b.node.reset(ctx, nil, private); err != nil {
		return err
	}
	held, err := b.node.present(ctx, base)
	if err != nil {
		return err
	}
	rows := measure(ctx, b.log, "kind node, whole image", b.cfg.Runs, f.size,
		b.kindTools(loader, shimDir, f.v1, "first", nil, private, save1))
	if len(held) > 0 && rows[0].Note == "" {
		// Another image on the node shares the base: that is a real node, and the
		// benchmark never deletes blobs that are not its own.
		rows[0].Note = fmt.Sprintf("the node already held %d of the base image's %d layers (another image uses them): devloop skipped them, the peers sent them again",
			len(held), len(base))
	}
	rep.Rows = append(rep.Rows, rows...)

	// The one-line change, into a node that holds the previous build.
	if err := b.node.reset(ctx, nil, private); err != nil {
		return err
	}
	if _, err := loader.Load(ctx, f.v1); err != nil {
		return fmt.Errorf("loading the previous build: %w", err)
	}
	rows = measure(ctx, b.log, "kind node, one-line change", b.cfg.Runs, f.size,
		b.kindTools(loader, shimDir, f.v2, "change", map[v1.Hash]bool{f.v1.Digest: true}, f.changed, save2))
	rep.Rows = append(rep.Rows, rows...)
	return b.node.removeAll(ctx)
}

// kindTools are the three ways to put img into the node. Before each run the node
// keeps only the benchmark's images pointing at keep and loses the blobs gone, so
// every run moves what the scenario says; peers load a fresh tag each run.
func (b *bencher) kindTools(loader sideload.Sideloader, shimDir string, img sideload.Image, label string, keep map[v1.Hash]bool, gone []v1.Hash, saveBytes int64) []tool {
	env := b.cfg.Env
	reset := func(ctx context.Context, _ int) error { return b.node.reset(ctx, keep, gone) }
	peerTag := func(run int, who string) string {
		return fmt.Sprintf("%s/app:%s-%s-%d", b.prefix, label, who, run+1)
	}
	tagged := func(who string) func(context.Context, int) error {
		return func(ctx context.Context, run int) error {
			if err := reset(ctx, run); err != nil {
				return err
			}
			return b.daemon.tag(ctx, img.Ref.String(), peerTag(run, who))
		}
	}
	fallbacks := 0
	tools := []tool{{
		name:    "devloop (pkg/sideload kind)",
		prepare: reset,
		do: func(ctx context.Context, _ int) (int64, error) {
			res, err := loader.Load(ctx, img)
			if res.Fallback {
				fallbacks++
			}
			if err == nil && !res.Verified {
				err = errors.New("the loader did not verify the image")
			}
			return res.BytesSent, err
		},
		note: func() string {
			if fallbacks > 0 {
				return fmt.Sprintf("%d runs fell back to the full archive", fallbacks)
			}
			return ""
		},
	}}
	if b.cfg.Kind != "" {
		tools = append(tools, tool{
			name:    "kind load docker-image",
			prepare: tagged("kind"),
			do: func(ctx context.Context, run int) (int64, error) {
				_, err := runKind(ctx, b.cfg.Kind, shimDir, "load", "docker-image", "--name", env.KindCluster, peerTag(run, "kind"))
				return saveBytes, err
			},
			check: func(ctx context.Context, run int) error { return b.node.has(ctx, peerTag(run, "kind")) },
		})
	}
	tools = append(tools, tool{
		name:    "docker save | ctr import",
		prepare: tagged("ctr"),
		do: func(ctx context.Context, run int) (int64, error) {
			return pipe(ctx, []string{"docker", "save", peerTag(run, "ctr")},
				[]string{"docker", "exec", "-i", env.KindNode, "ctr", "-n", "k8s.io", "images", "import",
					"--all-platforms", "--digests", "--snapshotter=overlayfs", "-"})
		},
		check: func(ctx context.Context, run int) error { return b.node.has(ctx, peerTag(run, "ctr")) },
	})
	return tools
}

// runKind runs the kind binary with the docker shim first on its PATH.
func runKind(ctx context.Context, kind, shimDir string, args ...string) ([]byte, error) {
	return runCmd(ctx, nil, withEnv([]string{"PATH=" + shimDir + string(os.PathListSeparator) + os.Getenv("PATH")}, append([]string{kind}, args...)...)...)
}

// baseLayers returns the layers of the base image as the test bed's registry
// (BuildKit's docker.io mirror) serves it: blobs other images on the node may
// share, which the benchmark therefore never deletes.
func (b *bencher) baseLayers(ctx context.Context) ([]v1.Hash, error) {
	ref, err := name.ParseReference(b.cfg.Base)
	if err != nil {
		return nil, err
	}
	repo := ref.Context().RepositoryStr()
	mirrored, err := name.ParseReference(b.cfg.Env.Registry+"/"+repo+":"+ref.Identifier(), name.Insecure)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(mirrored, remote.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading the base image %s: %w", mirrored, err)
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var hs []v1.Hash
	for _, l := range ls {
		h, err := l.Digest()
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func union(a, b []v1.Hash) []v1.Hash {
	seen := map[v1.Hash]bool{}
	var out []v1.Hash
	for _, h := range append(append([]v1.Hash{}, a...), b...) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

func without(a, drop []v1.Hash) []v1.Hash {
	d := map[v1.Hash]bool{}
	for _, h := range drop {
		d[h] = true
	}
	var out []v1.Hash
	for _, h := range a {
		if !d[h] {
			out = append(out, h)
		}
	}
	return out
}

// execFloor measures one `docker exec NODE true`: every tool here pays it per
// command it runs on the node (devloop's loader runs four in sequence: list
// nodes, list blobs and image, import, verify), which bounds how fast a load of
// a few kilobytes can be.
func (b *bencher) execFloor(ctx context.Context, rep *Report) error {
	var ds []time.Duration
	for range 5 {
		start := time.Now()
		if _, err := runCmd(ctx, nil, "docker", "exec", b.cfg.Env.KindNode, "true"); err != nil {
			return err
		}
		ds = append(ds, time.Since(start))
	}
	rep.Facts = append(rep.Facts, Fact{Section: "kind-style node " + b.cfg.Env.KindNode, Name: "one docker exec round trip",
		Value: seconds(median(ds)) + " (docker exec NODE true, median of 5; every command on the node pays it)"})
	return nil
}
