package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testdataDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// defaulted returns what every loaded config holds when the file is silent.
func defaulted(dir, file string, profiles ...string) Config {
	return Config{
		APIVersion:     APIVersion,
		Kind:           Kind,
		Name:           "testdata",
		Deploy:         Deploy{RolloutTimeout: DefaultRolloutTimeout},
		Target:         Target{Type: TargetAuto, Containerd: ContainerdTarget{Namespace: DefaultContainerdNamespace}},
		Build:          Build{Buildkit: DefaultBuildkit, Concurrency: DefaultBuildConcurrency},
		File:           filepath.Join(dir, file),
		Dir:            dir,
		ActiveProfiles: profiles,
	}
}

func TestLoadValid(t *testing.T) {
	dir := testdataDir(t)
	app := Artifact{Image: "app", Context: filepath.Join(dir, "app"), Dockerfile: filepath.Join(dir, "app", "Dockerfile")}
	profiles := []Profile{{
		Name: "dev",
		Artifacts: []Artifact{
			{Image: "app", Dockerfile: "Dockerfile.dev", BuildArgs: map[string]string{"DEBUG": "1"}},
			{Image: "api", Context: "api"},
		},
		Deploy:      &Deploy{Namespace: "shop-dev"},
		PortForward: []PortForward{{Resource: "deployment/api", Port: 9090}},
	}, {
		Name:   "registry",
		Target: &Target{Type: TargetRegistry, Registry: RegistryTarget{Host: "localhost:5001"}},
	}}

	tests := []struct {
		name     string
		file     string
		profiles []string
		want     func(c *Config)
	}{{
		name: "minimal",
		file: "valid-minimal.yaml",
		want: func(c *Config) { c.Artifacts = []Artifact{app} },
	}, {
		name: "full",
		file: "valid-full.yaml",
		want: func(c *Config) {
			c.Name = "shop"
			c.Artifacts = []Artifact{{
				Image:      "app",
				Context:    filepath.Join(dir, "app"),
				Dockerfile: filepath.Join(dir, "app", "Dockerfile.dev"),
				Target:     "dev",
				BuildArgs:  map[string]string{"VERSION": "1.2", "GOPROXY": "https://proxy.golang.org"},
				Platform:   "linux/amd64",
				Ignore:     []string{"*.md", "!README.md"},
			}, {
				Image:      "registry.local:5000/team/api",
				Context:    filepath.Join(dir, "api"),
				Dockerfile: filepath.Join(dir, "api", "Dockerfile"),
			}}
			c.Deploy = Deploy{
				Manifests: []string{filepath.Join(dir, "k8s", "deployment.yaml"), filepath.Join(dir, "k8s", "*.yaml")},
				Namespace: "shop-dev",
				ImagePaths: []ImagePath{
					{Kind: "Rollout", Path: "{.spec.template.spec.containers[*].image}"},
					{Kind: "Workflow", Path: "{.spec.templates[*].container.image}"},
				},
				RolloutTimeout: 2*time.Minute + 30*time.Second,
			}
			c.Target = Target{
				Type:       TargetKind,
				Kind:       KindTarget{Cluster: "dev"},
				Containerd: ContainerdTarget{Address: "/run/k3s/containerd/containerd.sock", Namespace: "k8s.io"},
				Registry:   RegistryTarget{Host: "localhost:5001", Insecure: true},
				Docker:     DockerTarget{Host: "unix:///var/run/docker.sock"},
			}
			c.Build = Build{Buildkit: "docker-container://buildkitd", Concurrency: 2}
			c.PortForward = []PortForward{
				{Resource: "service/app", Port: 80, LocalPort: 8080, Address: "127.0.0.1"},
				{Resource: "deployment/api", Namespace: "backend", Port: 9090, LocalPort: 9090, Address: "0.0.0.0"},
			}
			c.AllowContexts = []string{"gke_shop_europe-west1_dev"}
		},
	}, {
		name: "anchors and merge keys",
		file: "valid-anchors.yaml",
		want: func(c *Config) {
			c.Artifacts = []Artifact{{
				Image: "app", Context: app.Context, Dockerfile: app.Dockerfile,
				BuildArgs: map[string]string{"MODE": "dev"},
			}, {
				Image: "api", Context: filepath.Join(dir, "api"), Dockerfile: filepath.Join(dir, "api", "Dockerfile"),
				BuildArgs: map[string]string{"MODE": "dev", "EXTRA": "yes"},
			}}
			c.Deploy.Kustomize = filepath.Join(dir, "kustomize")
		},
	}, {
		name: "profiles declared, none active",
		file: "valid-profiles.yaml",
		want: func(c *Config) {
			c.Artifacts = []Artifact{{Image: "app", Context: app.Context, Dockerfile: app.Dockerfile, BuildArgs: map[string]string{"MODE": "prod"}}}
			c.Deploy.Manifests = []string{filepath.Join(dir, "k8s")}
			c.Deploy.Namespace = "shop"
			c.PortForward = []PortForward{{Resource: "service/app", Port: 80, LocalPort: 80, Address: "127.0.0.1"}}
			c.Profiles = profiles
		},
	}, {
		name:     "profile merges artifacts by image and replaces lists",
		file:     "valid-profiles.yaml",
		profiles: []string{"dev"},
		want: func(c *Config) {
			c.Artifacts = []Artifact{{
				Image: "app", Context: app.Context, Dockerfile: filepath.Join(dir, "app", "Dockerfile.dev"),
				BuildArgs: map[string]string{"MODE": "prod", "DEBUG": "1"},
			}, {
				Image: "api", Context: filepath.Join(dir, "api"), Dockerfile: filepath.Join(dir, "api", "Dockerfile"),
			}}
			c.Deploy.Manifests = []string{filepath.Join(dir, "k8s")}
			c.Deploy.Namespace = "shop-dev"
			c.PortForward = []PortForward{{Resource: "deployment/api", Port: 9090, LocalPort: 9090, Address: "127.0.0.1"}}
			c.Profiles = profiles
		},
	}, {
		name:     "profiles apply in order",
		file:     "valid-profiles.yaml",
		profiles: []string{"registry", "dev"},
		want: func(c *Config) {
			c.Artifacts = []Artifact{{
				Image: "app", Context: app.Context, Dockerfile: filepath.Join(dir, "app", "Dockerfile.dev"),
				BuildArgs: map[string]string{"MODE": "prod", "DEBUG": "1"},
			}, {
				Image: "api", Context: filepath.Join(dir, "api"), Dockerfile: filepath.Join(dir, "api", "Dockerfile"),
			}}
			c.Deploy.Manifests = []string{filepath.Join(dir, "k8s")}
			c.Deploy.Namespace = "shop-dev"
			c.Target.Type = TargetRegistry
			c.Target.Registry.Host = "localhost:5001"
			c.PortForward = []PortForward{{Resource: "deployment/api", Port: 9090, LocalPort: 9090, Address: "127.0.0.1"}}
			c.Profiles = profiles
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			got, err := Load(path, tc.profiles...)
			if err != nil {
				t.Fatalf("Load(%q, %q) = %v", path, tc.profiles, err)
			}
			want := defaulted(dir, tc.file, tc.profiles...)
			tc.want(&want)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("Load(%q, %q) mismatch (-want +got):\n%s", path, tc.profiles, diff)
			}
		})
	}
}

// TestLoadAllValid loads every valid file, including ones added later
// without a table entry.
func TestLoadAllValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Errorf("Load(%q) = %v, want nil error", f, err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devloop.yaml")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(%q) = %v, want an error wrapping fs.ErrNotExist", path, err)
	}
	if len(Errors(err)) != 0 {
		t.Errorf("Errors(Load(%q)) = %v, want none for a missing file", path, Errors(err))
	}
}

// TestParseAliasBomb checks that anchors cannot blow up into an enormous
// document ("billion laughs").
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: devloop.dev/v1alpha1\nkind: Config\nl0: &a0 [lol]\n")
	for i := 1; i < 12; i++ {
		ref := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "l%d: &a%d [%s]\n", i, i, strings.Repeat(ref+",", 9)+ref)
	}
	_, err := Parse("bomb.yaml", []byte(b.String()), t.TempDir())
	const want = "document too large"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Parse(bomb.yaml) = %v, want an error containing %q", err, want)
	}
}

func TestParseDefaultName(t *testing.T) {
	tests := []struct {
		dir  string
		want string
	}{
		{dir: "/src/shop", want: "shop"},
		{dir: "/src/My Project_2", want: "my-project-2"},
		{dir: "/src/--x--", want: "x"},
		{dir: "/src/" + strings.Repeat("a", 70), want: strings.Repeat("a", 63)},
		{dir: "/", want: "devloop"},
		{dir: "/src/日本", want: "devloop"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			if got := nameFromDir(tc.dir); got != tc.want {
				t.Errorf("nameFromDir(%q) = %q, want %q", tc.dir, got, tc.want)
			}
		})
	}
}

func TestParseResolvesAgainstBaseDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "svc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "svc", "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := []byte("apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: svc\n    context: svc\n")
	cfg, err := Parse("devloop.yaml", data, dir)
	if err != nil {
		t.Fatalf("Parse(devloop.yaml) = %v", err)
	}
	want := Artifact{Image: "svc", Context: filepath.Join(dir, "svc"), Dockerfile: filepath.Join(dir, "svc", "Dockerfile")}
	if diff := cmp.Diff([]Artifact{want}, cfg.Artifacts); diff != "" {
		t.Errorf("Parse(devloop.yaml).Artifacts mismatch (-want +got):\n%s", diff)
	}
	if got, want := cfg.Name, nameFromDir(dir); got != want {
		t.Errorf("Parse(devloop.yaml).Name = %q, want %q", got, want)
	}
}
