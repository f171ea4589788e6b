package build

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devloop/devloop/internal/dockerapi"
	"github.com/google/go-cmp/cmp"
)

// fakeDaemon serves the Engine API endpoints the build uses on a unix socket.
func fakeDaemon(t *testing.T, handler http.Handler) *engine {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	e, err := newEngine(dockerapi.Env{Host: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEngineTagAndInspect(t *testing.T) {
	var got []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /images/{id}/tag", func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.PathValue("id")+" "+r.URL.Query().Get("repo")+":"+r.URL.Query().Get("tag"))
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /images/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("ref") != "app:0011/json" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"No such image: `+r.PathValue("ref")+`"}`)
			return
		}
		io.WriteString(w, `{"Id":"sha256:abc","RepoTags":["app:0011"]}`)
	})
	e := fakeDaemon(t, mux)
	ctx := context.Background()

	if err := e.tag(ctx, "sha256:abc", "app", "0011"); err != nil {
		t.Fatalf("tag() error = %v", err)
	}
	if diff := cmp.Diff([]string{"sha256:abc app:0011"}, got); diff != "" {
		t.Errorf("tag requests mismatch (-want +got):\n%s", diff)
	}
	info, err := e.inspect(ctx, "app:0011")
	if err != nil {
		t.Fatalf("inspect() error = %v", err)
	}
	if diff := cmp.Diff(imageInfo{ID: "sha256:abc", RepoTags: []string{"app:0011"}}, info); diff != "" {
		t.Errorf("inspect() mismatch (-want +got):\n%s", diff)
	}
	_, err = e.inspect(ctx, "missing:1")
	if err == nil || !strings.Contains(err.Error(), "No such image: missing:1") {
		t.Errorf("inspect(missing) error = %v, want the daemon's message", err)
	}
}
