package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// schemaPath is the schema shipped for editors (yaml-language-server).
const schemaPath = "../../schema/devloop.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parsing %s: %v", schemaPath, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("devloop.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("devloop.schema.json")
	if err != nil {
		t.Fatalf("compiling %s: %v", schemaPath, err)
	}
	return sch
}

// validateYAML validates a YAML file against the schema the way an editor
// does: YAML to JSON, then JSON Schema. A file that cannot be converted
// counts as rejected.
func validateYAML(sch *jsonschema.Schema, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// TestSchemaAgreesWithDecoder proves the schema and Load agree on every
// testdata file: valid files pass both; an invalid file fails the schema
// exactly when its problem is one a schema can see.
func TestSchemaAgreesWithDecoder(t *testing.T) {
	sch := compileSchema(t)
	valid, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range valid {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := validateYAML(sch, f); err != nil {
				t.Errorf("schema.Validate(%s) = %v, want nil", f, err)
			}
		})
	}
	for _, tc := range invalidCases() {
		if tc.schema == schemaSkip || len(tc.profiles) > 0 {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			f := filepath.Join("testdata", tc.file)
			err := validateYAML(sch, f)
			switch {
			case tc.schema == schemaRejects && err == nil:
				t.Errorf("schema.Validate(%s) = nil, want an error like Load's %q", f, tc.want)
			case tc.schema == schemaAccepts && err != nil:
				t.Errorf("schema.Validate(%s) = %v, want nil (the problem needs Load)", f, err)
			}
		})
	}
}

// TestSchemaMatchesTypes walks the Go types and the schema together: same
// keys, same required keys, compatible types, no extra properties allowed.
// The schema is hand-written for its descriptions; this keeps it honest.
func TestSchemaMatchesTypes(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	w := &schemaWalker{t: t, root: root}
	w.check(reflect.TypeFor[Config](), root, "Config")
}

type schemaWalker struct {
	t    *testing.T
	root map[string]any
}

// resolve follows a local "$ref": "#/definitions/NAME".
func (w *schemaWalker) resolve(s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	name := strings.TrimPrefix(ref, "#/definitions/")
	def, ok := w.root["definitions"].(map[string]any)[name].(map[string]any)
	if !ok {
		w.t.Fatalf("schema: dangling $ref %q", ref)
	}
	return w.resolve(def)
}

func (w *schemaWalker) check(typ reflect.Type, s map[string]any, where string) {
	s = w.resolve(s)
	if typ == durationType {
		w.wantType(s, "string", where)
		return
	}
	switch typ.Kind() {
	case reflect.Pointer:
		w.check(typ.Elem(), s, where)
	case reflect.Struct:
		w.wantType(s, "object", where)
		if s["additionalProperties"] != false {
			w.t.Errorf("schema %s: additionalProperties = %v, want false (decoding is strict)", where, s["additionalProperties"])
		}
		props, _ := s["properties"].(map[string]any)
		var goKeys, goRequired, schemaKeys, schemaRequired []string
		for _, f := range fieldsOf(typ) {
			goKeys = append(goKeys, f.name)
			if f.required {
				goRequired = append(goRequired, f.name)
			}
			if ps, ok := props[f.name].(map[string]any); ok {
				w.check(typ.Field(f.index).Type, ps, where+"."+f.name)
			}
		}
		for k := range props {
			schemaKeys = append(schemaKeys, k)
		}
		for _, r := range asSlice(s["required"]) {
			schemaRequired = append(schemaRequired, r.(string))
		}
		for _, l := range [][]string{goKeys, goRequired, schemaKeys, schemaRequired} {
			slices.Sort(l)
		}
		if diff := cmp.Diff(goKeys, schemaKeys); diff != "" {
			w.t.Errorf("schema %s properties mismatch (-go +schema):\n%s", where, diff)
		}
		if diff := cmp.Diff(goRequired, schemaRequired); diff != "" {
			w.t.Errorf("schema %s required mismatch (-go +schema):\n%s", where, diff)
		}
	case reflect.Slice:
		w.wantType(s, "array", where)
		items, _ := s["items"].(map[string]any)
		w.check(typ.Elem(), items, where+"[]")
	case reflect.Map:
		w.wantType(s, "object", where)
		vals, _ := s["additionalProperties"].(map[string]any)
		w.check(typ.Elem(), vals, where+"{}")
	case reflect.String:
		if _, isConst := s["const"]; isConst {
			return
		}
		if _, isEnum := s["enum"]; isEnum {
			return
		}
		w.wantType(s, "string", where)
	case reflect.Int:
		w.wantType(s, "integer", where)
	case reflect.Bool:
		w.wantType(s, "boolean", where)
	default:
		w.t.Errorf("schema %s: no rule for Go type %s", where, typ)
	}
}

func (w *schemaWalker) wantType(s map[string]any, want, where string) {
	if s == nil {
		w.t.Errorf("schema %s: missing, want type %q", where, want)
		return
	}
	if got := s["type"]; got != want {
		w.t.Errorf("schema %s: type = %v, want %q", where, got, want)
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
