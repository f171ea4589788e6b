package sideload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// itImages is what an inner-loop rebuild looks like: a ~20 MB base layer, then two
// builds that differ by one small layer, written to a fresh OCI layout.
type itImages struct {
	dir      string
	v1, v2   Image
	repo     string
	full1    string // containerd names
	full2    string
	img1     v1.Image
	baseSize int64
}

func newITImages(t *testing.T) itImages {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	repo := "devloop.local/sideload-it-" + hex.EncodeToString(suffix)
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	big, err := random.Layer(20<<20, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	if base, err = mutate.AppendLayers(base, big); err != nil {
		t.Fatal(err)
	}
	cf, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Cmd = []string{"/app"}
	if base, err = mutate.ConfigFile(base, cf); err != nil {
		t.Fatal(err)
	}
	var imgs []v1.Image
	for range 2 {
		small, err := random.Layer(300, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(base, small)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	dir := t.TempDir()
	ds := writeLayout(t, dir, imgs...)
	bs, err := big.Size()
	if err != nil {
		t.Fatal(err)
	}
	it := itImages{
		dir:      dir,
		v1:       Image{Ref: mustTag(t, repo+":v1"), Digest: ds[0], LayoutDir: dir},
		v2:       Image{Ref: mustTag(t, repo+":v2"), Digest: ds[1], LayoutDir: dir},
		repo:     repo,
		full1:    repo + ":v1",
		full2:    repo + ":v2",
		img1:     imgs[0],
		baseSize: bs,
	}
	return it
}

// assertSmall checks that a rebuild moved less than 1% of the image.
func (it itImages) assertSmall(t *testing.T, res Result) {
	t.Helper()
	if limit := it.baseSize / 100; res.BytesSent <= 0 || res.BytesSent > limit {
		t.Errorf("second load sent %d bytes, want 1..%d (< 1%% of %d)", res.BytesSent, limit, it.baseSize)
	}
}

// ctrOn runs ctr -n k8s.io args… through prefix (docker exec NODE, or nothing).
func ctrOn(t *testing.T, prefix []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := output(ctx, ExecRunner{}, append(append(append([]string{}, prefix...), "-n", DefaultNamespace), args...)...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return string(out)
}

// removeImages deletes the test's images (their names and the import-DATE@digest
// names --digests adds) from a containerd when the test ends.
func removeImages(t *testing.T, prefix []string, it itImages) {
	t.Cleanup(func() {
		for _, line := range strings.Split(ctrOn(t, prefix, "images", "ls"), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			if strings.HasPrefix(f[0], it.repo+":") || f[2] == it.v1.Digest.String() || f[2] == it.v2.Digest.String() {
				ctrOn(t, prefix, "images", "rm", f[0])
			}
		}
	})
}

func checkCtrImage(t *testing.T, prefix []string, full string, want v1.Hash) {
	t.Helper()
	got, err := parseImagesList([]byte(ctrOn(t, prefix, "images", "ls", "name=="+full)), full)
	if err != nil || got != want {
		t.Errorf("ctr images ls name==%s: digest %v (%v), want %s", full, got, err, want)
	}
}

func TestIntegrationContainerd(t *testing.T) {
	env := testbed.Require(t)
	it := newITImages(t)
	prefix := []string{"ctr", "--address", env.ContainerdSock}
	removeImages(t, prefix, it)
	opts := SelectOptions{KubeContext: env.Context}
	if env.Context != TestbedContext || env.ContainerdSock != TestbedContainerdSocket {
		opts = SelectOptions{Target: TargetContainerd, ContainerdSocket: env.ContainerdSock}
	}
	l, err := Select(opts)
	if err != nil {
		t.Fatal(err)
	}
	second := it.loadTwice(t, l, prefix)
	if !second.Verified || second.Fallback || second.BlobsSkipped != 1 {
		t.Errorf("second load = %+v, want verified, no fallback, 1 blob skipped", second)
	}
}

func TestIntegrationKind(t *testing.T) {
	env := testbed.Require(t)
	it := newITImages(t)
	prefix := []string{"docker", "exec", env.KindNode, "ctr"}
	removeImages(t, prefix, it)
	l, err := NewKind(KindOptions{Cluster: env.KindCluster})
	if err != nil {
		t.Fatal(err)
	}
	second := it.loadTwice(t, l, prefix)
	if len(second.Nodes) == 0 || second.Nodes[0] != env.KindNode || second.Fallback {
		t.Errorf("second load = %+v, want node %s, no fallback", second, env.KindNode)
	}
	again, err := l.Load(context.Background(), it.v2)
	if err != nil || again.BytesSent != 0 {
		t.Errorf("unchanged Load() = %+v, %v; want nothing sent", again, err)
	}
}

// TestIntegrationKindFullArchiveRetry makes the node lose the shared base layer
// between listing its blobs and importing (as a GC would): the partial archive
// then cannot unpack and the loader must retry with the full archive.
func TestIntegrationKindFullArchiveRetry(t *testing.T) {
	env := testbed.Require(t)
	it := newITImages(t)
	prefix := []string{"docker", "exec", env.KindNode, "ctr"}
	removeImages(t, prefix, it)
	ctx := context.Background()
	l, err := NewKind(KindOptions{Cluster: env.KindCluster})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(ctx, it.v1); err != nil {
		t.Fatalf("first Load() = %v", err)
	}
	layers := layerDigests(t, it.img1)
	r := &afterRunner{after: "content ls", do: func() {
		// Drop every name of v1 (with --sync, GC removes its content and snapshots),
		// then the base layer blob itself should anything still hold it.
		// This runs on a loader goroutine: report with t.Errorf, never t.Fatal.
		ctr := append(append([]string{}, prefix...), "-n", DefaultNamespace)
		out, err := output(ctx, ExecRunner{}, append(ctr, "images", "ls")...)
		if err != nil {
			t.Errorf("listing images: %v", err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[2] == it.v1.Digest.String() {
				if err := (ExecRunner{}).Run(ctx, nil, nil, nil, append(ctr, "images", "rm", "--sync", f[0])...); err != nil {
					t.Errorf("removing %s: %v", f[0], err)
				}
			}
		}
		_ = ExecRunner{}.Run(ctx, nil, nil, nil, append(ctr, "content", "rm", layers[0].String())...)
	}}
	l, err = NewKind(KindOptions{Cluster: env.KindCluster, Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(ctx, it.v2)
	if err != nil {
		t.Fatalf("Load() after losing blobs = %v", err)
	}
	t.Logf("%+v", res)
	if !res.Fallback || !res.Verified {
		t.Errorf("Load() = %+v, want a verified full-archive retry", res)
	}
	if res.BytesSent < it.baseSize {
		t.Errorf("sent %d bytes, want at least the base layer (%d)", res.BytesSent, it.baseSize)
	}
	checkCtrImage(t, prefix, it.full2, it.v2.Digest)
}

// afterRunner runs commands for real and calls do once, after the first command
// containing after has finished.
type afterRunner struct {
	after string
	do    func()
	once  sync.Once
}

func (a *afterRunner) Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error {
	err := ExecRunner{}.Run(ctx, stdin, stdout, stderr, args...)
	if strings.Contains(strings.Join(args, " "), a.after) {
		a.once.Do(a.do)
	}
	return err
}

func TestIntegrationRegistry(t *testing.T) {
	env := testbed.Require(t)
	it := newITImages(t)
	l, err := NewRegistry(RegistryOptions{Registry: env.Registry})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Load(ctx, it.v1); err != nil {
		t.Fatalf("first Load() = %v", err)
	}
	second, err := l.Load(ctx, it.v2)
	if err != nil {
		t.Fatalf("second Load() = %v", err)
	}
	t.Logf("%+v", second)
	it.assertSmall(t, second)
	if second.BlobsSent != 2 || !second.Verified {
		t.Errorf("second push = %+v, want 2 blobs (layer, config), verified", second)
	}
	ref, err := name.ParseReference(second.Ref.String(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil || desc.Digest != it.v2.Digest {
		t.Errorf("registry has %v (%v), want %s", desc, err, it.v2.Digest)
	}
}

func TestIntegrationDocker(t *testing.T) {
	env := testbed.Require(t)
	it := newITImages(t)
	denv := DockerEnvFrom(func(k string) string {
		if k == "DOCKER_HOST" {
			return env.DockerHost
		}
		return ""
	})
	eng, err := newEngine(denv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, ref := range []string{it.full1, it.full2} {
			_ = eng.untag(context.Background(), ref)
		}
	})
	l, err := NewDocker(DockerOptions{Env: denv})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Load(ctx, it.v1); err != nil {
		t.Fatalf("first Load() = %v", err)
	}
	second, err := l.Load(ctx, it.v2)
	if err != nil {
		t.Fatalf("second Load() = %v", err)
	}
	t.Logf("%+v", second)
	it.assertSmall(t, second)
	if second.Fallback || second.BlobsSkipped != 1 {
		t.Errorf("second load = %+v, want a partial archive without the base layer", second)
	}
	ii, err := eng.inspect(ctx, it.full2)
	if err != nil || ii == nil {
		t.Fatalf("GET /images/%s/json = %v, %v", it.full2, ii, err)
	}
	m, err := readLayoutImage(it.dir, it.v2.Digest)
	if err != nil {
		t.Fatal(err)
	}
	_, man, err := m.pickImage(v1.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	if ii.ID != man.Config.Digest.String() && ii.ID != it.v2.Digest.String() {
		t.Errorf("daemon's %s is %s, want config %s", it.full2, ii.ID, man.Config.Digest)
	}
	inDaemon, err := l.Load(ctx, Image{Ref: it.v2.Ref, InDaemon: true})
	if err != nil || !inDaemon.Verified {
		t.Errorf("Load(InDaemon) = %+v, %v", inDaemon, err)
	}
}

// loadTwice loads the first image, then the one differing by a small layer,
// checks the node's containerd holds each under its name with its digest, and
// that the second load moved little; it returns the second load's result.
func (it itImages) loadTwice(t *testing.T, l Sideloader, prefix []string) Result {
	t.Helper()
	ctx := context.Background()
	first, err := l.Load(ctx, it.v1)
	if err != nil {
		t.Fatalf("first Load() = %v", err)
	}
	checkCtrImage(t, prefix, it.full1, it.v1.Digest)
	second, err := l.Load(ctx, it.v2)
	if err != nil {
		t.Fatalf("second Load() = %v", err)
	}
	checkCtrImage(t, prefix, it.full2, it.v2.Digest)
	t.Logf("first %+v\nsecond %+v", first, second)
	it.assertSmall(t, second)
	return second
}
