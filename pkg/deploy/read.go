package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomizationFiles are the names kustomize recognises in a directory.
func kustomizationFiles() []string {
	return []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}
}

// Read loads the objects of every source, in order. A source is:
//   - a file: every YAML document in it (JSON is YAML), empty documents skipped and
//     List kinds expanded;
//   - a directory holding a kustomization file: built in process with kustomize;
//   - any other directory: its *.yaml, *.yml and *.json files, not recursively,
//     sorted by name;
//   - a glob pattern (filepath.Match syntax): each match as above; matching nothing is
//     an error.
//
// Errors name the file and, for files, the document and line (see [ManifestError]).
func Read(ctx context.Context, sources []string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, src := range sources {
		paths := []string{src}
		if hasGlobMeta(src) {
			matches, err := filepath.Glob(src)
			if err != nil {
				return nil, fmt.Errorf("reading manifests: pattern %q: %w", src, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("reading manifests: no files match %q", src)
			}
			paths = matches
		}
		for _, p := range paths {
			got, err := readPath(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("reading manifests: %w", err)
			}
			objs = append(objs, got...)
		}
	}
	return objs, nil
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

func readPath(ctx context.Context, p string) ([]*unstructured.Unstructured, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return readFile(p)
	}
	for _, k := range kustomizationFiles() {
		if _, err := os.Stat(filepath.Join(p, k)); err == nil {
			return readKustomize(p)
		}
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	found := false
	for _, e := range entries { // os.ReadDir sorts by name
		if e.IsDir() || !isManifestName(e.Name()) {
			continue
		}
		found = true
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		got, err := readFile(filepath.Join(p, e.Name()))
		if err != nil {
			return nil, err
		}
		objs = append(objs, got...)
	}
	if !found {
		return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.json files in directory", p)
	}
	return objs, nil
}

func isManifestName(n string) bool {
	switch strings.ToLower(filepath.Ext(n)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func readFile(p string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return decode(data, p, true)
}

// readKustomize builds dir with kustomize's default options (load restrictions on, no
// plugins), as `kubectl kustomize dir` would.
func readKustomize(dir string) ([]*unstructured.Unstructured, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, &ManifestError{File: dir, Err: fmt.Errorf("kustomize build: %w", err)}
	}
	data, err := rm.AsYaml()
	if err != nil {
		return nil, &ManifestError{File: dir, Err: fmt.Errorf("kustomize build: %w", err)}
	}
	return decode(data, dir, false)
}
