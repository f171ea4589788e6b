package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromImages(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dockerfile string
		args       map[string]string
		want       []string
	}{{
		name:       "single FROM",
		dockerfile: "FROM python:3.11-slim\nRUN true\n",
		want:       []string{"python:3.11-slim"},
	}, {
		name:       "platform flag and stage name",
		dockerfile: "FROM --platform=$BUILDPLATFORM golang:1.26 AS build\nFROM base\n",
		want:       []string{"golang:1.26", "base"},
	}, {
		name:       "earlier stages are not images",
		dockerfile: "FROM base AS deps\nFROM deps AS test\nFROM DEPS\nFROM scratch\n",
		want:       []string{"base"},
	}, {
		name:       "lowercase instruction and continuation",
		dockerfile: "# comment\nfrom \\\n  base-image:dev as x\n",
		want:       []string{"base-image:dev"},
	}, {
		name:       "ARG default before FROM",
		dockerfile: "ARG BASE=flask-base\nARG TAG\nFROM ${BASE}$TAG\n",
		want:       []string{"flask-base"},
	}, {
		name:       "build arg overrides ARG default",
		dockerfile: "ARG BASE=flask-base\nFROM $BASE\n",
		args:       map[string]string{"BASE": "other-base"},
		want:       []string{"other-base"},
	}, {
		name:       "ARG after FROM does not reach later FROMs",
		dockerfile: "FROM a\nARG B=b\nFROM ${B:-c}\n",
		want:       []string{"a", "c"},
	}, {
		name:       "duplicates once",
		dockerfile: "FROM a AS one\nFROM a AS two\n",
		want:       []string{"a"},
	}, {
		name:       "escape directive",
		dockerfile: "# escape=`\nFROM `\n  base\n",
		want:       []string{"base"},
	}, {
		name:       "unparsable Dockerfile gives nothing",
		dockerfile: "FROM a\nRUN <<EOF\n" + strings.Repeat("x", 10) + "\n", // heredoc without its end
		want:       nil,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := fromImages([]byte(tc.dockerfile), tc.args)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("fromImages(%q) mismatch (-want +got):\n%s", tc.dockerfile, diff)
			}
		})
	}
}

func TestMatchDependencies(t *testing.T) {
	artifacts := []string{"flask-base", "localhost:5000/team/web"}
	for _, tc := range []struct {
		name   string
		images []string
		want   []dependency
	}{{
		name:   "plain name",
		images: []string{"flask-base"},
		want:   []dependency{{artifact: "flask-base", contextName: "flask-base"}},
	}, {
		name:   "latest is dropped from the context name",
		images: []string{"flask-base:latest", "docker.io/library/flask-base"},
		want: []dependency{
			{artifact: "flask-base", contextName: "flask-base"},
			{artifact: "flask-base", contextName: "flask-base"},
		},
	}, {
		name:   "other tags are kept",
		images: []string{"flask-base:dev"},
		want:   []dependency{{artifact: "flask-base", contextName: "flask-base:dev"}},
	}, {
		name:   "registry names",
		images: []string{"localhost:5000/team/web"},
		want:   []dependency{{artifact: "localhost:5000/team/web", contextName: "localhost:5000/team/web"}},
	}, {
		name:   "digests pin an exact image",
		images: []string{"flask-base@sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
	}, {
		name:   "other images",
		images: []string{"python:3.11-slim", "team/web", "Not A Ref"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := matchDependencies(tc.images, artifacts)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(dependency{})); diff != "" {
				t.Errorf("matchDependencies(%q) mismatch (-want +got):\n%s", tc.images, diff)
			}
		})
	}
}

func TestTopoOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keys    []string
		deps    map[string][]string
		want    []string
		wantErr string
	}{{
		name: "independent artifacts keep their order",
		keys: []string{"b", "a", "c"},
		want: []string{"b", "a", "c"},
	}, {
		name: "bases first",
		keys: []string{"app", "worker", "base", "root"},
		deps: map[string][]string{"app": {"base"}, "worker": {"base"}, "base": {"root"}},
		want: []string{"root", "base", "app", "worker"},
	}, {
		name:    "cycle",
		keys:    []string{"a", "b", "c"},
		deps:    map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}},
		wantErr: "artifacts depend on each other: a -> b -> c -> a",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := topoOrder(tc.keys, tc.deps)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("topoOrder() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("topoOrder() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("topoOrder() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDependencies(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "Dockerfile"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	specs := []Spec{
		{Name: "app", Context: write("app", "FROM base\nCOPY . /app\n")},
		{Name: "base", Context: write("base", "FROM python:3.11-slim\n")},
		{Name: "self", Context: write("self", "FROM self:old\n")},
	}
	got, err := Dependencies(specs)
	if err != nil {
		t.Fatalf("Dependencies() error = %v", err)
	}
	want := map[string][]string{"app": {"base"}, "base": nil, "self": nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dependencies() mismatch (-want +got):\n%s", diff)
	}

	if _, err := Dependencies(append(specs, Spec{Name: "docker.io/library/app", Context: dir})); err == nil {
		t.Errorf("Dependencies() with a duplicate artifact: no error")
	}
}
