package sideload

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakeEngine is a Docker Engine API with dockerd's load semantics: a layer whose
// chain the daemon has needs no file in the archive.
type fakeEngine struct {
	t             *testing.T
	refusePartial bool // containerd image store: every layer must be in the archive

	mu       sync.Mutex
	images   map[string]imageInspect // by name and by ID
	loads    [][]string              // entry names of each loaded archive
	requests []string
}

func newFakeEngine(t *testing.T) *fakeEngine {
	return &fakeEngine{t: t, images: map[string]imageInspect{}}
}

func (f *fakeEngine) add(ref string, ii imageInspect) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[ref] = ii
	f.images[ii.ID] = ii
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/version":
		_, _ = io.WriteString(w, `{"Os":"linux","Arch":"amd64","ApiVersion":"1.41"}`)
	case r.Method == http.MethodGet && p == "/images/json":
		var ids []map[string]string
		seen := map[string]bool{}
		for _, ii := range f.images {
			if !seen[ii.ID] {
				seen[ii.ID] = true
				ids = append(ids, map[string]string{"Id": ii.ID})
			}
		}
		_ = json.NewEncoder(w).Encode(ids)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/images/") && strings.HasSuffix(p, "/json"):
		ii, ok := f.images[strings.TrimSuffix(strings.TrimPrefix(p, "/images/"), "/json")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"No such image"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(ii)
	case r.Method == http.MethodPost && p == "/images/load":
		if ct := r.Header.Get("Content-Type"); ct != "application/x-tar" {
			f.t.Errorf("load Content-Type = %q, want application/x-tar", ct)
		}
		if err := f.load(r.Body); err != nil {
			_, _ = io.WriteString(w, `{"errorDetail":{"message":"`+err.Error()+`"},"error":"`+err.Error()+`"}`+"\n")
			return
		}
		_, _ = io.WriteString(w, `{"stream":"Loaded image\n"}`+"\n")
	case r.Method == http.MethodDelete && strings.HasPrefix(p, "/images/"):
		delete(f.images, strings.TrimPrefix(p, "/images/"))
		_, _ = io.WriteString(w, `[]`)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeEngine) load(body io.Reader) error {
	files, err := tarEntries(body)
	if err != nil {
		return err
	}
	f.loads = append(f.loads, names(files))
	var mf []dockerManifestEntry
	if err := json.Unmarshal(files["manifest.json"], &mf); err != nil {
		return err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(files[mf[0].Config]))
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, ii := range f.images {
		for i := range ii.RootFS.Layers {
			known[strings.Join(ii.RootFS.Layers[:i+1], ",")] = true
		}
	}
	var chain []string
	for i, l := range mf[0].Layers {
		chain = append(chain, cfg.RootFS.DiffIDs[i].String())
		if _, ok := files[l]; !ok && (f.refusePartial || !known[strings.Join(chain, ",")]) {
			return errors.New("open " + l + ": no such file or directory")
		}
	}
	ii := imageInspect{ID: "sha256:" + strings.TrimPrefix(mf[0].Config, "blobs/sha256/")}
	ii.RootFS.Layers = chain
	f.images[mf[0].RepoTags[0]] = ii
	f.images[ii.ID] = ii
	return nil
}

func inspectOf(t *testing.T, img v1.Image) imageInspect {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	ii := imageInspect{ID: configDigest(t, img).String()}
	for _, d := range cf.RootFS.DiffIDs {
		ii.RootFS.Layers = append(ii.RootFS.Layers, d.String())
	}
	return ii
}

func TestDockerLoad(t *testing.T) {
	dir := t.TempDir()
	base, vs := testImages(t, 3, 2048, 2)
	ds := writeLayout(t, dir, base, vs[0], vs[1])
	img := Image{Ref: mustTag(t, "app:v2"), Digest: ds[2], LayoutDir: dir}
	layers := layerDigests(t, vs[1])
	cfg := configDigest(t, vs[1])

	tests := []struct {
		name          string
		have          map[string]v1.Image
		refusePartial bool
		wantLoads     [][]string
		wantFallback  bool
		wantSkipped   int
	}{
		{
			name:        "earlier build of the same repository",
			have:        map[string]v1.Image{"app:v1": vs[0]},
			wantLoads:   [][]string{slices.Sorted(slices.Values(append([]string{"manifest.json"}, blobNames(cfg, layers[3])...)))},
			wantSkipped: 3,
		},
		{
			name:        "base image under another name",
			have:        map[string]v1.Image{"base:1": base},
			wantLoads:   [][]string{slices.Sorted(slices.Values(append([]string{"manifest.json"}, blobNames(cfg, layers[3])...)))},
			wantSkipped: 3,
		},
		{
			name:      "empty daemon",
			wantLoads: [][]string{slices.Sorted(slices.Values(append([]string{"manifest.json"}, blobNames(append([]v1.Hash{cfg}, layers...)...)...)))},
		},
		{
			name:          "daemon refuses the partial archive",
			have:          map[string]v1.Image{"app:v1": vs[0]},
			refusePartial: true,
			wantLoads: [][]string{
				slices.Sorted(slices.Values(append([]string{"manifest.json"}, blobNames(cfg, layers[3])...))),
				slices.Sorted(slices.Values(append([]string{"manifest.json"}, blobNames(append([]v1.Hash{cfg}, layers...)...)...))),
			},
			wantFallback: true,
		},
		{
			name:        "already loaded",
			have:        map[string]v1.Image{"docker.io/library/app:v2": vs[1]},
			wantSkipped: 5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe := newFakeEngine(t)
			fe.refusePartial = tc.refusePartial
			for ref, im := range tc.have {
				fe.add(ref, inspectOf(t, im))
			}
			srv := httptest.NewServer(fe)
			defer srv.Close()
			l, err := NewDocker(DockerOptions{Env: DockerEnv{Host: "tcp://" + srv.Listener.Addr().String()}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := l.Load(context.Background(), img)
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			if diff := cmp.Diff(tc.wantLoads, fe.loads); diff != "" {
				t.Errorf("loaded archives (-want +got):\n%s", diff)
			}
			if !res.Verified || res.Fallback != tc.wantFallback || res.BlobsSkipped != tc.wantSkipped {
				t.Errorf("Result = %+v, want verified, Fallback %v, BlobsSkipped %d", res, tc.wantFallback, tc.wantSkipped)
			}
			if len(tc.wantLoads) > 0 && !slices.Contains(fe.requests, "POST /images/load?quiet=1") {
				t.Errorf("requests %q lack POST /images/load?quiet=1", fe.requests)
			}
			if got, want := fe.images["docker.io/library/app:v2"].ID, cfg.String(); got != want {
				t.Errorf("daemon's app:v2 = %q, want %q", got, want)
			}
		})
	}
}

func TestDockerLoadFails(t *testing.T) {
	dir := t.TempDir()
	_, vs := testImages(t, 1, 64, 1)
	ds := writeLayout(t, dir, vs[0])
	fe := newFakeEngine(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/images/load" {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}`+"\n")
			return
		}
		fe.ServeHTTP(w, r)
	}))
	defer srv.Close()
	l, err := NewDocker(DockerOptions{Env: DockerEnv{Host: "tcp://" + srv.Listener.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), Digest: ds[0], LayoutDir: dir})
	if err == nil || !strings.Contains(err.Error(), "loading image: no space left on device") {
		t.Errorf("Load() = %v, want the daemon's message", err)
	}
}

func TestDockerInDaemon(t *testing.T) {
	fe := newFakeEngine(t)
	fe.add("docker.io/library/app:v1", imageInspect{ID: "sha256:" + strings.Repeat("c", 64)})
	srv := httptest.NewServer(fe)
	defer srv.Close()
	l, err := NewDocker(DockerOptions{Env: DockerEnv{Host: "tcp://" + srv.Listener.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), InDaemon: true})
	if err != nil || !res.Verified || res.BytesSent != 0 {
		t.Errorf("Load(in daemon) = %+v, %v; want verified, nothing sent", res, err)
	}
	if _, err := l.Load(context.Background(), Image{Ref: mustTag(t, "app:v2"), InDaemon: true}); err == nil || !strings.Contains(err.Error(), "does not have it") {
		t.Errorf("Load(missing) = %v, want a does-not-have-it error", err)
	}
}

func TestDockerDaemonDown(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := NewDocker(DockerOptions{Env: DockerEnv{Host: "unix://" + sock}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), InDaemon: true})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Docker daemon at unix://"+sock) || !strings.Contains(err.Error(), "is it running?") {
		t.Errorf("Load() = %v, want a cannot-reach error with a hint", err)
	}
}

func TestDockerTLS(t *testing.T) {
	fe := newFakeEngine(t)
	fe.add("docker.io/library/app:v1", imageInspect{ID: "sha256:" + strings.Repeat("c", 64)})
	srv := httptest.NewTLSServer(fe)
	defer srv.Close()
	certs := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(certs, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	env := DockerEnvFrom(func(k string) string {
		return map[string]string{
			"DOCKER_HOST":       "tcp://" + srv.Listener.Addr().String(),
			"DOCKER_TLS_VERIFY": "1",
			"DOCKER_CERT_PATH":  certs,
		}[k]
	})
	l, err := NewDocker(DockerOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), InDaemon: true}); err != nil || !res.Verified {
		t.Errorf("Load() over TLS = %+v, %v", res, err)
	}
	env.CertPath = t.TempDir() // no ca.pem
	l, _ = NewDocker(DockerOptions{Env: env})
	if _, err := l.Load(context.Background(), Image{Ref: mustTag(t, "app:v1"), InDaemon: true}); err == nil || !strings.Contains(err.Error(), "DOCKER_TLS_VERIFY is set") {
		t.Errorf("Load() without ca.pem = %v, want a DOCKER_CERT_PATH hint", err)
	}
}

func TestDockerEnv(t *testing.T) {
	minikube := []byte(`DOCKER_TLS_VERIFY=1
DOCKER_HOST=tcp://192.168.49.2:2376
DOCKER_CERT_PATH=/home/dev/.minikube/certs
MINIKUBE_ACTIVE_DOCKERD=minikube
`)
	env := ParseDockerEnv(minikube)
	want := DockerEnv{Host: "tcp://192.168.49.2:2376", TLS: true, TLSVerify: true, CertPath: "/home/dev/.minikube/certs"}
	if diff := cmp.Diff(want, DockerEnvFrom(func(k string) string { return env[k] })); diff != "" {
		t.Errorf("DockerEnvFrom(minikube docker-env) (-want +got):\n%s", diff)
	}
	bash := ParseDockerEnv([]byte("# To point your shell...\nexport DOCKER_HOST=\"tcp://10.0.0.2:2376\"\n"))
	if got := bash["DOCKER_HOST"]; got != "tcp://10.0.0.2:2376" {
		t.Errorf("ParseDockerEnv(bash) DOCKER_HOST = %q", got)
	}
	if got := DockerEnvFrom(func(string) string { return "" }); got != (DockerEnv{Host: DefaultDockerHost}) {
		t.Errorf("DockerEnvFrom(empty) = %+v", got)
	}

	fr := &fakeRunner{respond: func(args []string, _ []byte) (string, error) { return string(minikube), nil }}
	got, err := MinikubeDockerEnv(fr, "minikube")(context.Background())
	if err != nil || got != want {
		t.Errorf("MinikubeDockerEnv() = %+v, %v; want %+v", got, err, want)
	}
	if diff := cmp.Diff([]string{"minikube -p minikube docker-env --shell none"}, fr.commands()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	down := &fakeRunner{respond: func([]string, []byte) (string, error) { return "", errors.New("host is not running") }}
	if _, err := MinikubeDockerEnv(down, "minikube")(context.Background()); err == nil || !strings.Contains(err.Error(), "is minikube running?") {
		t.Errorf("MinikubeDockerEnv(stopped) = %v, want a hint", err)
	}
}
