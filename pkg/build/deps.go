package build

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// fromImages returns the images a Dockerfile's FROM lines name, in order, with
// build arguments expanded (ARGs declared before the first FROM, overridden by
// args) and references to earlier stages left out. "scratch" is left out too.
//
// It uses BuildKit's own Dockerfile parser, so line continuations, comments and
// the escape directive read the same as in the build. A Dockerfile that does not
// parse yields no images and no error: the build reports the syntax error with
// its location.
func fromImages(dockerfile []byte, args map[string]string) []string {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil
	}
	lex := shell.NewLex(res.EscapeToken)
	env := map[string]string{}
	var (
		stages   []string
		images   []string
		seenFrom bool
	)
	for _, n := range res.AST.Children {
		switch strings.ToLower(n.Value) {
		case "arg":
			if seenFrom {
				continue // stage-local ARGs do not reach FROM lines
			}
			for a := n.Next; a != nil; a = a.Next {
				k, v, hasDefault := strings.Cut(a.Value, "=")
				if override, ok := args[k]; ok {
					env[k] = override
				} else if hasDefault {
					if ev, _, err := lex.ProcessWord(v, envGetter(env)); err == nil {
						v = ev
					}
					env[k] = v
				} else {
					env[k] = ""
				}
			}
		case "from":
			seenFrom = true
			if n.Next == nil {
				continue
			}
			img, _, err := lex.ProcessWord(n.Next.Value, envGetter(env))
			if err != nil || img == "" {
				continue
			}
			isStage := slices.Contains(stages, strings.ToLower(img))
			if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
				stages = append(stages, strings.ToLower(as.Next.Value))
			}
			if isStage {
				continue
			}
			if strings.EqualFold(img, "scratch") || slices.Contains(images, img) {
				continue
			}
			images = append(images, img)
		}
	}
	return images
}

// envGetter adapts a map to the shell lexer.
type envGetter map[string]string

func (e envGetter) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }

func (e envGetter) Keys() []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dependency is a FROM image that names another artifact.
type dependency struct {
	// artifact is the familiar name of the artifact depended on.
	artifact string
	// contextName is the key the Dockerfile frontend looks up for the FROM
	// image, "context:<contextName>": its familiar form without ":latest".
	contextName string
}

// matchDependencies returns the FROM images that name one of the artifacts
// (familiar names). A FROM with a digest pins an exact image and is not one;
// a FROM with any tag is, since devloop's own tags change with every build.
func matchDependencies(images []string, artifacts []string) []dependency {
	var deps []dependency
	for _, img := range images {
		named, err := reference.ParseNormalizedNamed(img)
		if err != nil {
			continue
		}
		if _, ok := named.(reference.Digested); ok {
			continue
		}
		key := reference.FamiliarName(named)
		if !slices.Contains(artifacts, key) {
			continue
		}
		ctxName := strings.TrimSuffix(reference.FamiliarString(named), ":latest")
		deps = append(deps, dependency{artifact: key, contextName: ctxName})
	}
	return deps
}

// specDependencies reads spec's Dockerfile and returns the FROM images among
// known (familiar artifact names), never spec itself.
func specDependencies(s Spec, known []string) ([]dependency, error) {
	path, err := s.dockerfilePath()
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", s.Name, err)
	}
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: reading Dockerfile: %w", s.Name, err)
	}
	self, err := artifactKey(s.Name)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: invalid image name: %w", s.Name, err)
	}
	others := slices.DeleteFunc(slices.Clone(known), func(k string) bool { return k == self })
	return matchDependencies(fromImages(dt, s.BuildArgs), others), nil
}

// Dependencies maps each artifact's Name to the Names of the artifacts its
// Dockerfile builds FROM. The loop engine uses it to rebuild dependents when a
// base artifact changes.
func Dependencies(specs []Spec) (map[string][]string, error) {
	keys, byKey, err := indexSpecs(specs)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(specs))
	for _, s := range specs {
		deps, err := specDependencies(s, keys)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, d := range deps {
			if n := byKey[d.artifact].Name; !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		out[s.Name] = names
	}
	return out, nil
}

// indexSpecs returns the familiar names of specs and the specs by that name.
func indexSpecs(specs []Spec) ([]string, map[string]Spec, error) {
	if err := checkUnique(specs); err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, len(specs))
	byKey := make(map[string]Spec, len(specs))
	for _, s := range specs {
		k, _ := artifactKey(s.Name) // checked by checkUnique
		keys = append(keys, k)
		byKey[k] = s
	}
	return keys, byKey, nil
}

// topoOrder returns the artifacts (familiar names) ordered so each comes after
// the artifacts it depends on, keeping the given order where it is free to; a
// dependency cycle is an error naming its members.
func topoOrder(keys []string, deps map[string][]string) ([]string, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(keys))
	order := make([]string, 0, len(keys))
	var visit func(k string, path []string) error
	visit = func(k string, path []string) error {
		switch state[k] {
		case done:
			return nil
		case visiting:
			i := slices.Index(path, k)
			return fmt.Errorf("artifacts depend on each other: %s", strings.Join(append(path[i:], k), " -> "))
		}
		state[k] = visiting
		for _, d := range deps[k] {
			if err := visit(d, append(path, k)); err != nil {
				return err
			}
		}
		state[k] = done
		order = append(order, k)
		return nil
	}
	for _, k := range keys {
		if err := visit(k, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
