package build

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/devloop/devloop/pkg/sideload"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const testHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func TestFrontendAttrs(t *testing.T) {
	h := v1.Hash{Algorithm: "sha256", Hex: testHex}
	spec := Spec{
		Name: "app", Target: "prod", Platform: "linux/amd64",
		BuildArgs: map[string]string{"VERSION": "1", "EMPTY": ""},
	}
	deps := []depImage{
		{artifact: "base", contextName: "base", img: sideload.Image{Ref: name.MustParseReference("base:0011223344556677").(name.Tag), Digest: h, LayoutDir: "/c/base/layout"}},
		{artifact: "tools", contextName: "tools:dev", img: sideload.Image{Ref: name.MustParseReference("tools:0011223344556677").(name.Tag), Digest: h, InDaemon: true}},
		{artifact: "lib", contextName: "lib", img: sideload.Image{Ref: name.MustParseReference("127.0.0.1:5001/lib:0011223344556677").(name.Tag), Digest: h}},
	}
	got := frontendAttrs(spec, "app.Dockerfile", deps, true)
	want := map[string]string{
		"filename":           "app.Dockerfile",
		"target":             "prod",
		"platform":           "linux/amd64",
		"build-arg:VERSION":  "1",
		"build-arg:EMPTY":    "",
		"image-resolve-mode": "local",
		"context:base":       "oci-layout://base@sha256:" + testHex,
		"context:lib":        "docker-image://127.0.0.1:5001/lib@sha256:" + testHex,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frontendAttrs() mismatch (-want +got):\n%s", diff)
	}
	if got := frontendAttrs(Spec{Name: "x"}, "Dockerfile", nil, false); !cmp.Equal(got, map[string]string{"filename": "Dockerfile"}) {
		t.Errorf("frontendAttrs(minimal) = %v, want only filename", got)
	}
}

func TestExports(t *testing.T) {
	for _, tc := range []struct {
		out      Output
		insecure bool
		want     []client.ExportEntry
	}{
		{out: OutputLayout, want: []client.ExportEntry{{Type: "oci", Attrs: map[string]string{"tar": "false"}}}},
		{out: OutputDaemon, want: []client.ExportEntry{{Type: "moby", Attrs: map[string]string{}}}},
		{out: OutputRegistry, insecure: true, want: []client.ExportEntry{{Type: "image", Attrs: map[string]string{
			"name": "127.0.0.1:5001/app", "push": "true", "push-by-digest": "true", "registry.insecure": "true"}}}},
		{out: OutputRegistry, want: []client.ExportEntry{{Type: "image", Attrs: map[string]string{
			"name": "127.0.0.1:5001/app", "push": "true", "push-by-digest": "true"}}}},
	} {
		t.Run(string(tc.out), func(t *testing.T) {
			got := exports(tc.out, "127.0.0.1:5001/app", tc.insecure, nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("exports(%q) mismatch (-want +got):\n%s", tc.out, diff)
			}
		})
	}
}

func TestExportedImage(t *testing.T) {
	d := digest.Digest("sha256:" + testHex)
	desc := ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: d, Size: 123}
	dt, _ := json.Marshal(desc)
	other, _ := json.Marshal(ocispecs.Descriptor{Digest: digest.FromString("other")})
	want := v1.Hash{Algorithm: "sha256", Hex: testHex}
	for _, tc := range []struct {
		name     string
		resp     map[string]string
		wantDesc bool
		wantErr  bool
	}{
		{name: "oci exporter", resp: map[string]string{"containerimage.digest": d.String(), "containerimage.descriptor": base64.StdEncoding.EncodeToString(dt)}, wantDesc: true},
		{name: "moby exporter, classic store", resp: map[string]string{"containerimage.config.digest": d.String()}},
		{name: "manifest digest wins", resp: map[string]string{"containerimage.digest": d.String(), "containerimage.config.digest": digest.FromString("c").String()}},
		{name: "nothing", resp: map[string]string{"image.name": "x"}, wantErr: true},
		{name: "bad digest", resp: map[string]string{"containerimage.digest": "sha256:zz"}, wantErr: true},
		{name: "descriptor of another image", resp: map[string]string{"containerimage.digest": d.String(), "containerimage.descriptor": base64.StdEncoding.EncodeToString(other)}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, gotDesc, err := exportedImage(tc.resp)
			if (err != nil) != tc.wantErr {
				t.Fatalf("exportedImage() error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got != want {
				t.Errorf("exportedImage() = %v, want %v", got, want)
			}
			if (gotDesc != nil) != tc.wantDesc {
				t.Errorf("exportedImage() descriptor = %v, want one: %v", gotDesc, tc.wantDesc)
			}
			if gotDesc != nil && gotDesc.Size != 123 {
				t.Errorf("exportedImage() descriptor size = %d, want 123", gotDesc.Size)
			}
		})
	}
}

func TestSecretValues(t *testing.T) {
	env := map[string]string{"TOKEN": "s3cret"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := secretValues(map[string]string{"token": "TOKEN"}, lookup)
	if err != nil {
		t.Fatalf("secretValues() error = %v", err)
	}
	if diff := cmp.Diff(map[string][]byte{"token": []byte("s3cret")}, got); diff != "" {
		t.Errorf("secretValues() mismatch (-want +got):\n%s", diff)
	}
	_, err = secretValues(map[string]string{"token": "TOKEN", "npm": "NPM_TOKEN"}, lookup)
	if err == nil || err.Error() != "secret npm: environment variable NPM_TOKEN is not set" {
		t.Errorf("secretValues(missing) error = %v, want the missing variable named", err)
	}
}

func TestContainerdName(t *testing.T) {
	for in, want := range map[string]string{
		"app:0011":                "docker.io/library/app:0011",
		"team/app:0011":           "docker.io/team/app:0011",
		"127.0.0.1:5001/app:0011": "127.0.0.1:5001/app:0011",
		"registry.local/a/b:0011": "registry.local/a/b:0011",
	} {
		got, err := containerdName(in)
		if err != nil || got != want {
			t.Errorf("containerdName(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		spec    Spec
		wantErr bool
	}{
		{spec: Spec{Name: "app", Context: "."}},
		{spec: Spec{Name: "localhost:5000/team/app", Context: "."}},
		{spec: Spec{Context: "."}, wantErr: true},
		{spec: Spec{Name: "app:v1", Context: "."}, wantErr: true},
		{spec: Spec{Name: "App", Context: "."}, wantErr: true},
		{spec: Spec{Name: "app"}, wantErr: true},
	} {
		if err := tc.spec.validate(); (err != nil) != tc.wantErr {
			t.Errorf("Spec{Name: %q}.validate() = %v, wantErr %v", tc.spec.Name, err, tc.wantErr)
		}
	}
}
