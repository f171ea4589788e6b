package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// rootFilter decides, for one root, which paths belong to it and which of those
// matter. Paths handed to it are absolute and cleaned; patterns work on paths relative
// to the root, slash-separated, with .dockerignore semantics.
type rootFilter struct {
	path string // absolute, cleaned
	file bool   // the root is a single file

	user   *patternmatcher.PatternMatcher // Root.Ignore; nil when empty
	docker *patternmatcher.PatternMatcher // <path>/.dockerignore; nil when absent or unwanted
	keep   []string                       // relative paths .dockerignore cannot exclude

	dockerIgnore bool // Root.DockerIgnore
}

func newRootFilter(r Root) (*rootFilter, error) {
	abs, err := filepath.Abs(r.Path)
	if err != nil {
		return nil, fmt.Errorf("resolving root %q: %w", r.Path, err)
	}
	// The walk does not follow symbolic links, so a linked root is watched (and
	// reported) where it really is; for a file, that is the directory its saves land in.
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("watching %s: %w", r.Path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", abs, err)
	}
	f := &rootFilter{path: abs, file: !fi.IsDir(), dockerIgnore: r.DockerIgnore}
	if f.file {
		return f, nil
	}
	if len(r.Ignore) > 0 {
		// Same normalisation as a .dockerignore line: leading "/" dropped, cleaned.
		patterns, err := ignorefile.ReadAll(strings.NewReader(strings.Join(r.Ignore, "\n")))
		if err != nil {
			return nil, fmt.Errorf("reading ignore patterns of %s: %w", abs, err)
		}
		if f.user, err = patternmatcher.New(patterns); err != nil {
			return nil, fmt.Errorf("parsing ignore patterns of %s: %w", abs, err)
		}
	}
	if r.DockerIgnore {
		// docker build reads the Dockerfile and .dockerignore whatever .dockerignore
		// says, so their edits always matter.
		f.keep = append(f.keep, "Dockerfile", ".dockerignore")
	}
	for _, k := range r.Keep {
		f.keep = append(f.keep, path.Clean(strings.TrimPrefix(filepath.ToSlash(k), "/")))
	}
	if err := f.loadDockerIgnore(); err != nil {
		return nil, err
	}
	return f, nil
}

// loadDockerIgnore (re)reads <root>/.dockerignore. On error the previous patterns stay.
func (f *rootFilter) loadDockerIgnore() error {
	if !f.dockerIgnore || f.file {
		return nil
	}
	name := filepath.Join(f.path, ".dockerignore")
	file, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		f.docker = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	defer file.Close()
	patterns, err := ignorefile.ReadAll(file)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", name, err)
	}
	f.docker = pm
	return nil
}

// isDockerIgnoreFile reports whether p is this root's .dockerignore.
func (f *rootFilter) isDockerIgnoreFile(p string) bool {
	return f.dockerIgnore && !f.file && p == filepath.Join(f.path, ".dockerignore")
}

// rel returns p relative to the root ("." for the root itself) and whether p is
// inside the root at all.
func (f *rootFilter) rel(p string) (string, bool) {
	if p == f.path {
		return ".", true
	}
	prefix := f.path
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	return filepath.ToSlash(p[len(prefix):]), true
}

// match reports whether a change of p concerns this root.
func (f *rootFilter) match(p string) bool {
	if f.file {
		return p == f.path
	}
	rel, ok := f.rel(p)
	if !ok {
		return false
	}
	return rel == "." || !f.ignored(rel)
}

// ignored reports whether the relative path rel (not ".") is excluded.
func (f *rootFilter) ignored(rel string) bool {
	if hasGitSegment(rel) || isEditorTemp(path.Base(rel)) {
		return true
	}
	if f.user != nil && matches(f.user, rel) {
		return true
	}
	return f.docker != nil && !slices.Contains(f.keep, rel) && matches(f.docker, rel)
}

// skipDir reports whether the directory rel (not ".") and everything below it can be
// left unwatched: it is excluded and no exception pattern or kept path can bring back
// anything below it.
func (f *rootFilter) skipDir(rel string) bool {
	if hasGitSegment(rel) {
		return true
	}
	if f.user != nil && matches(f.user, rel) && !mayReinclude(f.user, rel) {
		return true
	}
	return f.docker != nil && matches(f.docker, rel) && !mayReinclude(f.docker, rel) && !f.keepsBelow(rel)
}

func (f *rootFilter) keepsBelow(dir string) bool {
	for _, k := range f.keep {
		if strings.HasPrefix(k, dir+"/") {
			return true
		}
	}
	return false
}

// matches wraps MatchesOrParentMatches (the matcher docker build uses for contexts):
// a pattern that cannot be evaluated excludes nothing.
func matches(pm *patternmatcher.PatternMatcher, rel string) bool {
	ok, err := pm.MatchesOrParentMatches(rel)
	return err == nil && ok
}

// mayReinclude reports whether an exception ("!pattern") of pm could match dir or
// something below it, in which case dir must be walked even though it is excluded.
// It errs on the side of walking: "**" in an exception matches anything below.
func mayReinclude(pm *patternmatcher.PatternMatcher, dir string) bool {
	if !pm.Exclusions() {
		return false
	}
	dirSegs := strings.Split(dir, "/")
	for _, p := range pm.Patterns() {
		if p.Exclusion() && prefixMayMatch(strings.Split(filepath.ToSlash(p.String()), "/"), dirSegs) {
			return true
		}
	}
	return false
}

// prefixMayMatch reports whether the pattern segments pat could match dir or a path
// below it (or above it: an exception matching a parent re-includes the whole tree).
func prefixMayMatch(pat, dir []string) bool {
	for i := 0; i < len(pat) && i < len(dir); i++ {
		if strings.Contains(pat[i], "**") {
			return true
		}
		ok, err := path.Match(pat[i], dir[i])
		if err != nil {
			return true
		}
		if !ok {
			return false
		}
	}
	return true
}

func hasGitSegment(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == ".git" {
			return true
		}
	}
	return false
}

// isEditorTemp reports whether a base name is an editor's scratch file. The list is
// deliberately short: a real source file must never be taken for one.
func isEditorTemp(name string) bool {
	switch {
	case name == "4913": // vim probes whether it may write the directory
	case len(name) > 1 && strings.HasSuffix(name, "~"): // vim and emacs backups
	case strings.HasPrefix(name, ".#"): // emacs lock files
	case len(name) > 2 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"): // emacs auto-save
	case strings.HasPrefix(name, ".") && hasAnySuffix(name, ".swp", ".swo", ".swn", ".swx"): // vim swap
	case strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".kate-swp"): // kate swap
	case hasAnySuffix(name, "___jb_tmp___", "___jb_old___"): // JetBrains safe write
	default:
		return false
	}
	return true
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, suf := range suffixes {
		if len(s) > len(suf) && strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}
