package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/devloop/devloop/internal/testbed"
)

// authRegistry is ggcr's in-process registry behind HTTP basic auth.
type authRegistry struct {
	host       string
	authorized atomic.Int64 // requests that carried the right credentials
}

func newAuthRegistry(t *testing.T, user, password string) *authRegistry {
	t.Helper()
	r := &authRegistry{}
	inner := registry.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="devloop-test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.authorized.Add(1)
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// TestIntegrationSecrets pushes to a registry that requires basic auth, with the
// credentials in a Docker config (inline auth, then a credential helper), and
// checks that the password appears nowhere in devloop's output or events, also
// when the password is wrong and the push fails.
func TestIntegrationSecrets(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	const user = "devloop"
	password := "planted-" + uniqueName("pw")
	reg := newAuthRegistry(t, user, password)

	tests := []struct {
		name     string
		password string // what the Docker config holds
		helper   bool   // through a credential helper instead of an inline auth
		wantCode int
	}{
		{name: "inline auth", password: password, wantCode: ExitOK},
		{name: "credential helper", password: password, helper: true, wantCode: ExitOK},
		{name: "wrong password", password: password + "-wrong", wantCode: ExitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			project := uniqueName("it-secret")
			cfg, _ := example(t, project, fmt.Sprintf("target:\n  type: registry\n  registry:\n    host: %q\n    insecure: true\n", reg.host))
			deleteNamespaceAtEnd(t, cs, project)
			dockerConfig := t.TempDir()
			auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + tc.password))
			conf := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, reg.host, auth)
			if tc.helper {
				bin := t.TempDir()
				script := fmt.Sprintf("#!/bin/sh\ncat >/dev/null\necho '{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}'\n", reg.host, user, tc.password)
				if err := os.WriteFile(filepath.Join(bin, "docker-credential-devlooptest"), []byte(script), 0o755); err != nil {
					t.Fatal(err)
				}
				t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
				conf = fmt.Sprintf(`{"credHelpers": {%q: "devlooptest"}}`, reg.host)
			}
			if err := os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("DOCKER_CONFIG", dockerConfig)
			eventLog := filepath.Join(t.TempDir(), "events.jsonl")
			before := reg.authorized.Load()

			// The node cannot pull from this registry: only the push matters here.
			code, stdout, stderr := devloop(t, context.Background(), "run", "-v", "-v", "--no-wait", "--event-log", eventLog, "-f", cfg, "--context", env.Context)
			if code != tc.wantCode {
				t.Errorf("devloop run = %d, want %d", code, tc.wantCode)
			}
			if tc.wantCode != ExitOK && !strings.Contains(stderr, "docker login "+reg.host) {
				t.Errorf("stderr after refused credentials = %q, want the docker login hint", stderr)
			}
			if tc.wantCode == ExitOK && reg.authorized.Load() == before {
				t.Errorf("the registry saw no authorized request: the credentials were not used")
			}
			events, err := os.ReadFile(eventLog)
			if err != nil {
				t.Fatal(err)
			}
			jsonCode, jsonOut, jsonErr := devloop(t, context.Background(), "run", "-o", "json", "--no-wait", "-f", cfg, "--context", env.Context)
			if jsonCode != tc.wantCode {
				t.Errorf("devloop run -o json = %d, want %d", jsonCode, tc.wantCode)
			}
			for what, out := range map[string]string{"stdout": stdout, "stderr": stderr, "event log": string(events), "json stdout": jsonOut, "json stderr": jsonErr} {
				for _, secret := range []string{tc.password, password, auth} {
					if strings.Contains(out, secret) {
						t.Errorf("%s holds a secret (%q)", what, secret)
					}
				}
			}
		})
	}
}
