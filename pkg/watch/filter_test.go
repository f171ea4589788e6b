package watch

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsEditorTemp(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".app.py.swp", true},
		{".app.py.swx", true},
		{".app.py.swo", true},
		{"4913", true},
		{"app.py~", true},
		{".#app.py", true},
		{"#app.py#", true},
		{"app.py___jb_tmp___", true},
		{"app.py___jb_old___", true},
		{".app.py.kate-swp", true},
		{"app.py", false},
		{"4914", false},
		{"~", false},
		{"#", false},
		{".swp", false},
		{"notes.swp", false}, // vim swap files always start with a dot
		{"data.tmp", false},  // too common a real name to drop
		{".gitignore", false},
		{"Dockerfile", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isEditorTemp(tc.name); got != tc.want {
				t.Errorf("isEditorTemp(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// newTestFilter builds a rootFilter over a temporary directory holding dockerignore
// as its .dockerignore (none when empty).
func newTestFilter(t *testing.T, dockerignore string, r Root) *rootFilter {
	t.Helper()
	dir := t.TempDir()
	if dockerignore != "" {
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(dockerignore), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.Path = dir
	f, err := newRootFilter(r)
	if err != nil {
		t.Fatalf("newRootFilter: %v", err)
	}
	return f
}

func TestRootFilterIgnored(t *testing.T) {
	tests := []struct {
		name         string
		dockerignore string
		root         Root
		rel          string
		want         bool
	}{
		{"plain file", "", Root{DockerIgnore: true}, "app.py", false},
		{".git at the root", "", Root{}, ".git/index", true},
		{"nested .git", "", Root{}, "vendor/lib/.git/HEAD", true},
		{".gitignore is not .git", "", Root{}, ".gitignore", false},
		{"editor swap file", "", Root{}, "src/.app.py.swp", true},
		{"dockerignored file", "*.log\n", Root{DockerIgnore: true}, "debug.log", true},
		{"dockerignore only at its level", "*.log\n", Root{DockerIgnore: true}, "sub/debug.log", false},
		{"dockerignore ** pattern", "**/*.log\n", Root{DockerIgnore: true}, "sub/debug.log", true},
		{"dockerignore not applied unless asked", "*.log\n", Root{}, "debug.log", false},
		{"below an ignored dir", "node_modules\n", Root{DockerIgnore: true}, "node_modules/a/b.js", true},
		{"exception below an ignored dir", "node_modules\n!node_modules/keep\n", Root{DockerIgnore: true}, "node_modules/keep/x.js", false},
		{"sibling of the exception", "node_modules\n!node_modules/keep\n", Root{DockerIgnore: true}, "node_modules/other/x.js", true},
		{"leading slash pattern", "/build\n", Root{DockerIgnore: true}, "build/out", true},
		{"Dockerfile is kept", "Dockerfile\n.dockerignore\n", Root{DockerIgnore: true}, "Dockerfile", false},
		{".dockerignore is kept", "Dockerfile\n.dockerignore\n", Root{DockerIgnore: true}, ".dockerignore", false},
		{"Keep path is kept", "docker\n", Root{DockerIgnore: true, Keep: []string{"docker/Dockerfile.dev"}}, "docker/Dockerfile.dev", false},
		{"Keep does not keep siblings", "docker\n", Root{DockerIgnore: true, Keep: []string{"docker/Dockerfile.dev"}}, "docker/other", true},
		{"user pattern", "", Root{Ignore: []string{"tmp"}}, "tmp/x", true},
		{"user pattern with leading slash", "", Root{Ignore: []string{"/tmp"}}, "tmp/x", true},
		{"user pattern beats Keep", "", Root{Ignore: []string{"Dockerfile"}, DockerIgnore: true}, "Dockerfile", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFilter(t, tc.dockerignore, tc.root)
			if got := f.ignored(tc.rel); got != tc.want {
				t.Errorf("ignored(%q) = %v, want %v", tc.rel, got, tc.want)
			}
		})
	}
}

func TestRootFilterSkipDir(t *testing.T) {
	tests := []struct {
		name         string
		dockerignore string
		root         Root
		dir          string
		want         bool
	}{
		{"plain dir", "node_modules\n", Root{DockerIgnore: true}, "src", false},
		{".git", "", Root{}, ".git", true},
		{"ignored dir", "node_modules\n", Root{DockerIgnore: true}, "node_modules", true},
		{"below ignored dir", "node_modules\n", Root{DockerIgnore: true}, "node_modules/a", true},
		{"ignored dir with exception below", "node_modules\n!node_modules/keep\n", Root{DockerIgnore: true}, "node_modules", false},
		{"exception dir itself", "node_modules\n!node_modules/keep\n", Root{DockerIgnore: true}, "node_modules/keep", false},
		{"sibling of exception", "node_modules\n!node_modules/keep\n", Root{DockerIgnore: true}, "node_modules/other", true},
		{"wildcard exception", "node_modules\n!node_modules/*/package.json\n", Root{DockerIgnore: true}, "node_modules/a", false},
		{"wildcard exception, deeper dir", "node_modules\n!node_modules/*/package.json\n", Root{DockerIgnore: true}, "node_modules/a/lib", true},
		{"** exception keeps everything", "node_modules\n!**/*.go\n", Root{DockerIgnore: true}, "node_modules/a", false},
		{"exception elsewhere", "node_modules\n!src/keep\n", Root{DockerIgnore: true}, "node_modules", true},
		{"exclude all but src", "*\n!src\n", Root{DockerIgnore: true}, "docs", true},
		{"exclude all but src, src", "*\n!src\n", Root{DockerIgnore: true}, "src", false},
		{"kept file below", "docker\n", Root{DockerIgnore: true, Keep: []string{"docker/Dockerfile"}}, "docker", false},
		{"user ignored dir", "", Root{Ignore: []string{"dist"}}, "dist", true},
		{"user ignore ignores Keep", "", Root{Ignore: []string{"docker"}, Keep: []string{"docker/Dockerfile"}}, "docker", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFilter(t, tc.dockerignore, tc.root)
			if got := f.skipDir(tc.dir); got != tc.want {
				t.Errorf("skipDir(%q) = %v, want %v", tc.dir, got, tc.want)
			}
		})
	}
}

func TestRootFilterMatch(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "devloop.yaml")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dirRoot, err := newRootFilter(Root{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	fileRoot, err := newRootFilter(Root{Path: file})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    *rootFilter
		path string
		want bool
	}{
		{"file in dir root", dirRoot, filepath.Join(dir, "a", "b"), true},
		{"dir root itself", dirRoot, dir, true},
		{"outside dir root", dirRoot, filepath.Dir(dir), false},
		{"prefix sibling is outside", dirRoot, dir + "x/a", false},
		{"file root", fileRoot, file, true},
		{"sibling of file root", fileRoot, filepath.Join(dir, "other.yaml"), false},
		{"editor temp next to file root", fileRoot, filepath.Join(dir, ".devloop.yaml.swp"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.match(tc.path); got != tc.want {
				t.Errorf("match(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestNewRootFilterErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("[\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		root Root
	}{
		{"missing root", Root{Path: filepath.Join(dir, "nope")}},
		{"bad user pattern", Root{Path: dir, Ignore: []string{"["}}},
		{"bad .dockerignore", Root{Path: dir, DockerIgnore: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newRootFilter(tc.root); err == nil {
				t.Errorf("newRootFilter(%+v) = nil error, want one", tc.root)
			}
		})
	}
}
