package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// position is where a field path starts in the file.
type position struct{ line, column int }

// decoder decodes a plain YAML tree into Go values strictly, naming the field
// path of every problem and remembering where each path was written so later
// validation can point at it too.
//
// It is written against yaml.Node instead of using yaml's own Decode with
// KnownFields because that reports neither field paths nor more than one
// problem, and accepts 8080 for a string.
type decoder struct {
	file string
	errs []*Error
	pos  map[string]position
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]position{}}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) mark(n *yaml.Node, path string) {
	if _, ok := d.pos[path]; !ok {
		d.pos[path] = position{n.Line, n.Column}
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// decode stores n into v, which must be settable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.mark(n, path)
	if v.Type() == durationType {
		d.decodeDuration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !d.expectKind(n, path, v.Type().Elem()) {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if !d.expectKind(n, path, v.Type()) {
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if d.expectTag(n, path, "!!str", "a string") {
			v.SetString(n.Value)
		}
	case reflect.Int:
		if !d.expectTag(n, path, "!!int", "an integer") {
			return
		}
		var i int
		if err := n.Decode(&i); err != nil {
			d.errorf(n, path, "integer %s is out of range", n.Value)
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		if !d.expectTag(n, path, "!!bool", "a boolean") {
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "invalid boolean %q", n.Value)
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: cannot decode into %s", v.Type()))
	}
}

// expectKind checks that n is a mapping for a struct or map type t, or a
// list for a slice type.
func (d *decoder) expectKind(n *yaml.Node, path string, t reflect.Type) bool {
	want, what := yaml.MappingNode, "a mapping"
	if t.Kind() == reflect.Slice {
		want, what = yaml.SequenceNode, "a list"
	}
	if n.Kind != want {
		d.errorf(n, path, "expected %s, got %s", what, describe(n))
		return false
	}
	return true
}

func (d *decoder) expectTag(n *yaml.Node, path, tag, what string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		hint := ""
		if tag == "!!str" && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
			hint = fmt.Sprintf(" (quote it: %q)", n.Value)
		}
		d.errorf(n, path, "expected %s, got %s%s", what, describe(n), hint)
		return false
	}
	return true
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectTag(n, path, "!!str", "a duration such as 90s or 5m") {
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil || !durationPattern.MatchString(n.Value) {
		d.errorf(n, path, "invalid duration %q (want a Go duration such as 90s, 5m or 1h30m)", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// durationPattern is the subset of Go durations the schema also accepts:
// positive, with units.
var durationPattern = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)

// field is one decodable struct field.
type field struct {
	name     string
	index    int
	required bool
}

// fieldsOf lists the fields of struct type t by their YAML keys.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fs = append(fs, field{name: name, index: i, required: sf.Tag.Get("config") == "required"})
	}
	return fs
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectKind(n, path, v.Type()) {
		return
	}
	fs := fieldsOf(v.Type())
	seen := d.entries(n, path, joinPath, func(k, val *yaml.Node, kp string) {
		f, ok := findField(fs, k.Value)
		if !ok {
			d.errorf(k, kp, "unknown field%s", suggest(fs, k.Value))
			return
		}
		d.mark(k, kp)
		d.decode(val, v.Field(f.index), kp)
	})
	for _, f := range fs {
		if _, ok := seen[f.name]; f.required && !ok {
			d.errorf(n, joinPath(path, f.name), "missing required field")
		}
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if !d.expectKind(n, path, v.Type()) {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.entries(n, path, mapKeyPath, func(k, val *yaml.Node, kp string) {
		d.mark(k, kp)
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	})
	v.Set(m)
}

// entries calls fn for every entry of mapping n whose key is a string not seen
// before in n, with the key's path made by keyPath, and reports the other keys.
// It returns the keys seen, by value.
func (d *decoder) entries(n *yaml.Node, path string, keyPath func(parent, key string) string, fn func(k, val *yaml.Node, kp string)) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.expectTag(k, path, "!!str", "a string key") {
			continue
		}
		kp := keyPath(path, k.Value)
		if first, ok := seen[k.Value]; ok {
			d.errorf(k, kp, "duplicate key (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		fn(k, val, kp)
	}
	return seen
}

func findField(fs []field, name string) (field, bool) {
	for _, f := range fs {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// suggest returns ` (did you mean "x"?)` for a known field close to name.
func suggest(fs []field, name string) string {
	best, bestDist := "", 3
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			return fmt.Sprintf(" (did you mean %q?)", f.name)
		}
		if dist := editDistance(strings.ToLower(f.name), strings.ToLower(name)); dist < bestDist {
			best, bestDist = f.name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// mapKeyPath writes map keys that are not identifiers in brackets, so the
// path stays unambiguous: buildArgs.VERSION but buildArgs["a.b"].
func mapKeyPath(parent, key string) string {
	if identPattern.MatchString(key) {
		return joinPath(parent, key)
	}
	return parent + "[" + strconv.Quote(key) + "]"
}
