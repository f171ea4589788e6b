package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// schemaVerdict says what the JSON Schema must make of an invalid file.
type schemaVerdict int

const (
	// schemaAccepts: the problem needs the filesystem or cross-field
	// checks, so the schema must let the file through.
	schemaAccepts schemaVerdict = iota
	// schemaRejects: an editor using the schema flags the file too.
	schemaRejects
	// schemaSkip: not one JSON document (several documents, bad YAML).
	schemaSkip
)

// invalidCase is one testdata/invalid-*.yaml file (or a valid file loaded
// with a profile that breaks it) and the exact error Load must return.
type invalidCase struct {
	file     string
	profiles []string
	want     string
	schema   schemaVerdict
}

func invalidCases() []invalidCase {
	return []invalidCase{{
		file:   "invalid-unknown-field.yaml",
		want:   `testdata/invalid-unknown-field.yaml:6: artifacts[0].dockerFile: unknown field (did you mean "dockerfile"?)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-wrong-type.yaml",
		want:   `testdata/invalid-wrong-type.yaml:4: build.concurrency: expected an integer, got string "four"`,
		schema: schemaRejects,
	}, {
		file:   "invalid-string-type.yaml",
		want:   `testdata/invalid-string-type.yaml:7: artifacts[0].buildArgs.VERSION: expected a string, got number 1.2 (quote it: "1.2")`,
		schema: schemaRejects,
	}, {
		file:   "invalid-missing-required.yaml",
		want:   `testdata/invalid-missing-required.yaml:6: artifacts[1].image: missing required field`,
		schema: schemaRejects,
	}, {
		file:   "invalid-missing-kind.yaml",
		want:   `testdata/invalid-missing-kind.yaml:1: kind: missing required field`,
		schema: schemaRejects,
	}, {
		file:   "invalid-api-version.yaml",
		want:   `testdata/invalid-api-version.yaml:1: apiVersion: unsupported apiVersion "devloop.dev/v1beta1" (want devloop.dev/v1alpha1)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-kind.yaml",
		want:   `testdata/invalid-kind.yaml:2: kind: unsupported kind "Cluster" (want Config)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-not-mapping.yaml",
		want:   `testdata/invalid-not-mapping.yaml:1: expected a mapping, got a list`,
		schema: schemaRejects,
	}, {
		file:   "invalid-empty.yaml",
		want:   `testdata/invalid-empty.yaml: empty file (want apiVersion: devloop.dev/v1alpha1 and kind: Config)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-yaml-syntax.yaml",
		want:   `testdata/invalid-yaml-syntax.yaml:3: invalid YAML: did not find expected '-' indicator`,
		schema: schemaSkip,
	}, {
		file:   "invalid-multi-doc.yaml",
		want:   `testdata/invalid-multi-doc.yaml:4: more than one YAML document (the file holds exactly one)`,
		schema: schemaSkip,
	}, {
		file:   "invalid-duplicate-key.yaml",
		want:   `testdata/invalid-duplicate-key.yaml:5: deploy.namespace: duplicate key (first at line 4)`,
		schema: schemaAccepts, // the last key wins in JSON; editors flag it as YAML
	}, {
		file:   "invalid-duplicate-image.yaml",
		want:   `testdata/invalid-duplicate-image.yaml:6: artifacts[1].image: duplicate image "app" (first in artifacts[0])`,
		schema: schemaAccepts,
	}, {
		file:   "invalid-duplicate-profile.yaml",
		want:   `testdata/invalid-duplicate-profile.yaml:7: profiles[1].name: duplicate profile "dev" (first at line 4)`,
		schema: schemaAccepts,
	}, {
		file:   "invalid-context-missing.yaml",
		want:   `testdata/invalid-context-missing.yaml:14: artifacts[1].context: directory "web" does not exist`,
		schema: schemaAccepts,
	}, {
		file: "invalid-dockerfile-missing.yaml",
		want: `testdata/invalid-dockerfile-missing.yaml:6: artifacts[0].dockerfile: file "Dockerfile.prod" does not exist in context "app"` + "\n" +
			`testdata/invalid-dockerfile-missing.yaml:7: artifacts[1].dockerfile: file "Dockerfile" does not exist in context "k8s"`,
		schema: schemaAccepts,
	}, {
		file:   "invalid-target-type.yaml",
		want:   `testdata/invalid-target-type.yaml:4: target.type: unknown target type "minikube" (want auto, docker, kind, containerd, registry)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-duration.yaml",
		want:   `testdata/invalid-duration.yaml:4: deploy.rolloutTimeout: invalid duration "5 minutes" (want a Go duration such as 90s, 5m or 1h30m)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-port-range.yaml",
		want:   `testdata/invalid-port-range.yaml:5: portForward[0].port: port 70000 is out of range 1-65535`,
		schema: schemaRejects,
	}, {
		file:   "invalid-forward-conflict.yaml",
		want:   `testdata/invalid-forward-conflict.yaml:6: portForward[1].localPort: local address 127.0.0.1:8080 already used by portForward[0]`,
		schema: schemaAccepts,
	}, {
		file: "invalid-resource.yaml",
		want: `testdata/invalid-resource.yaml:4: portForward[0].resource: invalid resource "web" (want TYPE/NAME such as service/web)` + "\n" +
			`testdata/invalid-resource.yaml:6: portForward[1].resource: unsupported resource type "job" (want service, deployment, statefulset, daemonset, replicaset or pod)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-image-tag.yaml",
		want:   `testdata/invalid-image-tag.yaml:4: artifacts[0].image: image "app:dev" must not have a tag or digest (devloop tags images by content)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-image-name.yaml",
		want:   `testdata/invalid-image-name.yaml:4: artifacts[0].image: invalid image name "My_App"`,
		schema: schemaRejects,
	}, {
		file:   "invalid-platform.yaml",
		want:   `testdata/invalid-platform.yaml:6: artifacts[0].platform: invalid platform "amd64" (want os/arch[/variant] such as linux/amd64)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-ignore-pattern.yaml",
		want:   `testdata/invalid-ignore-pattern.yaml:7: artifacts[0].ignore[0]: invalid pattern "[z-a": syntax error in pattern`,
		schema: schemaAccepts,
	}, {
		file:   "invalid-buildkit.yaml",
		want:   `testdata/invalid-buildkit.yaml:4: build.buildkit: invalid buildkit "localhost:1234" (want auto, docker or an address such as unix:///run/buildkit/buildkitd.sock)`,
		schema: schemaRejects,
	}, {
		file: "invalid-manifest-glob.yaml",
		want: `testdata/invalid-manifest-glob.yaml:5: deploy.manifests[0]: pattern "k8s/*.yml" matches no files` + "\n" +
			`testdata/invalid-manifest-glob.yaml:6: deploy.manifests[1]: file or directory "manifests" does not exist`,
		schema: schemaAccepts,
	}, {
		file:   "invalid-kustomize.yaml",
		want:   `testdata/invalid-kustomize.yaml:4: deploy.kustomize: directory "plain" has no kustomization.yaml`,
		schema: schemaAccepts,
	}, {
		file:   "invalid-namespace.yaml",
		want:   `testdata/invalid-namespace.yaml:4: deploy.namespace: invalid namespace "Shop_Dev" (want lowercase letters, digits and '-', at most 63 characters)`,
		schema: schemaRejects,
	}, {
		file:   "invalid-image-path.yaml",
		want:   `testdata/invalid-image-path.yaml:6: deploy.imagePaths[0].path: invalid JSONPath "{.spec.containers[*.image}": unterminated array`,
		schema: schemaAccepts,
	}, {
		file: "invalid-many.yaml",
		want: `testdata/invalid-many.yaml:3: artifact: unknown field (did you mean "artifacts"?)` + "\n" +
			`testdata/invalid-many.yaml:6: target.type: expected a string, got integer 3 (quote it: "3")` + "\n" +
			`testdata/invalid-many.yaml:9: portForward[0].port: expected an integer, got string "80"`,
		schema: schemaRejects,
	}, {
		file:   "invalid-profile-unknown-field.yaml",
		want:   `testdata/invalid-profile-unknown-field.yaml:5: profiles[0].build: unknown field`,
		schema: schemaRejects,
	}, {
		file:     "invalid-profile-context.yaml",
		profiles: []string{"broken"},
		want:     `testdata/invalid-profile-context.yaml:11: artifacts[0].context: directory "missing" does not exist`,
		schema:   schemaAccepts,
	}, {
		file:     "valid-profiles.yaml",
		profiles: []string{"dev", "prod"},
		want:     `testdata/valid-profiles.yaml:16: profiles: no profile named "prod" (have dev, registry)`,
		schema:   schemaAccepts,
	}, {
		file:     "valid-minimal.yaml",
		profiles: []string{"dev"},
		want:     `testdata/valid-minimal.yaml: profiles: no profile named "dev" (the file declares no profiles)`,
		schema:   schemaAccepts,
	}}
}

func TestLoadInvalid(t *testing.T) {
	for _, tc := range invalidCases() {
		t.Run(strings.Join(append([]string{tc.file}, tc.profiles...), "+"), func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			cfg, err := Load(path, tc.profiles...)
			if err == nil {
				t.Fatalf("Load(%q, %q) = %+v, nil, want error %q", path, tc.profiles, cfg, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Load(%q, %q) error =\n%s\nwant\n%s", path, tc.profiles, got, tc.want)
			}
			if cfg != nil {
				t.Errorf("Load(%q, %q) config = %+v, want nil on error", path, tc.profiles, cfg)
			}
			// Each problem stays a *Error the CLI can turn into an event.
			errs := Errors(err)
			if got, want := len(errs), strings.Count(tc.want, "\n")+1; got != want {
				t.Errorf("len(Errors(Load(%q))) = %d, want %d", path, got, want)
			}
			for _, e := range errs {
				if e.File != path {
					t.Errorf("Errors(Load(%q))[i].File = %q, want %q", path, e.File, path)
				}
				// yaml's syntax errors carry a line only.
				if e.Line > 0 && e.Column == 0 && !strings.HasPrefix(e.Msg, "invalid YAML") {
					t.Errorf("Errors(Load(%q)) %q has a line but no column", path, e)
				}
			}
		})
	}
}

// TestInvalidFilesCovered keeps testdata and the table above in step: an
// invalid file without an expected message would test nothing.
func TestInvalidFilesCovered(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var covered []string
	for _, tc := range invalidCases() {
		covered = append(covered, tc.file)
	}
	for _, f := range files {
		if !slices.Contains(covered, filepath.Base(f)) {
			t.Errorf("%s has no entry in invalidCases", f)
		}
	}
	if len(files) < 14 {
		t.Errorf("len(testdata/invalid-*.yaml) = %d, want at least 14", len(files))
	}
}
