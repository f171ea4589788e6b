package stages

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/devloop/devloop/pkg/event"
)

func TestManifestsRenderFailureIsLocated(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "app.yaml")
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n   bogus: [\n"
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sources []string
		want    event.Event
	}{
		{
			name:    "YAML error",
			sources: []string{dir},
			want:    event.Event{Phase: event.PhaseDeploy, Status: event.StatusFailure, File: bad, Line: 10},
		},
		{
			name:    "no manifests",
			sources: nil,
			want:    event.Event{Phase: event.PhaseDeploy, Status: event.StatusFailure, Message: "the config has no manifests (deploy.manifests or deploy.kustomize)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec event.Recorder
			_, err := Manifests{Sources: tc.sources, Sink: &rec}.Render(context.Background(), nil)
			if err == nil {
				t.Fatal("Render() = nil error, want one")
			}
			evs := rec.Events()
			if len(evs) != 1 {
				t.Fatalf("events = %+v, want one", evs)
			}
			got := evs[0]
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(event.Event{}, "Message")); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if tc.want.File != "" && (got.Message == "" || got.Message[0] == '/') {
				t.Errorf("message = %q, want it without the location", got.Message)
			}
			if tc.want.Message != "" && got.Message != tc.want.Message {
				t.Errorf("message = %q, want %q", got.Message, tc.want.Message)
			}
		})
	}
}
