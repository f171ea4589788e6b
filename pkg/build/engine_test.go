package build

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	e, err := newEngine("unix://"+sock, "", false)
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

func TestEngineHijack(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /grpc", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "h2c" || r.Header.Get("X-Docker-Expose-Session-Uuid") != "u1" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nhello")
		line, _ := rw.ReadString('\n')
		io.WriteString(conn, "echo "+line)
	})
	mux.HandleFunc("POST /hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /refused", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"page not found"}`)
	})
	e := fakeDaemon(t, mux)

	conn, err := e.hijack(context.Background(), "/grpc", "h2c", map[string][]string{"X-Docker-Expose-Session-Uuid": {"u1"}})
	if err != nil {
		t.Fatalf("hijack() error = %v", err)
	}
	defer conn.Close()
	io.WriteString(conn, "ping\n")
	br := bufio.NewReader(conn)
	greeting := make([]byte, 5)
	if _, err := io.ReadFull(br, greeting); err != nil || string(greeting) != "hello" {
		t.Fatalf("reading upgraded stream = %q, %v, want hello", greeting, err)
	}
	if line, _ := br.ReadString('\n'); line != "echo ping\n" {
		t.Errorf("upgraded stream echo = %q, want %q", line, "echo ping\n")
	}

	if _, err := e.hijack(context.Background(), "/refused", "h2c", nil); err == nil || !strings.Contains(err.Error(), "page not found") {
		t.Errorf("hijack(refused) error = %v, want the daemon's message", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.hijack(ctx, "/hang", "h2c", nil)
	if err == nil {
		t.Fatalf("hijack(hang) succeeded, want the context's error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hijack(hang) returned after %v: cancellation did not reach it", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		t.Errorf("hijack(hang) error = %v, want one after the deadline", err)
	}
}

func TestNewEngine(t *testing.T) {
	for _, tc := range []struct {
		host     string
		wantNet  string
		wantAddr string
		wantErr  bool
	}{
		{host: "unix:///var/run/docker.sock", wantNet: "unix", wantAddr: "/var/run/docker.sock"},
		{host: "tcp://192.168.49.2:2376", wantNet: "tcp", wantAddr: "192.168.49.2:2376"},
		{host: "tcp://docker", wantNet: "tcp", wantAddr: "docker:2375"},
		{host: "ssh://me@docker", wantErr: true},
		{host: "/var/run/docker.sock", wantErr: true},
	} {
		e, err := newEngine(tc.host, "", false)
		if (err != nil) != tc.wantErr {
			t.Errorf("newEngine(%q) error = %v, wantErr %v", tc.host, err, tc.wantErr)
			continue
		}
		if err == nil && (e.network != tc.wantNet || e.addr != tc.wantAddr) {
			t.Errorf("newEngine(%q) = %s %s, want %s %s", tc.host, e.network, e.addr, tc.wantNet, tc.wantAddr)
		}
	}
	if _, err := newEngine("tcp://docker:2376", t.TempDir(), true); err == nil {
		t.Errorf("newEngine(tls, empty cert dir) error = nil, want missing files")
	}
}
