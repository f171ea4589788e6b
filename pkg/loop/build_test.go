package loop

import (
	"os"
	"path/filepath"
	"testing"
)

func TestImageUsable(t *testing.T) {
	layout := t.TempDir()
	blob := filepath.Join(layout, "blobs", "sha256", "abc")
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		bs   BuildState
		want bool
	}{
		{"manifest in the layout", BuildState{LayoutDir: layout, Digest: "sha256:abc"}, true},
		{"manifest pruned from the layout", BuildState{LayoutDir: layout, Digest: "sha256:def"}, false},
		{"layout gone", BuildState{LayoutDir: filepath.Join(layout, "gone"), Digest: "sha256:abc"}, false},
		{"no layout", BuildState{Digest: "sha256:abc"}, false},
		{"bad digest", BuildState{LayoutDir: layout, Digest: "abc"}, false},
		{"in a Docker daemon", BuildState{InDaemon: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := imageUsable(tc.bs); got != tc.want {
				t.Errorf("imageUsable(%+v) = %v, want %v", tc.bs, got, tc.want)
			}
		})
	}
}
