package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/content"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/devloop/devloop/pkg/sideload"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/ociindex"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/tonistiigi/fsutil"
	"google.golang.org/grpc/codes"
)

// solve runs one spec through BuildKit and names the result. The tracker is
// returned even on failure, for the step counts.
func (b *Builder) solve(ctx context.Context, s Spec, key string, deps []depImage, disp *display) (sideload.Image, *tracker, error) {
	fail := func(err error) (sideload.Image, *tracker, error) {
		return sideload.Image{}, nil, fmt.Errorf("building %s: %w", s.Name, err)
	}
	dfPath, err := s.dockerfilePath()
	if err != nil {
		return fail(err)
	}
	opt, layoutDir, cleanup, err := b.solveOpt(s, key, dfPath, deps)
	if err != nil {
		return fail(err)
	}
	defer cleanup()

	tr := newTracker(s.Name)
	ch := make(chan *client.SolveStatus)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		// Solve blocks on ch: drain it to the end even when ctx is canceled.
		for ss := range ch {
			evs := tr.update(ss)
			if b.opts.Progress == ProgressEvents {
				for _, e := range evs {
					b.opts.Events.Send(ctx, e)
				}
			}
			disp.send(s.Name, ss)
		}
	}()
	resp, err := b.c.Solve(ctx, nil, opt, ch)
	<-consumed
	if err != nil {
		if ctx.Err() != nil {
			return sideload.Image{}, tr, fmt.Errorf("building %s: %w", s.Name, context.Cause(ctx))
		}
		if grpcerrors.Code(err) == codes.Unavailable {
			// The daemon went away mid-build: say which and how to get it back,
			// not "error reading from server: EOF".
			return sideload.Image{}, tr, fmt.Errorf("building %s: lost the connection to %s: %w; %s", s.Name, b.ep, err, startHint(b.ep))
		}
		data, _ := os.ReadFile(dfPath) // only to locate errors older daemons do not locate
		return sideload.Image{}, tr, newBuildError(s.Name, dfPath, data, err, tr)
	}
	img, err := b.name(ctx, s, layoutDir, resp.ExporterResponse)
	if err != nil {
		return sideload.Image{}, tr, fmt.Errorf("building %s: %w", s.Name, err)
	}
	return img, tr, nil
}

// solveOpt prepares the solve request: local mounts, frontend options, secrets,
// the stores of base artifacts' layouts and the exporter. cleanup removes what it
// created for the request.
func (b *Builder) solveOpt(s Spec, key, dfPath string, deps []depImage) (_ client.SolveOpt, layoutDir string, cleanup func(), err error) {
	cleanup = func() {}
	dfDir, err := b.dockerfileDir(s, dfPath, deps)
	if err != nil {
		return client.SolveOpt{}, "", cleanup, fmt.Errorf("dockerfile: %w", err)
	}
	if dfDir != filepath.Dir(dfPath) {
		cleanup = func() { os.RemoveAll(dfDir) }
	}
	opt, layoutDir, err := b.solveOptIn(s, key, dfPath, dfDir, deps)
	if err != nil {
		cleanup()
		return client.SolveOpt{}, "", func() {}, err
	}
	return opt, layoutDir, cleanup, nil
}

// dockerfileDir returns the directory to mount as the frontend's Dockerfile
// input: the Dockerfile's own, or a temporary one with FROM lines rewritten to
// base artifacts built into the Docker daemon (see rewriteFrom).
func (b *Builder) dockerfileDir(s Spec, dfPath string, deps []depImage) (string, error) {
	refs := daemonRefs(deps)
	if len(refs) == 0 {
		return filepath.Dir(dfPath), nil
	}
	data, err := os.ReadFile(dfPath)
	if err != nil {
		return "", err
	}
	data, changed := rewriteFrom(data, s.BuildArgs, refs)
	if !changed {
		return filepath.Dir(dfPath), nil
	}
	return rewrittenDockerfileDir(dfPath, data)
}

func (b *Builder) solveOptIn(s Spec, key, dfPath, dfDir string, deps []depImage) (client.SolveOpt, string, error) {
	ctxDir, err := filepath.Abs(s.Context)
	if err != nil {
		return client.SolveOpt{}, "", err
	}
	ctxFS, err := fsutil.NewFS(ctxDir)
	if err != nil {
		return client.SolveOpt{}, "", fmt.Errorf("build context: %w", err)
	}
	if len(s.Ignore) > 0 {
		if ctxFS, err = fsutil.NewFilterFS(ctxFS, &fsutil.FilterOpt{ExcludePatterns: s.Ignore}); err != nil {
			return client.SolveOpt{}, "", fmt.Errorf("build context: %w", err)
		}
	}
	dfFS, err := fsutil.NewFS(dfDir)
	if err != nil {
		return client.SolveOpt{}, "", fmt.Errorf("dockerfile: %w", err)
	}
	if _, err := os.Stat(dfPath); err != nil {
		return client.SolveOpt{}, "", fmt.Errorf("dockerfile: %w", err)
	}
	secrets, err := secretValues(s.Secrets, b.opts.LookupEnv)
	if err != nil {
		return client.SolveOpt{}, "", err
	}
	var attach []session.Attachable
	if secrets != nil {
		attach = append(attach, secretsprovider.FromMap(secrets))
	}
	stores := map[string]content.Store{}
	for _, d := range deps {
		if d.img.LayoutDir == "" || d.img.InDaemon {
			continue
		}
		st, err := b.store(d.img.LayoutDir)
		if err != nil {
			return client.SolveOpt{}, "", fmt.Errorf("opening layout of %s: %w", d.artifact, err)
		}
		stores[d.artifact] = st
	}
	var (
		layoutDir string
		store     content.Store
	)
	if b.output == OutputLayout {
		layoutDir = filepath.Join(b.opts.CacheDir, layoutSubdir(key))
		if err := os.MkdirAll(layoutDir, 0o755); err != nil {
			return client.SolveOpt{}, "", fmt.Errorf("creating layout directory: %w", err)
		}
		if store, err = b.store(layoutDir); err != nil {
			return client.SolveOpt{}, "", fmt.Errorf("opening layout %s: %w", layoutDir, err)
		}
	}
	repo := b.repository(s)
	return client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: frontendAttrs(s, filepath.Base(dfPath), deps, b.ep.docker),
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS},
		Session:       attach,
		OCIStores:     stores,
		Exports:       exports(b.output, repo, b.insecure(repo), store),
	}, layoutDir, nil
}

// repository is where s's image goes: prefixed with Options.Registry when
// pushing.
func (b *Builder) repository(s Spec) string {
	if b.output == OutputRegistry && b.opts.Registry != "" {
		return b.opts.Registry + "/" + s.Name
	}
	return s.Name
}

func (b *Builder) insecure(repo string) bool {
	return b.opts.InsecureRegistry || isLocalRegistry(repo)
}

// name gives the exported image its content-addressed tag where it landed.
func (b *Builder) name(ctx context.Context, s Spec, layoutDir string, resp map[string]string) (sideload.Image, error) {
	dgst, desc, err := exportedImage(resp)
	if err != nil {
		return sideload.Image{}, err
	}
	repo := b.repository(s)
	ref, err := refFor(repo, dgst, b.insecure(repo))
	if err != nil {
		return sideload.Image{}, err
	}
	img := sideload.Image{Ref: ref, Digest: dgst}
	switch b.output {
	case OutputLayout:
		if desc == nil {
			return sideload.Image{}, fmt.Errorf("oci exporter reported no descriptor")
		}
		full, err := containerdName(ref.String())
		if err != nil {
			return sideload.Image{}, err
		}
		if err := ociindex.NewStoreIndex(layoutDir).Put(*desc, ociindex.Name(full)); err != nil {
			return sideload.Image{}, fmt.Errorf("naming %s in %s: %w", full, layoutDir, err)
		}
		// A failed prune leaves old blobs behind; the new image is complete.
		_ = pruneLayout(layoutDir, keepImages)
		img.LayoutDir = layoutDir
	case OutputDaemon:
		familiar, err := artifactKey(repo)
		if err != nil {
			return sideload.Image{}, err
		}
		if err := b.eng.tag(ctx, dgst.String(), familiar, ref.TagStr()); err != nil {
			return sideload.Image{}, err
		}
		img.InDaemon = true
	case OutputRegistry:
		opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
		byDigest := ref.Context().Digest(dgst.String())
		d, err := remote.Get(byDigest, opts...)
		if err != nil {
			return sideload.Image{}, fmt.Errorf("reading pushed manifest %s: %w", byDigest, err)
		}
		if err := remote.Tag(ref, d, opts...); err != nil {
			return sideload.Image{}, fmt.Errorf("tagging %s: %w", ref, err)
		}
	}
	return img, nil
}

// store returns the content store of a layout directory, opened once per Builder:
// opening probes the filesystem (and containerd logs a warning through logrus
// when fsverity is unsupported, as on overlayfs and tmpfs).
func (b *Builder) store(dir string) (content.Store, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.stores[dir]; ok {
		return st, nil
	}
	st, err := contentlocal.NewStore(dir)
	if err != nil {
		return nil, err
	}
	b.stores[dir] = st
	return st, nil
}
