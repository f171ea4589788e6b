package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestDockerShim(t *testing.T) {
	dir := t.TempDir()
	// The "real" docker prints one argument per line.
	real := filepath.Join(dir, "real docker")
	if err := os.WriteFile(real, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	shimDir := filepath.Join(dir, "shim")
	if err := os.Mkdir(shimDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shim, err := writeDockerShim(shimDir, real)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"exec drops --privileged", []string{"exec", "--privileged", "-i", "node", "ctr", "images", "import", "-"},
			"[exec][-i][node][ctr][images][import][-]"},
		{"arguments keep their spaces", []string{"exec", "node", "sh", "-c", "echo a  b"}, "[exec][node][sh][-c][echo a  b]"},
		{"other commands are untouched", []string{"run", "--privileged", "img"}, "[run][--privileged][img]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(shim, tc.args...).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ""); got != tc.want {
				t.Errorf("docker %q ran real docker with %s, want %s", tc.args, got, tc.want)
			}
		})
	}
}

func TestParseNodeImagesAndOurs(t *testing.T) {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	out := "REF TYPE DIGEST SIZE PLATFORMS LABELS\n" +
		"devloop.local/bench-1/app:v1 application/vnd.oci.image.manifest.v1+json " + d("a") + " 20 MiB linux/amd64 -\n" +
		"import-2026-11-22@" + d("a") + " application/vnd.oci.image.manifest.v1+json " + d("a") + " 20 MiB linux/amd64 -\n" +
		"docker.io/library/colleague:1 application/vnd.oci.image.manifest.v1+json " + d("b") + " 20 MiB linux/amd64 -\n" +
		"import-2026-11-21@" + d("b") + " application/vnd.oci.image.manifest.v1+json " + d("b") + " 20 MiB linux/amd64 -\n" +
		"broken line\n"
	imgs := parseNodeImages([]byte(out))
	if len(imgs) != 4 {
		t.Fatalf("parseNodeImages() = %d images, want 4: %+v", len(imgs), imgs)
	}
	var got []string
	for _, i := range (node{prefix: "devloop.local/bench-1"}).ours(imgs) {
		got = append(got, i.Name)
	}
	want := []string{"devloop.local/bench-1/app:v1", "import-2026-11-22@" + d("a")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ours() (-want +got):\n%s", diff)
	}
}

func TestUnionWithout(t *testing.T) {
	h := func(c string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(c, 64)} }
	got := without(union([]v1.Hash{h("a"), h("b")}, []v1.Hash{h("b"), h("c")}), []v1.Hash{h("a")})
	if diff := cmp.Diff([]v1.Hash{h("b"), h("c")}, got); diff != "" {
		t.Errorf("without(union()) (-want +got):\n%s", diff)
	}
}

func TestWriteContextIsDeterministic(t *testing.T) {
	spec := fixtureSpec{Base: "busybox:latest", VendorMB: 1, AssetMB: 2}
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := writeContext(dir, spec, "v1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"Dockerfile", "app.py", "vendor/deps.bin", "assets/model.bin"} {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two writes (%v, %v)", f, err1, err2)
		}
	}
	st, err := os.Stat(filepath.Join(a, "assets/model.bin"))
	if err != nil || st.Size() != 2<<20 || !st.ModTime().Equal(fixedTime) {
		t.Errorf("assets/model.bin: %v, %v; want 2 MiB at %v", st, err, fixedTime)
	}
	vendor, _ := os.ReadFile(filepath.Join(a, "vendor/deps.bin"))
	asset, _ := os.ReadFile(filepath.Join(a, "assets/model.bin"))
	if bytes.Equal(vendor, asset[:len(vendor)]) {
		t.Error("the vendor and asset layers have the same bytes: they must not share blobs")
	}
}

func TestWriteAppChangesSizeOrTime(t *testing.T) {
	// BuildKit's context transfer skips files whose size and time did not change:
	// two versions of app.py of the same length must differ in time.
	dir := t.TempDir()
	times := map[time.Time]string{}
	for _, v := range []string{"v1", "v2", "v3"} {
		if err := writeApp(dir, v); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "app.py"))
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := times[st.ModTime()]; ok {
			t.Errorf("writeApp(%s) left the same time as %s", v, prev)
		}
		times[st.ModTime()] = v
	}
	again := filepath.Join(t.TempDir())
	_ = writeApp(again, "v2")
	st1, _ := os.Stat(filepath.Join(again, "app.py"))
	_ = writeApp(dir, "v2")
	st2, _ := os.Stat(filepath.Join(dir, "app.py"))
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("writeApp(v2) gives different times in two places: the layer would not be reproducible")
	}
}

func TestWriteTree(t *testing.T) {
	root := t.TempDir()
	wc := WatchConfig{SrcDirs: 3, FilesPerDir: 4, IgnoredFiles: 215}
	dirs, err := writeTree(root, wc)
	if err != nil {
		t.Fatal(err)
	}
	var gotDirs, gotFiles, ignored int
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			gotDirs++
		} else if d.Name() != ".dockerignore" {
			gotFiles++
			if strings.Contains(p, "node_modules") {
				ignored++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if gotDirs != dirs || gotFiles != 3*4+215 || ignored != 215 {
		t.Errorf("writeTree() = %d dirs; tree has %d dirs, %d files (%d ignored), want %d files (215 ignored)",
			dirs, gotDirs, gotFiles, ignored, 3*4+215)
	}
}

func TestCleanupsRunNewestFirstEvenWhenCancelled(t *testing.T) {
	var c cleanups
	var order []string
	for _, s := range []string{"first", "second", "third"} {
		c.add(s, func(ctx context.Context) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			order = append(order, s)
			if s == "second" {
				return errors.New("boom")
			}
			return nil
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.run(ctx, io.Discard)
	if diff := cmp.Diff([]string{"third", "second", "first"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if err == nil || !strings.Contains(err.Error(), "cleaning up second: boom") {
		t.Errorf("run() = %v, want the second step's error", err)
	}
	if c.run(ctx, io.Discard) != nil || len(order) != 3 {
		t.Error("a second run() ran the steps again")
	}
}

func TestPipeCountsBytes(t *testing.T) {
	ctx := context.Background()
	n, err := pipe(ctx, []string{"head", "-c", "100000", "/dev/zero"}, []string{"wc", "-c"})
	if err != nil || n != 100000 {
		t.Errorf("pipe() = %d, %v; want 100000 bytes", n, err)
	}
	if _, err := pipe(ctx, []string{"sh", "-c", "echo partial; exit 3"}, []string{"cat"}); err == nil {
		t.Error("pipe() with a failing producer = nil error")
	}
	if _, err := pipe(ctx, []string{"head", "-c", "100000", "/dev/zero"}, []string{"sh", "-c", "exit 4"}); err == nil {
		t.Error("pipe() with a failing consumer = nil error")
	}
}
