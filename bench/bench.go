package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/devloop/devloop/internal/testbed"
)

// The scenarios, as -only names them.
const (
	ScenarioKind     = "kind"
	ScenarioDocker   = "docker"
	ScenarioRegistry = "registry"
	ScenarioWatch    = "watch"
	ScenarioDev      = "dev"
)

// Scenarios lists every scenario in the order they run.
func Scenarios() []string {
	return []string{ScenarioKind, ScenarioDocker, ScenarioRegistry, ScenarioWatch, ScenarioDev}
}

// Config says what to run and how big.
type Config struct {
	// Env is the test bed (hack/testbed/testbed env).
	Env testbed.Env
	// Only lists the scenarios to run; empty runs all of them.
	Only []string
	// Runs is how many timed runs each tool gets per scenario.
	Runs int
	// Base, VendorMB and AssetMB size the benchmark image (see fixtureSpec).
	Base              string
	VendorMB, AssetMB int
	// Kind is the kind binary; empty leaves kind's own loader out of the kind
	// scenarios (the other tools still run).
	Kind string
	// Devloop is the devloop binary for the dev scenario; empty skips it.
	Devloop string
	// DevRuns is how many one-line changes the dev scenario times.
	DevRuns int
	// DevExample is the example project the dev scenario edits.
	DevExample string
	// Watch sizes the watcher scenario.
	Watch WatchConfig
	// TempDir is where the benchmark's temporary directory goes ("": os.TempDir()).
	TempDir string
	// Log receives progress, one line per run; nil discards it.
	Log io.Writer
}

// DefaultConfig is the full benchmark; quick is the small one CI runs to prove the
// benchmark still works (one run each, a ~20 MB image, a small tree).
func DefaultConfig(env testbed.Env, quick bool) Config {
	if quick {
		return Config{Env: env, Runs: 1, Base: "busybox:latest", VendorMB: 2, AssetMB: 16, DevRuns: 1,
			Watch: WatchConfig{SrcDirs: 20, FilesPerDir: 50, IgnoredFiles: 4000, Idle: time.Second, Saves: 3}}
	}
	return Config{Env: env, Runs: 3, Base: "python:3.11-slim", VendorMB: 16, AssetMB: 128, DevRuns: 5,
		Watch: WatchConfig{SrcDirs: 200, FilesPerDir: 100, IgnoredFiles: 30000, Idle: 10 * time.Second, Saves: 10}}
}

func (c Config) runs(s string) bool { return len(c.Only) == 0 || slices.Contains(c.Only, s) }

// bencher is one benchmark run's state.
type bencher struct {
	cfg      Config
	log      io.Writer
	tmp      string
	prefix   string // repository prefix of everything the run creates
	daemon   daemon
	node     node
	cleanups *cleanups
	fix      *fixture
	// archives are docker-archives of the fixture images, by digest, written once.
	archives map[string]archive
}

type archive struct {
	path string
	size int64
}

// Run runs the configured scenarios and returns the report, with whatever ran
// even when a scenario failed; the error joins every failure, including the
// clean-up's. It removes everything it created before it returns.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	for _, s := range cfg.Only {
		if !slices.Contains(Scenarios(), s) {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(Scenarios(), ", "))
		}
	}
	if cfg.Runs < 1 {
		return nil, fmt.Errorf("runs = %d, want at least 1", cfg.Runs)
	}
	rep = &Report{Started: time.Now(), Machine: readMachine()}
	b := &bencher{cfg: cfg, log: cfg.Log, cleanups: &cleanups{}, archives: map[string]archive{}}
	defer func() {
		err = errors.Join(err, b.cleanups.run(ctx, b.log))
		rep.Machine.LoadEnd = loadAvg()
		rep.Duration = time.Since(rep.Started)
	}()
	if b.tmp, err = os.MkdirTemp(cfg.TempDir, "devloop-bench-"); err != nil {
		return rep, err
	}
	b.cleanups.add("temporary directory "+b.tmp, func(context.Context) error { return os.RemoveAll(b.tmp) })
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		return rep, err
	}
	b.prefix = "devloop.local/bench-" + hex.EncodeToString(id)
	b.daemon = daemon{prefix: b.prefix}
	b.node = node{container: cfg.Env.KindNode, prefix: b.prefix}

	var errs []error
	fail := func(scenario string, err error) {
		if err != nil {
			fmt.Fprintf(b.log, "%s: %v\n", scenario, err)
			errs = append(errs, fmt.Errorf("%s: %w", scenario, err))
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %v", scenario, err))
		}
	}
	imagesOK := false
	if cfg.runs(ScenarioKind) || cfg.runs(ScenarioDocker) || cfg.runs(ScenarioRegistry) {
		// Without the image the load scenarios cannot run; the others still do.
		err := b.setupImages(ctx, rep)
		fail("image build (kind, docker, registry not run)", err)
		imagesOK = err == nil
	}
	needsImages := map[string]bool{ScenarioKind: true, ScenarioDocker: true, ScenarioRegistry: true}
	scenarios := []struct {
		name string
		fn   func(context.Context, *Report) error
	}{
		{ScenarioKind, b.kindScenarios},
		{ScenarioDocker, b.dockerScenarios},
		{ScenarioRegistry, b.registryScenario},
		{ScenarioWatch, b.watchScenario},
		{ScenarioDev, b.devScenario},
	}
	for _, s := range scenarios {
		if !cfg.runs(s.name) || ctx.Err() != nil || (needsImages[s.name] && !imagesOK) {
			continue
		}
		fmt.Fprintf(b.log, "== %s\n", s.name)
		fail(s.name, s.fn(ctx, rep))
	}
	for _, r := range rep.Rows {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s / %s: %w", r.Scenario, r.Tool, r.Err))
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return rep, errors.Join(errs...)
}

// setupImages builds the fixture and registers the removal of every image the
// scenarios will create in dockerd and in the node.
func (b *bencher) setupImages(ctx context.Context, rep *Report) error {
	b.cleanups.add("the benchmark's images in dockerd", b.daemon.removeAll)
	if b.cfg.Env.KindNode != "" {
		b.cleanups.add("the benchmark's images in node "+b.cfg.Env.KindNode, b.node.removeAll)
	}
	fmt.Fprintf(b.log, "== building the benchmark image (%s + %d MiB + %d MiB) with pkg/build through %s\n",
		b.cfg.Base, b.cfg.VendorMB, b.cfg.AssetMB, b.cfg.Env.BuildkitHost)
	start := time.Now()
	spec := fixtureSpec{Base: b.cfg.Base, VendorMB: b.cfg.VendorMB, AssetMB: b.cfg.AssetMB}
	f, err := buildFixture(ctx, b.cfg.Env.BuildkitHost, b.tmp, b.prefix+"/app", spec)
	if err != nil {
		return err
	}
	b.fix = f
	fmt.Fprintf(b.log, "   built v1 and v2 in %s\n", seconds(time.Since(start)))
	rep.Setup = append(rep.Setup,
		fmt.Sprintf("image: FROM %s + %d MiB dependencies layer + %d MiB asset layer + app.py; %d layers, %s as stored (compressed)",
			spec.Base, spec.VendorMB, spec.AssetMB, f.layers, humanBytes(f.size)),
		fmt.Sprintf("one-line change: app.py's VERSION line; the new image differs by %d blobs, %s (manifest, config, app.py layer)",
			len(f.changed), humanBytes(f.changedSize)),
		fmt.Sprintf("runs: %d per tool and scenario, interleaved; times are wall-clock medians; \"of image\" is moved bytes / %s",
			b.cfg.Runs, humanBytes(f.size)))
	return nil
}

// dockerArchive returns a docker-archive of img (v1 or v2) named by its ref,
// writing it on first use.
func (b *bencher) dockerArchive(which string) (archive, error) {
	if a, ok := b.archives[which]; ok {
		return a, nil
	}
	img := b.fix.v1
	if which == "v2" {
		img = b.fix.v2
	}
	path := b.tmp + "/" + which + ".tar"
	n, err := b.fix.writeDockerArchive(img, img.Ref, path)
	if err != nil {
		return archive{}, err
	}
	a := archive{path: path, size: n}
	b.archives[which] = a
	return a, nil
}
