package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/devloop/devloop/pkg/sideload"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryScenario pushes the one-line change with devloop's registry loader to
// a repository that holds the previous build, and the same image to a fresh
// repository (a first push, or a tool that pushes everything every time).
func (b *bencher) registryScenario(ctx context.Context, rep *Report) error {
	reg := b.cfg.Env.Registry
	if reg == "" {
		return errors.New("the test bed exports no registry (DEVLOOP_TESTBED_REGISTRY)")
	}
	loader, err := sideload.NewRegistry(sideload.RegistryOptions{Registry: reg, Insecure: true})
	if err != nil {
		return err
	}
	f := b.fix
	// in renames img into repository repo (under the run's prefix), which the
	// loader maps into the registry.
	in := func(img sideload.Image, repo string) (sideload.Image, error) {
		t, err := name.NewTag(b.prefix + "/" + repo + ":" + img.Ref.TagStr())
		img.Ref = t
		return img, err
	}
	// Every repository gets its manifests deleted at the end (the test bed's
	// registry allows deletes; blobs stay until its garbage collection, and the
	// fixture's layers are the same run after run).
	var repos []string
	b.cleanups.add("the benchmark's repositories in registry "+reg, func(ctx context.Context) error {
		return b.deleteRepos(ctx, reg, repos)
	})
	push := func(ctx context.Context, img sideload.Image, repo string) (int64, error) {
		img, err := in(img, repo)
		if err != nil {
			return 0, err
		}
		repos = append(repos, repo)
		res, err := loader.Load(ctx, img)
		if err == nil && !res.Verified {
			err = errors.New("the push was not verified")
		}
		return res.BytesSent, err
	}
	changeRepo := func(run int) string { return fmt.Sprintf("change-%d", run+1) }
	rows := measure(ctx, b.log, "registry, one-line change push", b.cfg.Runs, f.size, []tool{{
		name: "devloop (pkg/sideload registry)",
		prepare: func(ctx context.Context, run int) error {
			_, err := push(ctx, f.v1, changeRepo(run)) // the previous build
			return err
		},
		do: func(ctx context.Context, run int) (int64, error) { return push(ctx, f.v2, changeRepo(run)) },
	}, {
		name: "full push to a fresh repository",
		do: func(ctx context.Context, run int) (int64, error) {
			return push(ctx, f.v2, fmt.Sprintf("full-%d", run+1))
		},
	}})
	rep.Rows = append(rep.Rows, rows...)
	return nil
}

// deleteRepos deletes the fixture's manifests (and with them their tags) from
// every repository the scenario pushed to.
func (b *bencher) deleteRepos(ctx context.Context, reg string, repos []string) error {
	seen := map[string]bool{}
	var errs []error
	for _, repo := range repos {
		if seen[repo] {
			continue
		}
		seen[repo] = true
		for _, d := range []string{b.fix.v1.Digest.String(), b.fix.v2.Digest.String()} {
			// The loader keeps the repository path and drops the domain: devloop.local/x → REG/x.
			ref, err := name.NewDigest(reg+"/"+strings.TrimPrefix(b.prefix, "devloop.local/")+"/"+repo+"@"+d, name.Insecure)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			err = remote.Delete(ref, remote.WithContext(ctx))
			var te *transport.Error
			if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
				err = nil // this repository never got this image
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("deleting %s: %w", ref, err))
			}
		}
	}
	return errors.Join(errs...)
}
