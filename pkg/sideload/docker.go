package sideload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxLayerProbes bounds how many images the docker loader inspects to find layers
// the daemon already has.
const maxLayerProbes = 50

// DockerOptions configures the docker target: the Docker daemon the cluster's nodes
// run images from (minikube's, Docker Desktop's).
type DockerOptions struct {
	// Env says how to reach the daemon; zero: DefaultDockerHost.
	Env DockerEnv
	// ResolveEnv, when set, replaces Env at load time (minikube docker-env).
	ResolveEnv func(context.Context) (DockerEnv, error)
	// Platform picks the image out of a multi-platform index; default: the
	// daemon's own OS and architecture.
	Platform *v1.Platform
	// Describe names the daemon in messages, e.g. "minikube"; default its host.
	Describe string
}

// dockerLoader loads through the Engine API: nothing when the build already put
// the image in the daemon, else a docker-archive without the layers it has.
type dockerLoader struct {
	opts DockerOptions
}

var _ Target = (*dockerLoader)(nil)

// NewDocker returns the Sideloader for a Docker daemon.
func NewDocker(opts DockerOptions) (Target, error) {
	if opts.Env.Host == "" {
		opts.Env.Host = DefaultDockerHost
	}
	return &dockerLoader{opts: opts}, nil
}

// String names the target for messages.
func (d *dockerLoader) String() string {
	if d.opts.Describe != "" {
		return "docker (" + d.opts.Describe + ")"
	}
	return "docker at " + d.opts.Env.Host
}

// Type implements Target.
func (d *dockerLoader) Type() string { return TargetDocker }

// Load implements Sideloader.
func (d *dockerLoader) Load(ctx context.Context, img Image) (Result, error) {
	env := d.opts.Env
	if d.opts.ResolveEnv != nil {
		var err error
		if env, err = d.opts.ResolveEnv(ctx); err != nil {
			return Result{}, err
		}
	}
	eng, err := newEngine(env)
	if err != nil {
		return Result{}, err
	}
	defer eng.Close()
	full := containerdName(img.Ref)
	res := Result{Ref: img.Ref}
	if img.InDaemon {
		ii, err := eng.inspect(ctx, full)
		switch {
		case err != nil:
			return res, fmt.Errorf("verifying %s: %w", img.Ref, err)
		case ii == nil:
			return res, fmt.Errorf("verifying %s: the Docker daemon at %s does not have it, although the build put it there (was it built by another daemon?)", img.Ref, eng.host)
		}
		res.Verified = true
		return res, nil
	}
	if err := d.load(ctx, eng, img, full, &res); err != nil {
		return res, fmt.Errorf("loading %s into the Docker daemon at %s: %w", img.Ref, eng.host, err)
	}
	return res, nil
}

func (d *dockerLoader) load(ctx context.Context, eng *engine, img Image, full string, res *Result) error {
	li, err := readLayoutImage(img.LayoutDir, img.Digest)
	if err != nil {
		return err
	}
	platform, err := d.platform(ctx, eng, li)
	if err != nil {
		return err
	}
	desc, m, err := li.pickImage(platform)
	if err != nil {
		return err
	}
	cfg, err := readConfig(li, m.Config)
	if err != nil {
		return err
	}
	diffIDs := make([]string, len(cfg.RootFS.DiffIDs))
	for i, h := range cfg.RootFS.DiffIDs {
		diffIDs[i] = h.String()
	}
	if len(diffIDs) != len(m.Layers) {
		return fmt.Errorf("image %s has %d layers but its config lists %d diff IDs", desc.Digest, len(m.Layers), len(diffIDs))
	}
	want := []string{m.Config.Digest.String(), desc.Digest.String()}
	before, err := eng.inspect(ctx, full)
	if err != nil {
		return err
	}
	if before != nil && slices.Contains(want, before.ID) {
		res.BlobsSkipped = 1 + len(m.Layers)
		res.Verified = true
		return nil
	}
	have := d.presentLayers(ctx, eng, img.Ref.Context(), diffIDs)
	tr, err := stream(
		func(w io.Writer) (transfer, error) { return writeDockerArchive(w, li, m, full, have) },
		func(r io.Reader) error { return eng.load(ctx, r) },
	)
	res.BytesSent, res.BlobsSent, res.BlobsSkipped = tr.bytes, tr.sent, tr.skipped
	if err != nil && have > 0 && ctx.Err() == nil {
		// The daemon may have dropped a layer since it was inspected, or may not
		// take partial archives at all (the containerd image store): send it all.
		res.Fallback = true
		var fullTr transfer
		fullTr, err = stream(
			func(w io.Writer) (transfer, error) { return writeDockerArchive(w, li, m, full, 0) },
			func(r io.Reader) error { return eng.load(ctx, r) },
		)
		res.BytesSent += fullTr.bytes
		res.BlobsSent, res.BlobsSkipped = fullTr.sent, fullTr.skipped
	}
	if err == nil {
		err = verifyDocker(ctx, eng, full, want, diffIDs)
	}
	if err != nil {
		if before == nil {
			// Leave nothing half-tagged behind.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = eng.untag(cctx, full)
			cancel()
		}
		return err
	}
	res.Verified = true
	return nil
}

// platform is the platform to pick from an index: the option, else the daemon's.
func (d *dockerLoader) platform(ctx context.Context, eng *engine, li *layoutImage) (v1.Platform, error) {
	if d.opts.Platform != nil {
		return *d.opts.Platform, nil
	}
	if !li.root.MediaType.IsIndex() {
		return v1.Platform{}, nil
	}
	osName, arch, err := eng.version(ctx)
	if err != nil {
		return v1.Platform{}, err
	}
	return v1.Platform{OS: osName, Architecture: arch}, nil
}

// presentLayers returns how many leading layers (by diff ID) the daemon already
// has, looking first at images of the same repository (earlier builds), then at
// the others (base images). Errors only cost bytes: the answer is then 0.
func (d *dockerLoader) presentLayers(ctx context.Context, eng *engine, repo name.Repository, diffIDs []string) int {
	best, probes := 0, 0
	seen := map[string]bool{}
	for _, filter := range []string{repoFilter(repo), ""} {
		ids, err := eng.list(ctx, filter)
		if err != nil {
			return best
		}
		for _, id := range ids {
			if seen[id] || probes >= maxLayerProbes {
				continue
			}
			seen[id] = true
			probes++
			ii, err := eng.inspect(ctx, id)
			if err != nil || ii == nil {
				continue
			}
			best = max(best, commonPrefix(ii.RootFS.Layers, diffIDs))
			if best == len(diffIDs) {
				return best
			}
		}
	}
	return best
}

// repoFilter is the reference filter matching every tag of repo, in the familiar
// form the daemon matches against (app, not docker.io/library/app).
func repoFilter(repo name.Repository) string {
	r := repo.RepositoryStr()
	if repo.RegistryStr() != name.DefaultRegistry {
		return repo.RegistryStr() + "/" + r
	}
	return strings.TrimPrefix(r, "library/")
}

// verifyDocker checks that the daemon's ref is the image just loaded: its ID is the
// config digest (classic store) or the manifest digest (containerd store); a
// containerd store that rewrote the manifest is recognised by its layers.
func verifyDocker(ctx context.Context, eng *engine, ref string, want, diffIDs []string) error {
	ii, err := eng.inspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("verifying: %w", err)
	}
	if ii == nil {
		return errors.New("verifying: the load succeeded but the daemon has no such image")
	}
	if slices.Contains(want, ii.ID) || (len(ii.RootFS.Layers) > 0 && commonPrefix(ii.RootFS.Layers, diffIDs) == len(diffIDs) && len(ii.RootFS.Layers) == len(diffIDs)) {
		return nil
	}
	return fmt.Errorf("verifying: the daemon's image is %s, want %s", ii.ID, want[0])
}

func readConfig(li *layoutImage, d v1.Descriptor) (*v1.ConfigFile, error) {
	b, err := os.ReadFile(li.blobPath(d.Digest))
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parsing image config %s: %w", d.Digest, err)
	}
	return cfg, nil
}

func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
