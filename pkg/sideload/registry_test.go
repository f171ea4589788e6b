package sideload

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestRegistryPushDedupe(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	dir := t.TempDir()
	_, vs := testImages(t, 3, 1<<20, 2)
	ds := writeLayout(t, dir, vs[0], vs[1])
	l, err := NewRegistry(RegistryOptions{Registry: host})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	first, err := l.Load(ctx, Image{Ref: mustTag(t, "devloop.local/app:v1"), Digest: ds[0], LayoutDir: dir})
	if err != nil {
		t.Fatalf("first Load() = %v", err)
	}
	if first.BytesSent < 3<<20 || first.BlobsSent != 5 || first.BlobsSkipped != 0 || !first.Verified {
		t.Errorf("first push: %+v, want ≥ 3 MiB, 5 blobs sent, verified", first)
	}
	if got, want := first.Ref.String(), host+"/app:v1@"+ds[0].String(); got != want {
		t.Errorf("Ref = %q, want %q", got, want)
	}

	second, err := l.Load(ctx, Image{Ref: mustTag(t, "devloop.local/app:v2"), Digest: ds[1], LayoutDir: dir})
	if err != nil {
		t.Fatalf("second Load() = %v", err)
	}
	// Only the new small layer, the new config and the manifest move.
	size := func(img v1.Image) int64 {
		ls, _ := img.Layers()
		s, _ := ls[len(ls)-1].Size()
		cs, _ := img.RawConfigFile()
		ms, _ := img.RawManifest()
		return s + int64(len(cs)) + int64(len(ms))
	}(vs[1])
	if second.BytesSent != size {
		t.Errorf("second push sent %d bytes, want %d (layer + config + manifest)", second.BytesSent, size)
	}
	if second.BlobsSent != 2 || second.BlobsSkipped != 3 || !second.Verified {
		t.Errorf("second push: %+v, want 2 blobs sent, 3 skipped, verified", second)
	}

	again, err := l.Load(ctx, Image{Ref: mustTag(t, "devloop.local/app:v2"), Digest: ds[1], LayoutDir: dir})
	if err != nil {
		t.Fatalf("third Load() = %v", err)
	}
	if again.BytesSent != 0 {
		t.Errorf("unchanged push sent %d bytes, want 0", again.BytesSent)
	}

	desc, err := remote.Head(second.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != ds[1] {
		t.Errorf("registry has %s, want %s", desc.Digest, ds[1])
	}
}

func TestRegistryRefs(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name, registry, pull, ref string
		wantPush, wantPull        string
	}{
		{"docker hub short name", "localhost:5001", "", "app:v1", "localhost:5001/app:v1", "localhost:5001/app:v1@" + d},
		{"other registry", "localhost:5001", "", "devloop.local/team/app:v1", "localhost:5001/team/app:v1", "localhost:5001/team/app:v1@" + d},
		{"runtime pulls elsewhere", "localhost:5001", "kind-registry:5000", "app:v1", "localhost:5001/app:v1", "kind-registry:5000/app:v1@" + d},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewRegistry(RegistryOptions{Registry: tc.registry, PullRegistry: tc.pull})
			if err != nil {
				t.Fatal(err)
			}
			push, pull, err := l.(*registryLoader).refs(mustTag(t, tc.ref), d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.wantPush, tc.wantPull}, []string{push.String(), pull.String()}); diff != "" {
				t.Errorf("refs(%q) (-want +got):\n%s", tc.ref, diff)
			}
		})
	}
}

func TestRegistryRefuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, `{"errors":[{"code":"DENIED","message":"push disabled"}]}`, http.StatusForbidden)
	}))
	defer srv.Close()
	dir := t.TempDir()
	_, vs := testImages(t, 1, 64, 1)
	ds := writeLayout(t, dir, vs[0])
	l, err := NewRegistry(RegistryOptions{Registry: strings.TrimPrefix(srv.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), Digest: ds[0], LayoutDir: dir})
	if err == nil || !strings.Contains(err.Error(), "is the registry running and does it accept pushes?") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Load() = %v, want a one-line error with a hint", err)
	}
}

func TestNewRegistryErrors(t *testing.T) {
	for _, reg := range []string{"", "http://localhost:5000"} {
		if _, err := NewRegistry(RegistryOptions{Registry: reg}); err == nil {
			t.Errorf("NewRegistry(%q) = nil error, want one", reg)
		}
	}
}

func TestParseLocalRegistryHosting(t *testing.T) {
	tests := []struct {
		name    string
		data    map[string]string
		want    LocalRegistryHosting
		wantErr bool
	}{
		{
			name: "kind docs example",
			data: map[string]string{"localRegistryHosting.v1": "host: \"localhost:5001\"\nhelp: \"https://kind.sigs.k8s.io/docs/user/local-registry/\"\n"},
			want: LocalRegistryHosting{Host: "localhost:5001", Help: "https://kind.sigs.k8s.io/docs/user/local-registry/"},
		},
		{
			name: "all fields and an unknown one",
			data: map[string]string{"localRegistryHosting.v1": "host: localhost:5001\nhostFromContainerRuntime: kind-registry:5000\nhostFromClusterNetwork: kind-registry.local:5000\nfuture: yes\n"},
			want: LocalRegistryHosting{Host: "localhost:5001", HostFromContainerRuntime: "kind-registry:5000", HostFromClusterNetwork: "kind-registry.local:5000"},
		},
		{name: "no key", data: map[string]string{"other": "x"}, wantErr: true},
		{name: "not yaml", data: map[string]string{"localRegistryHosting.v1": "host: [unclosed"}, wantErr: true},
		{name: "no host", data: map[string]string{"localRegistryHosting.v1": "help: x\n"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLocalRegistryHosting(tc.data)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseLocalRegistryHosting() error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseLocalRegistryHosting() (-want +got):\n%s", diff)
			}
		})
	}
}
