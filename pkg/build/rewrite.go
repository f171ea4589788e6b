package build

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// rewriteFrom returns dockerfile with every FROM image that names an artifact in
// refs (familiar name → image reference) replaced by that reference, changing
// nothing else: lines keep their numbers, so error locations still point at the
// user's file. It reports whether anything changed.
//
// This is how a base artifact built into a Docker daemon reaches its dependents:
// the daemon's BuildKit resolves "FROM base:<tag>" from its own image store, and
// unlike named build contexts this works with every Docker version (20.10's
// frontend ignores named contexts).
func rewriteFrom(dockerfile []byte, args map[string]string, refs map[string]string) ([]byte, bool) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return dockerfile, false
	}
	lines := strings.SplitAfter(string(dockerfile), "\n")
	lex := shell.NewLex(res.EscapeToken)
	env := envGetter{}
	changed, seenFrom := false, false
	for _, n := range res.AST.Children {
		switch strings.ToLower(n.Value) {
		case "arg":
			if !seenFrom {
				for a := n.Next; a != nil; a = a.Next {
					k, v, hasDefault := strings.Cut(a.Value, "=")
					if o, ok := args[k]; ok {
						env[k] = o
					} else if hasDefault {
						env[k], _, _ = lex.ProcessWord(v, env)
					} else {
						env[k] = ""
					}
				}
			}
		case "from":
			seenFrom = true
			if n.Next == nil {
				continue
			}
			img, _, err := lex.ProcessWord(n.Next.Value, env)
			if err != nil {
				continue
			}
			named, err := reference.ParseNormalizedNamed(img)
			if err != nil {
				continue
			}
			if _, digested := named.(reference.Digested); digested {
				continue
			}
			ref, ok := refs[reference.FamiliarName(named)]
			if !ok {
				continue
			}
			if replaceFromWord(lines, n.StartLine, n.EndLine, n.Next.Value, ref) {
				changed = true
			}
		}
	}
	if !changed {
		return dockerfile, false
	}
	return []byte(strings.Join(lines, "")), true
}

// replaceFromWord replaces the first whole-word occurrence of word after the
// FROM keyword within lines start..end (1-based).
func replaceFromWord(lines []string, start, end int, word, repl string) bool {
	afterFrom := false
	for i := start - 1; i < end && i < len(lines); i++ {
		l := lines[i]
		from := 0
		if !afterFrom {
			j := strings.Index(strings.ToLower(l), "from")
			if j < 0 {
				continue
			}
			from, afterFrom = j+len("from"), true
		}
		for off := from; off < len(l); {
			k := strings.Index(l[off:], word)
			if k < 0 {
				break
			}
			k += off
			e := k + len(word)
			if isWordEdge(l, k-1) && isWordEdge(l, e) {
				lines[i] = l[:k] + repl + l[e:]
				return true
			}
			off = k + 1
		}
	}
	return false
}

func isWordEdge(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return true
	}
	switch s[i] {
	case ' ', '\t', '\n', '\r', '\\':
		return true
	}
	return false
}

// rewrittenDockerfileDir writes the rewritten Dockerfile, and its own
// .dockerignore when there is one, to a new temporary directory to be mounted as
// the frontend's "dockerfile" input. The caller removes the directory.
func rewrittenDockerfileDir(dfPath string, data []byte) (string, error) {
	dir, err := os.MkdirTemp("", "devloop-dockerfile-")
	if err != nil {
		return "", err
	}
	base := filepath.Base(dfPath)
	if err := os.WriteFile(filepath.Join(dir, base), data, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if ig, err := os.ReadFile(dfPath + ".dockerignore"); err == nil {
		if err := os.WriteFile(filepath.Join(dir, base+".dockerignore"), ig, 0o644); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// daemonRefs maps the artifacts of deps that live in the build's Docker daemon
// to their references there.
func daemonRefs(deps []depImage) map[string]string {
	refs := map[string]string{}
	for _, d := range deps {
		if d.img.InDaemon {
			refs[d.artifact] = fmt.Sprintf("%s:%s", d.artifact, d.img.Ref.TagStr())
		}
	}
	return refs
}
