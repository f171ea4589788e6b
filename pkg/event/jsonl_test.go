package event

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestJSONLinesSchemaVersionOnlyOnFirstEvent(t *testing.T) {
	var buf bytes.Buffer
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewJSONLines(&buf, func() time.Time { return fixed })
	ctx := context.Background()
	s.Send(ctx, Event{Iteration: 1, Phase: PhaseBuild, Status: StatusStart, Artifact: "app"})
	s.Send(ctx, Event{Iteration: 1, Phase: PhaseBuild, Status: StatusSuccess, Artifact: "app", Duration: 1500 * time.Millisecond})

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first["schemaVersion"] != SchemaVersion {
		t.Errorf("first event schemaVersion = %v, want %q", first["schemaVersion"], SchemaVersion)
	}
	if _, ok := second["schemaVersion"]; ok {
		t.Errorf("second event carries schemaVersion: %s", lines[1])
	}
	if second["durationMs"] != float64(1500) {
		t.Errorf("durationMs = %v, want 1500", second["durationMs"])
	}
	if first["time"] != "2026-01-02T03:04:05Z" {
		t.Errorf("time = %v, want the injected clock", first["time"])
	}
}
