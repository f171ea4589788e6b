package build

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestTagFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		digest  v1.Hash
		want    string
		wantErr bool
	}{{
		name:   "sha256 digest gives its first 16 hex digits",
		digest: v1.Hash{Algorithm: "sha256", Hex: "5f2c0e8d9a1b4c3d2e1f00112233445566778899aabbccddeeff001122334455"},
		want:   "5f2c0e8d9a1b4c3d",
	}, {
		name:    "zero digest is refused",
		wantErr: true,
	}, {
		name:    "short hex is refused",
		digest:  v1.Hash{Algorithm: "sha256", Hex: "abc"},
		wantErr: true,
	}, {
		name:    "other algorithms are refused",
		digest:  v1.Hash{Algorithm: "sha512", Hex: "5f2c0e8d9a1b4c3d2e1f00112233445566778899aabbccddeeff001122334455"},
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TagFor(tc.digest)
			if (err != nil) != tc.wantErr {
				t.Fatalf("TagFor(%v) error = %v, wantErr %v", tc.digest, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("TagFor(%v) = %q, want %q", tc.digest, got, tc.want)
			}
		})
	}
}

func TestRefFor(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}
	for _, tc := range []struct {
		repo     string
		wantName string
		wantHTTP bool
	}{
		{repo: "flask-redis-app", wantName: "index.docker.io/library/flask-redis-app:0011223344556677"},
		{repo: "127.0.0.1:5001/app", wantName: "127.0.0.1:5001/app:0011223344556677", wantHTTP: true},
		{repo: "localhost:5000/team/web", wantName: "localhost:5000/team/web:0011223344556677", wantHTTP: true},
		{repo: "registry.example.com/web", wantName: "registry.example.com/web:0011223344556677"},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			ref, err := refFor(tc.repo, d, isLocalRegistry(tc.repo))
			if err != nil {
				t.Fatalf("refFor(%q) error = %v", tc.repo, err)
			}
			if ref.Name() != tc.wantName {
				t.Errorf("refFor(%q).Name() = %q, want %q", tc.repo, ref.Name(), tc.wantName)
			}
			if got := ref.Scheme() == "http"; got != tc.wantHTTP {
				t.Errorf("refFor(%q).Scheme() = %q, want http = %v", tc.repo, ref.Scheme(), tc.wantHTTP)
			}
		})
	}
}
