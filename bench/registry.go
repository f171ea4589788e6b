package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/devloop/devloop/pkg/sideload"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// registryNamespace holds the scenario's repositories. Their names are the same
// on every benchmark run, and each is emptied before it is used and at the end,
// so the registry's catalog does not grow run after run.
const registryNamespace = "devloop-bench"

// registryScenario pushes the one-line change with devloop's registry loader to
// a repository that holds the previous build, and the same image to an empty
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
	r := registryRepos{host: reg, blobs: union(f.v1Blobs, f.v2Blobs)}
	changeRepo := func(run int) string { return fmt.Sprintf("%s/change-%d", registryNamespace, run+1) }
	fullRepo := func(run int) string { return fmt.Sprintf("%s/full-%d", registryNamespace, run+1) }
	b.cleanups.add("the benchmark's repositories in registry "+reg, func(ctx context.Context) error {
		var errs []error
		for run := range b.cfg.Runs {
			errs = append(errs, r.empty(ctx, changeRepo(run)), r.empty(ctx, fullRepo(run)))
		}
		return errors.Join(errs...)
	})
	// push loads img into repo; the loader maps devloop.local/REPO to REG/REPO.
	push := func(ctx context.Context, img sideload.Image, repo string) (sideload.Result, error) {
		t, err := name.NewTag("devloop.local/" + repo + ":" + img.Ref.TagStr())
		if err != nil {
			return sideload.Result{}, err
		}
		img.Ref = t
		res, err := loader.Load(ctx, img)
		if err == nil && !res.Verified {
			err = errors.New("the push was not verified")
		}
		return res, err
	}
	rows := measure(ctx, b.log, "registry, one-line change push", b.cfg.Runs, f.size, []tool{{
		name: "devloop (pkg/sideload registry)",
		prepare: func(ctx context.Context, run int) error {
			if err := r.empty(ctx, changeRepo(run)); err != nil {
				return err
			}
			_, err := push(ctx, f.v1, changeRepo(run)) // the previous build
			return err
		},
		do: func(ctx context.Context, run int) (int64, error) {
			res, err := push(ctx, f.v2, changeRepo(run))
			return res.BytesSent, err
		},
	}, {
		name:    "full push to an empty repository",
		prepare: func(ctx context.Context, run int) error { return r.empty(ctx, fullRepo(run)) },
		do: func(ctx context.Context, run int) (int64, error) {
			res, err := push(ctx, f.v2, fullRepo(run))
			if err == nil && res.BlobsSkipped > 0 {
				err = fmt.Errorf("the repository already had %d of the image's blobs: not a full push", res.BlobsSkipped)
			}
			return res.BytesSent, err
		},
	}})
	rep.Rows = append(rep.Rows, rows...)
	return nil
}

// registryRepos empties repositories of the fixture's images in a registry that
// allows deletes (the test bed's does). Distribution links blobs into each
// repository: deleting the manifests alone would leave the repository holding
// the layers, and the next push to it would skip them.
type registryRepos struct {
	host  string
	blobs []v1.Hash // every blob of every fixture image, manifests included
}

// empty deletes the fixture's manifests (their tags go with them) and blob
// links from repo; what it lacks is skipped.
func (r registryRepos) empty(ctx context.Context, repo string) error {
	var errs []error
	for _, h := range r.blobs {
		// Manifests are deleted as manifests, everything else as blobs; a digest
		// that is neither in this repository answers 404 to both.
		for _, kind := range []string{"manifests", "blobs"} {
			if err := r.delete(ctx, repo, kind, h); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (r registryRepos) delete(ctx context.Context, repo, kind string, h v1.Hash) error {
	u := fmt.Sprintf("http://%s/v2/%s/%s/%s", r.host, repo, kind, h)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("DELETE %s: %w", u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusNotFound:
		return nil
	default:
		return fmt.Errorf("DELETE %s: %s", u, resp.Status)
	}
}
