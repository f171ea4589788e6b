package loop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/sideload"
	"github.com/devloop/devloop/pkg/watch"
)

// fakeBuilder "builds" an image whose digest is the hash of the context's files,
// so an edit changes it and an unchanged tree does not.
type fakeBuilder struct {
	mu    sync.Mutex
	calls [][]string
	fail  map[string]error
	// block, when set, makes the build of the call with this index wait for ctx.
	block   map[int]bool
	started chan int // receives the call index when a build starts
}

func (b *fakeBuilder) Build(ctx context.Context, arts []config.Artifact) ([]Built, error) {
	b.mu.Lock()
	idx := len(b.calls)
	names := make([]string, len(arts))
	for i, a := range arts {
		names[i] = a.Image
	}
	b.calls = append(b.calls, names)
	block := b.block[idx]
	b.mu.Unlock()
	if b.started != nil {
		select {
		case b.started <- idx:
		case <-ctx.Done():
		}
	}
	if block {
		<-ctx.Done()
		return nil, fmt.Errorf("solve: %w", context.Cause(ctx))
	}
	var out []Built
	var errs []error
	for _, a := range arts {
		if err := b.fail[a.Image]; err != nil {
			out = append(out, Built{Artifact: a.Image, Err: err})
			errs = append(errs, err)
			continue
		}
		out = append(out, Built{Artifact: a.Image, Image: fakeImage(a), Duration: time.Millisecond})
	}
	if len(errs) > 0 {
		return out, errs[0]
	}
	return out, nil
}

func (b *fakeBuilder) Calls() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

func fakeImage(a config.Artifact) sideload.Image {
	h := sha256.New()
	filepath.WalkDir(a.Context, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(h, "%s\x00%s\x00", p, data)
		}
		return nil
	})
	hex := hex.EncodeToString(h.Sum(nil))
	tag, _ := name.NewTag(a.Image + ":" + hex[:16])
	// a layout beside the context holding the manifest blob, as the builder's does
	layout := a.Context + ".layout-" + a.Image
	blob := filepath.Join(layout, "blobs", "sha256", hex)
	_ = os.MkdirAll(filepath.Dir(blob), 0o755)
	_ = os.WriteFile(blob, []byte("{}"), 0o644)
	return sideload.Image{Ref: tag, Digest: v1.Hash{Algorithm: "sha256", Hex: hex}, LayoutDir: layout}
}

type fakeLoader struct {
	mu    sync.Mutex
	loads []string
	fail  error
}

func (l *fakeLoader) Load(_ context.Context, img sideload.Image) (sideload.Result, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loads = append(l.loads, img.Ref.String())
	if l.fail != nil {
		return sideload.Result{}, l.fail
	}
	return sideload.Result{Ref: img.Ref, BytesSent: 12000, Verified: true}, nil
}

func (l *fakeLoader) Loads() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.loads)
}

// fakeRenderer renders one Deployment per artifact; its hash covers the images
// and the content of the manifest file.
type fakeRenderer struct {
	manifest string // a file whose content is part of the hash
}

func (r *fakeRenderer) Render(_ context.Context, images map[string]string) (*deploy.Rendered, error) {
	keys := make([]string, 0, len(images))
	for k := range images {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	var objs []*unstructured.Unstructured
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, images[k])
		o := &unstructured.Unstructured{}
		o.SetAPIVersion("apps/v1")
		o.SetKind("Deployment")
		o.SetName(k)
		o.SetNamespace("default")
		objs = append(objs, o)
	}
	if r.manifest != "" {
		data, err := os.ReadFile(r.manifest)
		if err != nil {
			return nil, err
		}
		h.Write(data)
	}
	return &deploy.Rendered{Objects: objs, Hash: "sha256:" + hex.EncodeToString(h.Sum(nil))}, nil
}

type fakeDeployer struct {
	mu      sync.Mutex
	applies int
	prunes  int
	cleans  int
}

func (d *fakeDeployer) Apply(_ context.Context, objs []*unstructured.Unstructured) ([]deploy.Ref, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.applies++
	refs := make([]deploy.Ref, len(objs))
	for i, o := range objs {
		refs[i] = deploy.Ref{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
	}
	return refs, nil
}

func (d *fakeDeployer) Prune(context.Context, []deploy.Ref) ([]deploy.Ref, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prunes++
	return nil, nil
}

func (d *fakeDeployer) Cleanup(context.Context) ([]deploy.Ref, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cleans++
	return nil, nil
}

func (d *fakeDeployer) Applies() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.applies
}

type fakeWaiter struct {
	mu    sync.Mutex
	waits int
	err   error
}

func (w *fakeWaiter) Wait(_ context.Context, rs []rollout.Resource, _ time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits++
	return w.err
}

// fakeLive says whether the cluster still holds the last apply.
type fakeLive struct{ current bool }

func (l fakeLive) Current(context.Context, []*unstructured.Unstructured, string) (bool, error) {
	return l.current, nil
}

// fakes bundles one set of fake stages.
type fakes struct {
	builder  *fakeBuilder
	loader   *fakeLoader
	renderer *fakeRenderer
	deployer *fakeDeployer
	waiter   *fakeWaiter
	live     fakeLive
	kube     KubeContext
	made     int // how many times NewStages ran
}

func newFakes() *fakes {
	return &fakes{
		builder:  &fakeBuilder{},
		loader:   &fakeLoader{},
		renderer: &fakeRenderer{},
		deployer: &fakeDeployer{},
		waiter:   &fakeWaiter{},
		live:     fakeLive{current: true},
		kube:     KubeContext{Name: "kind-dev", Server: "https://127.0.0.1:6443", Namespace: "default"},
	}
}

func (f *fakes) stages(context.Context, *config.Config, event.Sink) (*Stages, error) {
	f.made++
	return &Stages{
		Builder: f.builder, Loader: f.loader, Renderer: f.renderer, Deployer: f.deployer,
		Waiter: f.waiter, Cleaner: f.deployer, Live: f.live, Kube: f.kube, Target: "fake",
	}, nil
}

// project writes a config with one artifact per name, each with its own
// context directory holding a Dockerfile and app.py, and a manifest file.
func project(t *testing.T, names ...string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := &config.Config{APIVersion: config.APIVersion, Kind: config.Kind, Name: "test", Dir: dir, File: filepath.Join(dir, "devloop.yaml")}
	write(t, cfg.File, "apiVersion: devloop.dev/v1alpha1\n")
	for _, n := range names {
		ctxDir := filepath.Join(dir, n)
		write(t, filepath.Join(ctxDir, "Dockerfile"), "FROM scratch\nCOPY . .\n")
		write(t, filepath.Join(ctxDir, "app.py"), "print('hello')\n")
		cfg.Artifacts = append(cfg.Artifacts, config.Artifact{Image: n, Context: ctxDir})
	}
	m := filepath.Join(dir, "k8s", "app.yaml")
	write(t, m, "kind: Deployment\n")
	cfg.Deploy.Manifests = []string{filepath.Dir(m)}
	cfg.Build.Concurrency = 2
	cfg.Deploy.RolloutTimeout = time.Minute
	return cfg
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// messages returns the messages of the recorded events of phase and status.
func messages(r *event.Recorder, phase event.Phase, status event.Status) []string {
	var out []string
	for _, e := range r.Events() {
		if e.Phase == phase && e.Status == status {
			out = append(out, e.Message)
		}
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeWatch is a watcher whose batches the test sends.
type fakeWatch struct {
	ch     chan watch.Batch
	closed chan struct{}
	once   sync.Once
}

func newFakeWatch() *fakeWatch {
	return &fakeWatch{ch: make(chan watch.Batch), closed: make(chan struct{})}
}

func (w *fakeWatch) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-w.closed:
	}
	return nil
}
func (w *fakeWatch) Batches() <-chan watch.Batch { return w.ch }
func (w *fakeWatch) Close() error {
	w.once.Do(func() { close(w.closed) })
	return nil
}
