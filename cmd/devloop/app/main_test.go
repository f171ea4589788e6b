package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devloop/devloop/pkg/event"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestMainConfigErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    dockerFile: Dockerfile.dev\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missingCtx := filepath.Join(dir, "missing.yaml")
	if err := os.WriteFile(missingCtx, []byte("apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    context: web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // a line stderr must contain
	}{
		{name: "build, unknown field", args: []string{"build", "-f", unknown}, want: unknown + ":5:5: error: artifacts[0]"},
		{name: "run, unknown field", args: []string{"run", "-f", unknown}, want: unknown + ":5:5: error: artifacts[0]"},
		{name: "dev, unknown field", args: []string{"dev", "-f", unknown}, want: unknown + ":5:5: error: artifacts[0]"},
		{name: "run, context missing", args: []string{"run", "-f", missingCtx}, want: missingCtx + ":5:"},
		{name: "run, json output still prints the position", args: []string{"run", "-o", "json", "-f", missingCtx}, want: missingCtx + ":5:"},
		{name: "no config file", args: []string{"run", "-f", filepath.Join(dir, "nope.yaml")}, want: "does not exist"},
		{name: "bad output flag", args: []string{"run", "-o", "yaml", "-f", unknown}, want: "--output must be text or json"},
		{name: "unknown flag", args: []string{"run", "--bogus"}, want: "unknown flag"},
		{name: "arguments", args: []string{"dev", "extra"}, want: "takes no arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tc.args...)
			if code != ExitUsage {
				t.Errorf("Main(%q) = %d, want %d (stderr %q)", tc.args, code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("Main(%q) stderr = %q, want it to contain %q", tc.args, stderr, tc.want)
			}
			if stdout != "" && !slices.Contains(tc.args, "json") { // JSON: see TestJSONConfigFailure
				t.Errorf("Main(%q) stdout = %q, want nothing", tc.args, stdout)
			}
		})
	}
}

func TestMainNonLocalContextIsRefusedBeforeBuilding(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://10.20.30.40:6443"}
contexts:
- name: prod
  context: {cluster: prod, user: u}
current-context: prod
users:
- name: u
  user: {token: x}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "devloop.yaml")
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    context: app\ndeploy:\n  manifests: [app]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMain(t, "run", "-f", cfg, "--kubeconfig", kubeconfig)
	if code != ExitUsage || !strings.Contains(stderr, "prod") || !strings.Contains(stderr, "allow-context") {
		t.Errorf("Main(run) = %d, stderr %q; want %d and a hint naming the context and --allow-context", code, stderr, ExitUsage)
	}
	if strings.Contains(stderr, "build") {
		t.Errorf("stderr = %q: nothing may be built for a refused context", stderr)
	}
	// editors read the refusal from the event stream too
	code, stdout, _ := runMain(t, "run", "-o", "json", "-f", cfg, "--kubeconfig", kubeconfig)
	var ev event.Event
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &ev); err != nil {
		t.Fatalf("Main(run -o json) stdout = %q, want one JSON event: %v", stdout, err)
	}
	if code != ExitUsage || ev.Phase != event.PhaseConfig || ev.Status != event.StatusFailure || !strings.Contains(ev.Message, "allow-context") {
		t.Errorf("Main(run -o json) = %d, event %+v; want %d and a config failure event naming --allow-context", code, ev, ExitUsage)
	}
}
