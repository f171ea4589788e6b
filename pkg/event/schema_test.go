package event_test

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/devloop/devloop/internal/eventtest"
	"github.com/devloop/devloop/pkg/event"
)

// schemaDoc is the shipped schema as plain JSON, to compare its lists with the code.
type schemaDoc struct {
	Properties map[string]struct {
		Enum []string `json:"enum"`
	} `json:"properties"`
}

func readSchema(t *testing.T) schemaDoc {
	t.Helper()
	b, err := os.ReadFile(eventtest.SchemaPath())
	if err != nil {
		t.Fatal(err)
	}
	var s schemaDoc
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonFields are the wire names of Event's fields.
func jsonFields() []string {
	var names []string
	rt := reflect.TypeFor[event.Event]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "-" && name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// constValues returns the values of the constants of type typ declared in
// event.go, so that a new Phase or Status cannot be added without the schema
// and the docs hearing of it.
func constValues(t *testing.T, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
			for _, v := range vs.Values {
				lit := v.(*ast.BasicLit)
				out = append(out, strings.Trim(lit.Value, `"`))
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no constants of type %s in event.go", typ)
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestSchemaAgreesWithEvent(t *testing.T) {
	s := readSchema(t)
	var props []string
	for k := range s.Properties {
		props = append(props, k)
	}
	if diff := cmp.Diff(jsonFields(), sorted(props)); diff != "" {
		t.Errorf("Event's JSON fields vs the schema's properties (-code +schema):\n%s", diff)
	}
	for _, tc := range []struct{ field, typ string }{{"phase", "Phase"}, {"status", "Status"}} {
		if diff := cmp.Diff(sorted(constValues(t, tc.typ)), sorted(s.Properties[tc.field].Enum)); diff != "" {
			t.Errorf("%s constants vs the schema's %s enum (-code +schema):\n%s", tc.typ, tc.field, diff)
		}
	}
}

// TestDocsDescribeEverything keeps docs/events.md complete: every field and
// every phase and status value appears in it as `code`.
func TestDocsDescribeEverything(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var want []string
	want = append(want, jsonFields()...)
	want = append(want, constValues(t, "Phase")...)
	want = append(want, constValues(t, "Status")...)
	for _, w := range want {
		if !strings.Contains(doc, "`"+w+"`") {
			t.Errorf("docs/events.md does not mention `%s`", w)
		}
	}
}

// TestJSONLinesMatchesSchema sends what the stages send, through the sink the
// command line uses, and validates the stream.
func TestJSONLinesMatchesSchema(t *testing.T) {
	ms := time.Millisecond
	events := []event.Event{
		{Phase: event.PhaseIteration, Status: event.StatusStart, Iteration: 1},
		{Phase: event.PhaseBuild, Status: event.StatusStart, Iteration: 1, Artifact: "web"},
		{Phase: event.PhaseBuild, Status: event.StatusProgress, Iteration: 1, Artifact: "web", Message: "[2/3] COPY . .", Duration: 40 * ms},
		{Phase: event.PhaseBuild, Status: event.StatusProgress, Iteration: 1, Message: "warning: hashing inputs: permission denied"},
		{Phase: event.PhaseBuild, Status: event.StatusSuccess, Iteration: 1, Artifact: "web", Ref: "web:5f2c0a1b2c3d4e5f", Duration: 600 * ms},
		{Phase: event.PhaseBuild, Status: event.StatusSkipped, Iteration: 1, Artifact: "worker", Ref: "worker:0123456789abcdef", Message: "inputs unchanged"},
		{Phase: event.PhaseSideload, Status: event.StatusStart, Iteration: 1, Artifact: "web", Message: "containerd at /run/containerd.sock"},
		{Phase: event.PhaseSideload, Status: event.StatusSuccess, Iteration: 1, Artifact: "web", Ref: "web:5f2c0a1b2c3d4e5f", Bytes: 12000, BlobsSkipped: 5, Duration: 300 * ms},
		{Phase: event.PhaseDeploy, Status: event.StatusStart, Iteration: 1, Message: "applying 6 objects"},
		{Phase: event.PhaseDeploy, Status: event.StatusProgress, Iteration: 1, Resource: "deployment/web", Message: "applied"},
		{Phase: event.PhaseDeploy, Status: event.StatusSuccess, Iteration: 1, Message: "applied 6 objects", Duration: 100 * ms},
		{Phase: event.PhaseRollout, Status: event.StatusProgress, Iteration: 1, Resource: "deployment/web", Message: "1/2 ready", Duration: 3100 * ms},
		{Phase: event.PhaseRollout, Status: event.StatusSuccess, Iteration: 1, Resource: "deployment/web", Message: "2/2 ready", Duration: 3300 * ms},
		{Phase: event.PhaseIteration, Status: event.StatusSuccess, Iteration: 1, Message: "iteration 1: build 0.6s", Duration: 4 * time.Second},
		{Phase: event.PhasePortForward, Status: event.StatusSuccess, Iteration: 1, Resource: "service/web", Message: "forwarding 127.0.0.1:8080 → service/web:80"},
		{Phase: event.PhaseLog, Status: event.StatusProgress, Iteration: 1, Resource: "web-5d8f-x2x9k", Message: ""},
		{Phase: event.PhaseWatch, Status: event.StatusProgress, Iteration: 1, Files: []string{"app.py"}, Message: "1 changed"},
		{Phase: event.PhaseIteration, Status: event.StatusStart, Iteration: 2, Files: []string{"app.py"}},
		{Phase: event.PhaseBuild, Status: event.StatusFailure, Iteration: 2, Artifact: "web", File: "/src/Dockerfile", Line: 7, Column: 1, Message: "RUN false: exit code 1"},
		{Phase: event.PhaseDeploy, Status: event.StatusFailure, Iteration: 2, File: "/src/k8s/app.yaml", Line: 9, Message: "document 1: yaml: mapping values are not allowed in this context"},
		{Phase: event.PhaseConfig, Status: event.StatusFailure, Iteration: 2, File: "/src/devloop.yaml", Message: "empty file"},
		{Phase: event.PhaseIteration, Status: event.StatusFailure, Iteration: 2, Message: "iteration 2 failed: building web: …"},
		{Phase: event.PhaseIteration, Status: event.StatusSkipped, Iteration: 3, Message: "iteration 3 cancelled: newer changes arrived"},
	}
	var buf bytes.Buffer
	s := event.NewJSONLines(&buf, nil)
	for _, e := range events {
		s.Send(context.Background(), e)
	}
	got, err := eventtest.Stream(eventtest.Schema(t), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Errorf("decoded %d events, want %d", len(got), len(events))
	}
}

func TestSchemaRejects(t *testing.T) {
	sch := eventtest.Schema(t)
	const ok = `"time":"2026-01-02T03:04:05Z","iteration":1`
	tests := []struct{ name, line string }{
		{name: "valid, as a control", line: `{` + ok + `,"phase":"build","status":"start"}`},
		{name: "unknown phase", line: `{` + ok + `,"phase":"push","status":"start"}`},
		{name: "unknown status", line: `{` + ok + `,"phase":"build","status":"done"}`},
		{name: "unknown field", line: `{` + ok + `,"phase":"build","status":"start","colour":"red"}`},
		{name: "no time", line: `{"iteration":1,"phase":"build","status":"start"}`},
		{name: "time not RFC 3339", line: `{"time":"yesterday","iteration":1,"phase":"build","status":"start"}`},
		{name: "failure without message", line: `{` + ok + `,"phase":"build","status":"failure"}`},
		{name: "line without file", line: `{` + ok + `,"phase":"build","status":"failure","message":"x","line":3}`},
		{name: "column without line", line: `{` + ok + `,"phase":"build","status":"failure","message":"x","file":"/Dockerfile","column":3}`},
		{name: "line 0", line: `{` + ok + `,"phase":"build","status":"failure","message":"x","file":"/Dockerfile","line":0}`},
		{name: "other schema version", line: `{"schemaVersion":"2",` + ok + `,"phase":"build","status":"start"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := eventtest.Validate(sch, []byte(tc.line))
			if control := strings.HasPrefix(tc.name, "valid"); (err == nil) != control {
				t.Errorf("Validate(%s) = %v, want valid: %v", tc.line, err, control)
			}
		})
	}
}
