package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot finds the module root above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package")
		}
		dir = parent
	}
}

// TestRepoConfigs loads every devloop.yaml shipped in the repository (the
// root one, examples/…), so a change to the loader or to an example cannot
// break the other. Finding none is fine.
func TestRepoConfigs(t *testing.T) {
	root := repoRoot(t)
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || d.Name() == "vendor" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "devloop.yaml" {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("found %d devloop.yaml files", len(found))
	sch := compileSchema(t)
	for _, path := range found {
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("Load(%q) = %v", rel, err)
			}
			if err := validateYAML(sch, path); err != nil {
				t.Errorf("schema.Validate(%s) = %v, want nil", rel, err)
			}
			// Every declared profile must load too.
			for _, p := range cfg.Profiles {
				if _, err := Load(path, p.Name); err != nil {
					t.Errorf("Load(%q, %q) = %v", rel, p.Name, err)
				}
			}
		})
	}
}
