package loop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/devloop/devloop/pkg/config"
)

// InputsHash hashes everything a build of a reads: the context's files that
// .dockerignore (and a.Ignore) do not exclude, with their paths and modes, the
// Dockerfile, the build arguments, target and platform. Equal hashes mean a build
// would produce the same image (as long as its base images did not move), so the
// Engine reuses the last image instead of asking BuildKit.
func InputsHash(ctx context.Context, a config.Artifact) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "image\x00%s\x00target\x00%s\x00platform\x00%s\x00", a.Image, a.Target, a.Platform)
	keys := make([]string, 0, len(a.BuildArgs))
	for k := range a.BuildArgs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "arg\x00%s=%s\x00", k, a.BuildArgs[k])
	}
	dockerfile := a.Dockerfile
	if dockerfile == "" {
		dockerfile = filepath.Join(a.Context, config.DefaultDockerfile)
	} else if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(a.Context, dockerfile)
	}
	if err := hashFile(h, "dockerfile", dockerfile); err != nil {
		return "", fmt.Errorf("hashing the inputs of %s: %w", a.Image, err)
	}
	patterns, err := ignorePatterns(a.Context, dockerfile)
	if err != nil {
		return "", fmt.Errorf("hashing the inputs of %s: %w", a.Image, err)
	}
	patterns = append(patterns, a.Ignore...)
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return "", fmt.Errorf("hashing the inputs of %s: .dockerignore: %w", a.Image, err)
	}
	err = filepath.WalkDir(a.Context, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(a.Context, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if excluded {
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		return hashEntry(h, rel, p, d)
	})
	if err != nil {
		return "", fmt.Errorf("hashing the inputs of %s: %w", a.Image, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// ignorePatterns reads the .dockerignore BuildKit would use: <Dockerfile>.dockerignore
// next to the Dockerfile, else the context's .dockerignore.
func ignorePatterns(contextDir, dockerfile string) ([]string, error) {
	for _, p := range []string{dockerfile + ".dockerignore", filepath.Join(contextDir, ".dockerignore")} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return patterns, nil
	}
	return nil, nil
}

// hashEntry adds one context entry: its path, type and permissions, and its
// content (files) or target (symbolic links).
func hashEntry(h hash.Hash, rel, p string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "entry\x00%s\x00%o\x00", rel, info.Mode())
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00", target)
	case info.Mode().IsRegular():
		return hashFile(h, "content", p)
	}
	return nil
}

func hashFile(h hash.Hash, label, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fh := sha256.New()
	if _, err := io.Copy(fh, f); err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%x\x00", label, fh.Sum(nil))
	return nil
}

// combineHashes folds an artifact's own inputs hash with those of the artifacts
// it builds FROM, so a change to a base artifact invalidates its dependents.
func combineHashes(own string, deps []string) string {
	if len(deps) == 0 {
		return own
	}
	sorted := slices.Clone(deps)
	slices.Sort(sorted)
	h := sha256.Sum256([]byte(own + "\x00" + strings.Join(sorted, "\x00")))
	return "sha256:" + hex.EncodeToString(h[:])
}
