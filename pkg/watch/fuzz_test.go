package watch

import (
	"path"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// FuzzIgnore feeds .dockerignore contents and paths to the matcher. Beyond not
// panicking, it checks the promise the watcher relies on: a directory it leaves
// unwatched (skipDir) holds nothing that matters (every path below is ignored).
func FuzzIgnore(f *testing.F) {
	seeds := []struct{ patterns, dir, child string }{
		{".git\n*.md\n__pycache__\n", "docs", "a.md"},
		{"*\n!src\n", "src", "main.go"},
		{"*\n!src/**/*.go\n", "src", "a/b.go"},
		{"build/\n!build/keep.txt\n", "build", "keep.txt"},
		{"**/node_modules\n", "web/node_modules", "x.js"},
		{"/tmp\n../x\n", "tmp", "y"},
		{"[a-\n", "a", "b"},
		{"a/*/c\n!a/b\n", "a", "b/c"},
		{"Dockerfile\n*\n", "sub", "Dockerfile"},
	}
	for _, s := range seeds {
		f.Add(s.patterns, s.dir, s.child, true)
		f.Add(s.patterns, s.dir, s.child, false)
	}
	f.Fuzz(func(t *testing.T, patterns, dir, child string, asUser bool) {
		lines, err := ignorefile.ReadAll(strings.NewReader(patterns))
		if err != nil {
			return
		}
		pm, err := patternmatcher.New(lines)
		if err != nil {
			return
		}
		fl := &rootFilter{path: "/root", dockerIgnore: true, keep: []string{"Dockerfile", ".dockerignore"}}
		if asUser {
			fl.user = pm
		} else {
			fl.docker = pm
		}
		dir, child = path.Clean(dir), path.Clean(child)
		for _, p := range []string{dir, child} {
			if p == "." || p == ".." || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || strings.ContainsRune(p, 0) {
				return
			}
		}
		rel := dir + "/" + child
		fl.match("/root/" + rel) // must not panic
		if fl.skipDir(dir) && !fl.ignored(rel) {
			t.Errorf("patterns %q: skipDir(%q) = true but ignored(%q) = false: a change there would be missed", patterns, dir, rel)
		}
	})
}
