package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/devloop/devloop/pkg/build"
	"github.com/devloop/devloop/pkg/sideload"
)

// dockerScenarios compares, on the Docker daemon target (minikube's docker-env,
// Docker Desktop): loading the one-line change with devloop's docker loader
// (only the layers the daemon lacks) against docker load of the whole image, and
// rebuilding in the daemon with pkg/build (BuildKit's moby exporter) against
// docker build.
func (b *bencher) dockerScenarios(ctx context.Context, rep *Report) error {
	err := b.dockerLoad(ctx, rep)
	return errors.Join(err, b.dockerBuild(ctx, rep))
}

func (b *bencher) dockerLoad(ctx context.Context, rep *Report) error {
	f := b.fix
	a1, err := b.dockerArchive("v1")
	if err != nil {
		return err
	}
	a2, err := b.dockerArchive("v2")
	if err != nil {
		return err
	}
	// The daemon holds the previous build, as it does during a dev session.
	if err := b.daemon.load(ctx, a1.path); err != nil {
		return fmt.Errorf("docker load of the previous build: %w", err)
	}
	loader, err := sideload.NewDocker(sideload.DockerOptions{Env: sideload.DockerEnvFrom(os.Getenv)})
	if err != nil {
		return err
	}
	ref := f.v2.Ref.String()
	// Before each run the new image goes, with every tag, so its layer goes too.
	forget := func(ctx context.Context, _ int) error { return b.daemon.removeImage(ctx, ref) }
	inDaemon := func(ctx context.Context, _ int) error {
		id, err := b.daemon.imageID(ctx, ref)
		if err == nil && id == "" {
			err = fmt.Errorf("the daemon has no %s", ref)
		}
		return err
	}
	fallbacks := 0
	rows := measure(ctx, b.log, "docker daemon, one-line change load", b.cfg.Runs, f.size, []tool{{
		name:    "devloop (pkg/sideload docker)",
		prepare: forget,
		do: func(ctx context.Context, _ int) (int64, error) {
			res, err := loader.Load(ctx, f.v2)
			if res.Fallback {
				fallbacks++
			}
			return res.BytesSent, err
		},
		check: inDaemon,
		note: func() string {
			if fallbacks > 0 {
				return fmt.Sprintf("%d runs fell back to the full archive", fallbacks)
			}
			return ""
		},
	}, {
		name:    "docker load (whole image)",
		prepare: forget,
		do: func(ctx context.Context, _ int) (int64, error) {
			return a2.size, b.daemon.load(ctx, a2.path)
		},
		check: inDaemon,
	}})
	rep.Rows = append(rep.Rows, rows...)
	return nil
}

// dockerBuild rebuilds after a one-line change inside the daemon: devloop
// through the daemon's embedded BuildKit with the moby exporter (the image lands
// in the daemon, nothing to load) and docker build with the legacy builder
// (Docker 20.10 without buildx; it sends the whole build context every time).
func (b *bencher) dockerBuild(ctx context.Context, rep *Report) error {
	dir := filepath.Join(b.tmp, "inplace")
	spec := b.fix.spec
	if err := writeContext(dir, spec, "in place"); err != nil {
		return err
	}
	ctxSize, err := dirSize(dir)
	if err != nil {
		return err
	}
	builder, err := build.New(ctx, build.Options{Builder: build.BuilderDocker, DockerHost: b.cfg.Env.DockerHost, Output: build.OutputDaemon})
	if err != nil {
		return err
	}
	defer builder.Close()
	repo := b.prefix + "/inplace"
	devloopBuild := func(ctx context.Context, mustRun bool) error {
		res, err := builder.Build(ctx, build.Spec{Name: repo, Context: dir})
		switch {
		case err != nil:
		case !res[0].Image.InDaemon:
			err = errors.New("pkg/build did not build into the daemon")
		case mustRun && !res[0].Ran:
			err = errors.New("the build came entirely from the cache: the change did not reach it")
		}
		return err
	}
	legacyTag := func(run int) string { return fmt.Sprintf("%s:legacy-%d", repo, run) }
	legacyBuild := func(ctx context.Context, run int) error {
		_, err := runCmd(ctx, nil, withEnv([]string{"DOCKER_BUILDKIT=0"}, "docker", "build", "-q", "-t", legacyTag(run), dir)...)
		return err
	}
	// Warm both builders' caches: the timed runs change only app.py.
	fmt.Fprintf(b.log, "  warming the build caches\n")
	if err := devloopBuild(ctx, false); err != nil {
		return fmt.Errorf("first build with pkg/build: %w", err)
	}
	if err := legacyBuild(ctx, 0); err != nil {
		return fmt.Errorf("first docker build: %w", err)
	}
	edit := func(who string) func(context.Context, int) error {
		return func(_ context.Context, run int) error {
			// Unique per benchmark run: no build cache may already hold it.
			return writeApp(dir, fmt.Sprintf("%s %s build %d", b.prefix, who, run+1))
		}
	}
	rows := measure(ctx, b.log, "docker daemon, one-line rebuild in place", b.cfg.Runs, 0, []tool{{
		name:    "devloop (pkg/build, daemon's BuildKit)",
		prepare: edit("devloop"),
		do: func(ctx context.Context, _ int) (int64, error) {
			return unknownBytes, devloopBuild(ctx, true)
		},
		note: func() string {
			return "BuildKit sends only changed context files; the image lands in the daemon, no load"
		},
	}, {
		name:    "docker build (legacy builder)",
		prepare: edit("docker"),
		do: func(ctx context.Context, run int) (int64, error) {
			return ctxSize, legacyBuild(ctx, run+1)
		},
		note: func() string {
			return fmt.Sprintf("moved = the build context (%s), sent to the daemon on every build", humanBytes(ctxSize))
		},
	}})
	rep.Rows = append(rep.Rows, rows...)
	return nil
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}
