// Package eventtest checks devloop's JSON Lines event streams against the JSON
// Schema the repository ships (schema/events.schema.json), for tests of any
// package that emits or reads events. It is test support, not part of the binary.
package eventtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/devloop/devloop/pkg/event"
)

// SchemaPath is the absolute path of schema/events.schema.json in this checkout.
func SchemaPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "schema", "events.schema.json")
}

// Schema compiles the shipped event schema, with format assertions on (so
// "time" must really be an RFC 3339 date-time).
func Schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	sch, err := compile(SchemaPath())
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func compile(path string) (*jsonschema.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("events.schema.json", doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile("events.schema.json")
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", path, err)
	}
	return sch, nil
}

// Validate checks one line of a stream against sch.
func Validate(sch *jsonschema.Schema, line []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// Stream checks a whole stream: every line is one event valid against sch, the
// first carries schemaVersion and no other does. It returns the decoded events.
func Stream(sch *jsonschema.Schema, r io.Reader) ([]event.Event, error) {
	var evs []event.Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if err := Validate(sch, line); err != nil {
			return evs, fmt.Errorf("line %d %s: %w", n, line, err)
		}
		var e event.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return evs, fmt.Errorf("line %d: %w", n, err)
		}
		switch {
		case n == 1 && e.SchemaVersion != event.SchemaVersion:
			return evs, fmt.Errorf("line 1: schemaVersion = %q, want %q", e.SchemaVersion, event.SchemaVersion)
		case n > 1 && e.SchemaVersion != "":
			return evs, fmt.Errorf("line %d carries schemaVersion: only the first event does", n)
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}
