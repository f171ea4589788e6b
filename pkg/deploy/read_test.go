package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// described lists objects as "kind/name (source)".
func described(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, u := range objs {
		out = append(out, describe(u))
	}
	return out
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		sources []string
		want    []string
	}{{
		name:    "single file",
		sources: []string{"testdata/single.yaml"},
		want:    []string{"deployment/web (testdata/single.yaml:1)"},
	}, {
		name:    "multi-document file with empty documents and lists",
		sources: []string{"testdata/multi.yaml"},
		want: []string{
			"configmap/first (testdata/multi.yaml:3)",
			"service/listed-svc (testdata/multi.yaml:13)",
			"secret/listed-secret (testdata/multi.yaml:13)",
			"configmap/typed-list-item (testdata/multi.yaml:27)",
			"configmap/last (testdata/multi.yaml:33)",
		},
	}, {
		name:    "directory: sorted, yaml/yml/json only, not recursive",
		sources: []string{"testdata/dir"},
		want: []string{
			"configmap/a (testdata/dir/a.yaml:1)",
			"configmap/b (testdata/dir/b.yml:1)",
			"configmap/c (testdata/dir/c.json:1)",
		},
	}, {
		name:    "glob",
		sources: []string{"testdata/glob/*.yaml"},
		want: []string{
			"serviceaccount/one (testdata/glob/one.yaml:1)",
			"serviceaccount/two (testdata/glob/two.yaml:1)",
		},
	}, {
		name:    "kustomize directory",
		sources: []string{"testdata/kustomize"},
		want: []string{
			"deployment/dev-api (testdata/kustomize)",
			"configmap/dev-settings (testdata/kustomize)",
		},
	}, {
		name:    "several sources keep their order",
		sources: []string{"testdata/single.yaml", "testdata/glob/t*.y*ml"},
		want: []string{
			"deployment/web (testdata/single.yaml:1)",
			"serviceaccount/three (testdata/glob/three.yml:1)",
			"serviceaccount/two (testdata/glob/two.yaml:1)",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Read(context.Background(), tc.sources)
			if err != nil {
				t.Fatalf("Read(%q) error: %v", tc.sources, err)
			}
			if diff := cmp.Diff(tc.want, described(objs)); diff != "" {
				t.Errorf("Read(%q) objects (-want +got):\n%s", tc.sources, diff)
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	objs, err := Read(context.Background(), []string{"testdata/single.yaml", "testdata/kustomize"})
	if err != nil {
		t.Fatal(err)
	}
	// Numbers decode as int64, as the API machinery expects.
	if got, _, _ := unstructured.NestedInt64(objs[0].Object, "spec", "replicas"); got != 1 {
		t.Errorf("replicas = %v, want int64 1", objs[0].Object["spec"].(map[string]interface{})["replicas"])
	}
	// Kustomize transformations are applied.
	var dep *unstructured.Unstructured
	for _, u := range objs {
		if u.GetName() == "dev-api" {
			dep = u
		}
	}
	if dep == nil || dep.GetLabels()["tier"] != "backend" {
		t.Errorf("kustomize output = %v, want dev-api labelled tier=backend", described(objs))
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name     string
		sources  []string
		wantFile string
		wantDoc  int
		wantLine int
		wantText string
	}{
		{name: "syntax error names file, document and line", sources: []string{"testdata/invalid/bad-syntax.yaml"},
			wantFile: "testdata/invalid/bad-syntax.yaml", wantDoc: 2, wantLine: 10, wantText: "yaml"},
		{name: "missing kind", sources: []string{"testdata/invalid/no-kind.yaml"},
			wantFile: "testdata/invalid/no-kind.yaml", wantDoc: 2, wantLine: 6, wantText: "apiVersion and kind are required"},
		{name: "not a mapping", sources: []string{"testdata/invalid/scalar.yaml"},
			wantFile: "testdata/invalid/scalar.yaml", wantDoc: 1, wantLine: 1, wantText: "not a mapping"},
		{name: "missing name", sources: []string{"testdata/invalid/no-name.yaml"},
			wantFile: "testdata/invalid/no-name.yaml", wantDoc: 1, wantLine: 1, wantText: "metadata.name is required"},
		{name: "broken kustomization", sources: []string{"testdata/invalid/bad-kustomize"},
			wantFile: "testdata/invalid/bad-kustomize", wantText: "kustomize build"},
		{name: "missing file", sources: []string{"testdata/nope.yaml"}, wantText: "testdata/nope.yaml"},
		{name: "glob matching nothing", sources: []string{"testdata/*.nope"}, wantText: `no files match "testdata/*.nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(context.Background(), tc.sources)
			if err == nil {
				t.Fatalf("Read(%q) = nil error, want one", tc.sources)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Read(%q) error = %q, want it to contain %q", tc.sources, err, tc.wantText)
			}
			if tc.wantFile == "" {
				return
			}
			var me *ManifestError
			if !errors.As(err, &me) {
				t.Fatalf("Read(%q) error %v is not a *ManifestError", tc.sources, err)
			}
			got := [3]interface{}{me.File, me.Doc, me.Line}
			want := [3]interface{}{tc.wantFile, tc.wantDoc, tc.wantLine}
			if got != want {
				t.Errorf("Read(%q) error location (file, doc, line) = %v, want %v (error: %v)", tc.sources, got, want, err)
			}
		})
	}
}

func TestReadEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# not a manifest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(context.Background(), []string{dir})
	if err == nil || !strings.Contains(err.Error(), "no *.yaml, *.yml or *.json files") {
		t.Errorf("Read(dir without manifests) error = %v, want one saying there are no manifest files", err)
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, []string{"testdata/dir"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Read(cancelled ctx) error = %v, want context.Canceled", err)
	}
}

func TestSplitDocuments(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lines []int
	}{
		{"no separator", "a: 1\nb: 2\n", []int{1}},
		{"leading separator", "---\na: 1\n", []int{1, 2}},
		{"separators with spaces and CRLF", "a: 1\r\n--- \r\nb: 2\r\n---\r\nc: 3", []int{1, 3, 5}},
		{"dashes inside a value are not separators", "a: ---\nb: |\n  ----\n", []int{1}},
		{"empty input", "", []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, d := range splitDocuments([]byte(tc.in)) {
				got = append(got, d.line)
			}
			if diff := cmp.Diff(tc.lines, got); diff != "" {
				t.Errorf("splitDocuments(%q) lines (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
