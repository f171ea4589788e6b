package config

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the size of a document after aliases are expanded, so a
// few lines of anchors cannot make loading take forever ("billion laughs").
const maxNodes = 100_000

// nodeError is a problem found before field paths are known.
type nodeError struct {
	line, column int
	msg          string
}

func (e *nodeError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// expander turns a parsed document into a plain tree: aliases are replaced
// by copies of their anchors and merge keys (<<) are folded into their
// mappings. Both decoding and profile merging then see plain mappings.
type expander struct {
	budget int
}

func (x *expander) expand(n *yaml.Node) (*yaml.Node, error) {
	x.budget--
	if x.budget < 0 {
		return nil, &nodeError{n.Line, n.Column, fmt.Sprintf("document too large after expanding aliases (more than %d nodes)", maxNodes)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &nodeError{n.Line, n.Column, fmt.Sprintf("unknown anchor %q", n.Value)}
		}
		return x.expand(n.Alias)
	case yaml.SequenceNode:
		out := *n
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			e, err := x.expand(c)
			if err != nil {
				return nil, err
			}
			out.Content[i] = e
		}
		return &out, nil
	case yaml.MappingNode:
		return x.expandMapping(n)
	default:
		out := *n
		return &out, nil
	}
}

// expandMapping expands a mapping, giving its own keys precedence over
// merged ones and earlier merge sources precedence over later ones, as the
// YAML merge key specification says.
func (x *expander) expandMapping(n *yaml.Node) (*yaml.Node, error) {
	out := *n
	out.Content = nil
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			src, err := x.expand(v)
			if err != nil {
				return nil, err
			}
			switch src.Kind {
			case yaml.MappingNode:
				merged = append(merged, src.Content...)
			case yaml.SequenceNode:
				for _, m := range src.Content {
					if m.Kind != yaml.MappingNode {
						return nil, &nodeError{m.Line, m.Column, "merge key (<<) list must hold only mappings"}
					}
					merged = append(merged, m.Content...)
				}
			default:
				return nil, &nodeError{v.Line, v.Column, "merge key (<<) must refer to a mapping or a list of mappings"}
			}
			continue
		}
		ek, err := x.expand(k)
		if err != nil {
			return nil, err
		}
		ev, err := x.expand(v)
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content, ek, ev)
	}
	for i := 0; i+1 < len(merged); i += 2 {
		if lookup(&out, merged[i].Value) == nil {
			out.Content = append(out.Content, merged[i], merged[i+1])
		}
	}
	return &out, nil
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// applyProfile patches root with the profile mapping p (see the package
// documentation for the rules). Neither input is modified.
func applyProfile(root, p *yaml.Node) *yaml.Node {
	patch := *p
	patch.Content = nil
	for i := 0; i+1 < len(p.Content); i += 2 {
		if p.Content[i].Value != "name" {
			patch.Content = append(patch.Content, p.Content[i], p.Content[i+1])
		}
	}
	return mergeMapping(root, &patch, true)
}

func mergeMapping(base, patch *yaml.Node, root bool) *yaml.Node {
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for i := 0; i+1 < len(patch.Content); i += 2 {
		k, v := patch.Content[i], patch.Content[i+1]
		j := indexOf(&out, k.Value)
		if j < 0 {
			out.Content = append(out.Content, k, v)
			continue
		}
		// The key moves too, so positions point into the profile.
		old := out.Content[j+1]
		out.Content[j] = k
		switch {
		case root && k.Value == "artifacts" && old.Kind == yaml.SequenceNode && v.Kind == yaml.SequenceNode:
			out.Content[j+1] = mergeArtifacts(old, v)
		case old.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			out.Content[j+1] = mergeMapping(old, v, false)
		default:
			out.Content[j+1] = v
		}
	}
	return &out
}

// mergeArtifacts patches artifacts with the same image and appends new ones.
func mergeArtifacts(base, patch *yaml.Node) *yaml.Node {
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for _, p := range patch.Content {
		img := lookup(p, "image")
		found := false
		for i, b := range out.Content {
			if bi := lookup(b, "image"); img != nil && bi != nil && bi.Value == img.Value && b.Kind == yaml.MappingNode {
				out.Content[i] = mergeMapping(b, p, false)
				found = true
				break
			}
		}
		if !found {
			out.Content = append(out.Content, p)
		}
	}
	return &out
}

func indexOf(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!str":
		return "string " + strconv.Quote(v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!null":
		return "null"
	default:
		return n.ShortTag() + " " + strconv.Quote(v)
	}
}
