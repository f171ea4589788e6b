package sideload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakeNode simulates one containerd behind ctr: its content store, its images and
// an importer that may refuse the partial archive.
type fakeNode struct {
	content     []v1.Hash
	images      map[string]v1.Hash
	importFails int    // fail this many imports
	snapshotter string // what config dump reports
	imports     [][]string
	wrongDigest bool // the importer names a different digest
}

// respond answers ctr command lines (after any docker exec prefix).
func (n *fakeNode) respond(ctrArgs []string, stdin []byte) (string, error) {
	i := slices.Index(ctrArgs, "-n")
	if len(ctrArgs) > 2 && ctrArgs[0] == "containerd" {
		return "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"" + n.snapshotter + "\"\n", nil
	}
	if i < 0 {
		return "", errors.New("no namespace")
	}
	sub := strings.Join(ctrArgs[i+2:], " ")
	switch {
	case sub == "content ls -q":
		var b strings.Builder
		for _, h := range n.content {
			b.WriteString(h.String() + "\n")
		}
		return b.String(), nil
	case strings.HasPrefix(sub, "images ls name=="):
		ref := strings.TrimPrefix(sub, "images ls name==")
		return imagesTable(ref, n.images[ref]), nil
	case strings.HasPrefix(sub, "images import"):
		files, err := tarEntries(bytes.NewReader(stdin))
		if err != nil {
			return "", err
		}
		n.imports = append(n.imports, names(files))
		if n.importFails > 0 {
			n.importFails--
			return "", errors.New("ctr: content digest sha256:abc: not found")
		}
		var im v1.IndexManifest
		if err := json.Unmarshal(files["index.json"], &im); err != nil {
			return "", err
		}
		d := im.Manifests[0].Digest
		if n.wrongDigest {
			d.Hex = strings.Repeat("1", 64)
		}
		n.images[im.Manifests[0].Annotations[annotationContainerdName]] = d
		return "unpacking ...done\n", nil
	case strings.HasPrefix(sub, "images rm "):
		delete(n.images, strings.TrimPrefix(sub, "images rm "))
		return "", nil
	}
	return "", errors.New("unexpected command " + sub)
}

func TestContainerdLoad(t *testing.T) {
	dir := t.TempDir()
	base, vs := testImages(t, 3, 1024, 1)
	ds := writeLayout(t, dir, base, vs[0])
	img := Image{Ref: mustTag(t, "app:v2"), Digest: ds[1], LayoutDir: dir}
	layers := layerDigests(t, vs[0])
	cfg := configDigest(t, vs[0])
	const full = "docker.io/library/app:v2"
	sock := filepath.Join(t.TempDir(), "containerd.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	importCmd := "ctr --address " + sock + " -n k8s.io images import --all-platforms --digests --snapshotter=overlayfs -"
	partial := slices.Sorted(slices.Values(append([]string{"index.json", "oci-layout"}, blobNames(ds[1], cfg, layers[3])...)))
	all := slices.Sorted(slices.Values(append([]string{"index.json", "oci-layout"}, blobNames(append([]v1.Hash{ds[1], cfg}, layers...)...)...)))

	tests := []struct {
		name         string
		node         fakeNode
		wantErr      string
		wantImports  [][]string
		wantFallback bool
		wantSkipped  int
		wantImage    bool
		wantRm       bool
	}{
		{
			name:        "partial archive with only the new layer",
			node:        fakeNode{content: layers[:3]},
			wantImports: [][]string{partial},
			wantSkipped: 3,
			wantImage:   true,
		},
		{
			name:        "already loaded",
			node:        fakeNode{content: layers, images: map[string]v1.Hash{full: ds[1]}},
			wantSkipped: 6,
			wantImage:   true,
		},
		{
			name:         "partial import fails, full archive retry works",
			node:         fakeNode{content: layers[:3], importFails: 1},
			wantImports:  [][]string{partial, all},
			wantFallback: true,
			wantImage:    true,
		},
		{
			name:         "both imports fail",
			node:         fakeNode{content: layers[:3], importFails: 2},
			wantImports:  [][]string{partial, all},
			wantFallback: true,
			wantErr:      "partial archive failed first",
			wantRm:       true,
		},
		{
			name:        "import names another digest",
			node:        fakeNode{content: layers[:3], wrongDigest: true},
			wantImports: [][]string{partial},
			wantSkipped: 3,
			wantErr:     "it points at sha256:1111",
			wantRm:      true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			node := tc.node
			if node.images == nil {
				node.images = map[string]v1.Hash{}
			}
			fr := &fakeRunner{respond: func(args []string, stdin []byte) (string, error) {
				if args[0] != "ctr" || args[1] != "--address" || args[2] != sock {
					t.Errorf("command %q does not run ctr --address %s", args, sock)
				}
				return node.respond(args[3:], stdin)
			}}
			l, err := NewContainerd(ContainerdOptions{Socket: sock, Runner: fr})
			if err != nil {
				t.Fatal(err)
			}
			res, err := l.Load(context.Background(), img)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load() error = %v, want one containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			if diff := cmp.Diff(tc.wantImports, node.imports); diff != "" {
				t.Errorf("imported archives (-want +got):\n%s", diff)
			}
			cmds := fr.commands()
			if len(tc.wantImports) > 0 && !slices.Contains(cmds, importCmd) {
				t.Errorf("commands %q lack %q", cmds, importCmd)
			}
			if got := slices.ContainsFunc(cmds, func(c string) bool { return strings.Contains(c, "images rm") }); got != tc.wantRm {
				t.Errorf("ran images rm = %v, want %v (%q)", got, tc.wantRm, cmds)
			}
			if _, ok := node.images[full]; ok != tc.wantImage {
				t.Errorf("node has %s = %v, want %v", full, ok, tc.wantImage)
			}
			if res.Fallback != tc.wantFallback || res.Verified != (tc.wantErr == "") || res.BlobsSkipped != tc.wantSkipped {
				t.Errorf("Result = %+v, want Fallback %v, Verified %v, BlobsSkipped %d", res, tc.wantFallback, tc.wantErr == "", tc.wantSkipped)
			}
			if len(tc.wantImports) > 0 && res.BytesSent == 0 {
				t.Error("BytesSent = 0 after an import")
			}
		})
	}
}

func TestKindLoad(t *testing.T) {
	dir := t.TempDir()
	base, vs := testImages(t, 2, 1024, 1)
	ds := writeLayout(t, dir, base, vs[0])
	layers := layerDigests(t, vs[0])
	nodes := map[string]*fakeNode{
		"dev-control-plane": {content: layers[:2], images: map[string]v1.Hash{}, snapshotter: "native"},
		"dev-worker":        {images: map[string]v1.Hash{}, snapshotter: "native"},
	}
	fr := &fakeRunner{respond: func(args []string, stdin []byte) (string, error) {
		switch {
		case args[0] == "docker" && args[1] == "ps":
			want := []string{"docker", "ps", "--filter", "label=io.x-k8s.kind.cluster=dev", "--format", "{{.Names}}\t{{.Label \"io.x-k8s.kind.role\"}}"}
			if diff := cmp.Diff(want, args); diff != "" {
				t.Errorf("docker ps (-want +got):\n%s", diff)
			}
			return "dev-worker\tworker\ndev-control-plane\tcontrol-plane\ndev-external-load-balancer\texternal-load-balancer\n", nil
		case args[0] == "docker" && args[1] == "exec" && args[2] == "-i":
			n, ok := nodes[args[3]]
			if !ok {
				return "", errors.New("no such container " + args[3])
			}
			return n.respond(args[4:], stdin)
		}
		return "", errors.New("unexpected command")
	}}
	l, err := NewKind(KindOptions{Cluster: "dev", Runner: fr})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(context.Background(), Image{Ref: mustTag(t, "app:v2"), Digest: ds[1], LayoutDir: dir})
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if diff := cmp.Diff([]string{"dev-control-plane", "dev-worker"}, res.Nodes); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
	if got, want := len(nodes["dev-control-plane"].imports[0]), 5; got != want {
		t.Errorf("control plane archive has %d entries, want %d (index, layout, manifest, config, new layer)", got, want)
	}
	if got, want := len(nodes["dev-worker"].imports[0]), 7; got != want {
		t.Errorf("worker archive has %d entries, want %d (everything)", got, want)
	}
	if res.BlobsSkipped != 2 || res.BlobsSent != 3+5 || !res.Verified {
		t.Errorf("Result = %+v, want 2 skipped, 8 sent, verified", res)
	}
	if !slices.Contains(fr.commands(), "docker exec -i dev-worker ctr -n k8s.io images import --all-platforms --digests --snapshotter=native -") {
		t.Errorf("no import with the snapshotter from config dump in %q", fr.commands())
	}
	// The snapshotter is asked once per node.
	if _, err := l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), Digest: ds[0], LayoutDir: dir}); err != nil {
		t.Fatal(err)
	}
	dumps := 0
	for _, c := range fr.commands() {
		if strings.HasSuffix(c, "containerd config dump") {
			dumps++
		}
	}
	if dumps != 2 {
		t.Errorf("ran containerd config dump %d times, want 2 (once per node)", dumps)
	}
}

func TestKindNoNodes(t *testing.T) {
	dir := t.TempDir()
	_, vs := testImages(t, 1, 64, 1)
	ds := writeLayout(t, dir, vs[0])
	fr := &fakeRunner{respond: func([]string, []byte) (string, error) { return "", nil }}
	l, err := NewKind(KindOptions{Cluster: "gone", Runner: fr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), Digest: ds[0], LayoutDir: dir})
	want := "kind cluster gone has no running nodes (no container labelled io.x-k8s.kind.cluster=gone): create it with kind create cluster --name gone"
	if err == nil || err.Error() != want {
		t.Errorf("Load() = %v, want %q", err, want)
	}
}

func TestParseSnapshotter(t *testing.T) {
	tests := []struct {
		name, dump, want string
	}{
		{"containerd 1.x", "version = 2\n[plugins]\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n    default_runtime_name = \"runc\"\n    snapshotter = \"overlayfs\"\n", "overlayfs"},
		{"kind with fuse-overlayfs", "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"fuse-overlayfs\" # rootless\n", "fuse-overlayfs"},
		{"containerd 2.x", "version = 3\n[plugins.'io.containerd.cri.v1.images']\n  snapshotter = 'native'\n", "native"},
		{"other tables ignored", "[plugins.\"io.containerd.transfer.v1.local\"]\n  snapshotter = \"zfs\"\n", "overlayfs"},
		{"empty", "", "overlayfs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseSnapshotter([]byte(tc.dump)); got != tc.want {
				t.Errorf("parseSnapshotter() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseImagesList(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	tests := []struct {
		name, out, ref string
		want           v1.Hash
	}{
		{"listed", imagesTable("docker.io/library/app:v1", d), "docker.io/library/app:v1", d},
		{"header only", imagesTable("docker.io/library/app:v1", v1.Hash{}), "docker.io/library/app:v1", v1.Hash{}},
		{"other ref", imagesTable("docker.io/library/app:v10", d), "docker.io/library/app:v1", v1.Hash{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseImagesList([]byte(tc.out), tc.ref)
			if err != nil || got != tc.want {
				t.Errorf("parseImagesList() = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseKindNodes(t *testing.T) {
	got := parseKindNodes([]byte("b-worker\tworker\na-control-plane\tcontrol-plane\nlb\texternal-load-balancer\n\n"))
	if diff := cmp.Diff([]string{"a-control-plane", "b-worker"}, got); diff != "" {
		t.Errorf("parseKindNodes() (-want +got):\n%s", diff)
	}
}

// TestContainerdLoadCancel checks that cancelling ctx stops an import in flight and
// that no full-archive retry follows.
func TestContainerdLoadCancel(t *testing.T) {
	dir := t.TempDir()
	_, vs := testImages(t, 1, 1024, 1)
	ds := writeLayout(t, dir, vs[0])
	sock := filepath.Join(t.TempDir(), "containerd.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	imports := 0
	fr := &blockingRunner{onImport: func() { imports++; cancel() }}
	l, err := NewContainerd(ContainerdOptions{Socket: sock, Runner: fr})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(ctx, Image{Ref: mustTag(t, "app:v1"), Digest: ds[0], LayoutDir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Load() = %v, want context.Canceled", err)
	}
	if imports != 1 {
		t.Errorf("ran %d imports, want 1 (no retry after cancel)", imports)
	}
}

// blockingRunner answers queries with nothing and blocks imports until ctx ends.
type blockingRunner struct{ onImport func() }

func (b *blockingRunner) Run(ctx context.Context, stdin io.Reader, _, _ io.Writer, args ...string) error {
	if !slices.Contains(args, "import") {
		return nil
	}
	b.onImport()
	<-ctx.Done()
	return &RunError{Command: args, Err: ctx.Err()}
}
