package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client/ociindex"
)

func TestIntegrationBuildkitdLayout(t *testing.T) {
	tb := testbed.Require(t)
	ctx := itContext(t)
	tgt := buildkitdLayout()
	rec := &event.Recorder{}
	opts := tgt.opts(tb, t)
	opts.Progress, opts.Events = ProgressEvents, rec
	b := newITBuilder(ctx, t, opts)
	s := Spec{Name: "devloop-it/layout-app", Context: appContext(t, tgt.base)}

	first, second, changed := checkRebuilds(ctx, t, b, s)
	for _, r := range []Result{first, second, changed} {
		if r.Image.LayoutDir == "" || r.Image.InDaemon {
			t.Fatalf("layout build image = %+v, want a layout directory", r.Image)
		}
		full := "docker.io/devloop-it/layout-app:" + r.Image.Ref.TagStr()
		desc, err := ociindex.NewStoreIndex(r.Image.LayoutDir).Get(full)
		if err != nil || desc == nil || desc.Digest.String() != r.Image.Digest.String() {
			t.Errorf("index.json entry for %s = %v, %v, want digest %s", full, desc, err, r.Image.Digest)
		}
	}
	files := layoutFiles(t, changed)
	for _, f := range []string{"app/app.py", "app/built.txt"} {
		if !slices.Contains(files, f) {
			t.Errorf("image files lack %s", f)
		}
	}
	for _, f := range []string{"app/secret.txt", "app/debug.log"} {
		if slices.Contains(files, f) {
			t.Errorf("image holds %s, which .dockerignore excludes", f)
		}
	}

	var cachedEvents, successes int
	for _, e := range rec.Events() {
		if e.Phase != event.PhaseBuild || e.Artifact != s.Name {
			t.Errorf("event %+v: want phase build for %s", e, s.Name)
		}
		if e.Status == event.StatusProgress && strings.HasPrefix(e.Message, "CACHED ") {
			cachedEvents++
		}
		if e.Status == event.StatusSuccess {
			successes++
		}
	}
	if successes != 3 || cachedEvents < second.Steps {
		t.Errorf("events: %d successes, %d CACHED progress events; want 3 and at least %d", successes, cachedEvents, second.Steps)
	}
}

func TestIntegrationDockerDaemon(t *testing.T) {
	tb := testbed.Require(t)
	ctx := itContext(t)
	tgt := dockerDaemon()
	b := newITBuilder(ctx, t, tgt.opts(tb, t))
	s := Spec{Name: "devloop-it-daemon-app", Context: appContext(t, tgt.base)}

	first, _, changed := checkRebuilds(ctx, t, b, s)
	for _, r := range []Result{first, changed} {
		if !r.Image.InDaemon || r.Image.LayoutDir != "" {
			t.Fatalf("daemon build image = %+v, want InDaemon", r.Image)
		}
		info, err := b.eng.inspect(ctx, r.Image.Ref.String())
		if err != nil {
			t.Fatalf("GET /images/%s/json: %v", r.Image.Ref, err)
		}
		if info.ID != r.Image.Digest.String() {
			t.Errorf("daemon image %s has ID %s, want %s", r.Image.Ref, info.ID, r.Image.Digest)
		}
		if !slices.Contains(info.RepoTags, r.Image.Ref.String()) {
			t.Errorf("daemon image tags = %v, want %s", info.RepoTags, r.Image.Ref)
		}
	}
}

func TestIntegrationRegistry(t *testing.T) {
	tb := testbed.Require(t)
	ctx := itContext(t)
	tgt := buildkitdLayout()
	needBuildkitd(t, tb)
	b := newITBuilder(ctx, t, Options{Builder: tb.BuildkitHost, Output: OutputRegistry, Registry: tb.Registry})
	s := Spec{Name: "devloop-it/pushed", Context: appContext(t, tgt.base)}

	first := buildOK(ctx, t, b, s)
	if got, want := first.Image.Ref.Context().Name(), tb.Registry+"/devloop-it/pushed"; got != want {
		t.Errorf("pushed repository = %s, want %s", got, want)
	}
	desc, err := remote.Head(first.Image.Ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("HEAD %s: %v", first.Image.Ref, err)
	}
	if desc.Digest != first.Image.Digest {
		t.Errorf("registry has %s at %s, want %s", desc.Digest, first.Image.Ref, first.Image.Digest)
	}
	again := buildOK(ctx, t, b, s)
	t.Logf("build + push %v, unchanged rebuild + push %v", first.Duration, again.Duration)
	if again.Image.Ref != first.Image.Ref {
		t.Errorf("unchanged rebuild pushed %s, want %s", again.Image.Ref, first.Image.Ref)
	}
}

func TestIntegrationBuildErrors(t *testing.T) {
	tb := testbed.Require(t)
	for _, tgt := range []target{buildkitdLayout(), dockerDaemon()} {
		t.Run(tgt.name, func(t *testing.T) {
			ctx := itContext(t)
			b := newITBuilder(ctx, t, tgt.opts(tb, t))
			for _, tc := range []struct {
				name       string
				dockerfile string
				want       BuildError
				wantLog    string
			}{{
				name:       "syntax error",
				dockerfile: "FROM " + tgt.base + "\nWORKDIR /app\nCOPYY . .\n",
				want:       BuildError{Line: 3, Step: "COPYY . ."},
			}, {
				name: "failing RUN",
				dockerfile: "FROM " + tgt.base + "\nWORKDIR /app\nCOPY . .\n" +
					"RUN echo about to fail; echo $(cat nonce.txt); false\n",
				want:    BuildError{Line: 4, Step: "RUN echo about to fail; echo $(cat nonce.txt); false"},
				wantLog: "about to fail",
			}} {
				t.Run(tc.name, func(t *testing.T) {
					dir := t.TempDir()
					writeFiles(t, dir, map[string]string{"Dockerfile": tc.dockerfile, "nonce.txt": fmt.Sprint(time.Now().UnixNano())})
					_, err := b.Build(ctx, Spec{Name: "devloop-it-broken", Context: dir})
					var be *BuildError
					if !errors.As(err, &be) {
						t.Fatalf("Build() error = %v (%T), want a *BuildError", err, err)
					}
					t.Logf("error:\n%v", be)
					if be.File != filepath.Join(dir, "Dockerfile") || be.Line != tc.want.Line || be.Step != tc.want.Step {
						t.Errorf("BuildError at %s:%d %q, want %s:%d %q", be.File, be.Line, be.Step, filepath.Join(dir, "Dockerfile"), tc.want.Line, tc.want.Step)
					}
					if tc.wantLog != "" && !slices.Contains(be.Logs, tc.wantLog) {
						t.Errorf("BuildError.Logs = %q, want a line %q", be.Logs, tc.wantLog)
					}
					if strings.Contains(be.Error(), "rpc error") {
						t.Errorf("BuildError.Error() = %q, want no gRPC wrapping", be.Error())
					}
				})
			}
		})
	}
}

func TestIntegrationDependencies(t *testing.T) {
	tb := testbed.Require(t)
	for _, tgt := range []target{buildkitdLayout(), buildkitdRegistry(), dockerDaemon()} {
		t.Run(tgt.name, func(t *testing.T) {
			ctx := itContext(t)
			b := newITBuilder(ctx, t, tgt.opts(tb, t))
			dir := t.TempDir()
			nonce := fmt.Sprint(time.Now().UnixNano())
			writeFiles(t, dir, map[string]string{
				"base/Dockerfile": "FROM " + tgt.base + "\nRUN echo " + nonce + " > /base.txt\n",
				"app/Dockerfile":  "FROM devloop-it-base AS runtime\nRUN grep " + nonce + " /base.txt\n",
			})
			// The dependent comes first: Build must order them.
			specs := []Spec{
				{Name: "devloop-it-app", Context: filepath.Join(dir, "app")},
				{Name: "devloop-it-base", Context: filepath.Join(dir, "base")},
			}
			rs, err := b.Build(ctx, specs...)
			if err != nil {
				t.Fatalf("Build() error = %v", err)
			}
			if rs[0].Artifact != "devloop-it-app" || rs[1].Artifact != "devloop-it-base" {
				t.Errorf("results in order %s, %s, want the specs' order", rs[0].Artifact, rs[1].Artifact)
			}
			// Building the dependent alone reuses the base this Builder built.
			again, err := b.Build(ctx, specs[0])
			if err != nil {
				t.Fatalf("Build(app alone) error = %v", err)
			}
			if again[0].Image.Ref != rs[0].Image.Ref {
				t.Errorf("app rebuilt alone = %s, want %s", again[0].Image.Ref, rs[0].Image.Ref)
			}
		})
	}
}

func TestIntegrationSecrets(t *testing.T) {
	tb := testbed.Require(t)
	ctx := itContext(t)
	tgt := buildkitdLayout()
	opts := tgt.opts(tb, t)
	opts.LookupEnv = func(k string) (string, bool) {
		if k == "DEVLOOP_IT_TOKEN" {
			return "s3cret", true
		}
		return os.LookupEnv(k)
	}
	b := newITBuilder(ctx, t, opts)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM " + tgt.base + "\n" +
		"RUN --mount=type=secret,id=token test \"$(cat /run/secrets/token)\" = s3cret && echo " + fmt.Sprint(time.Now().UnixNano()) + "\n"})
	buildOK(ctx, t, b, Spec{Name: "devloop-it-secret", Context: dir, Secrets: map[string]string{"token": "DEVLOOP_IT_TOKEN"}})

	_, err := b.Build(ctx, Spec{Name: "devloop-it-secret", Context: dir, Secrets: map[string]string{"token": "DEVLOOP_IT_UNSET"}})
	if err == nil || !strings.Contains(err.Error(), "DEVLOOP_IT_UNSET is not set") {
		t.Errorf("Build(unset secret) error = %v, want the variable named", err)
	}
}

func TestIntegrationCancel(t *testing.T) {
	tb := testbed.Require(t)
	ctx := itContext(t)
	tgt := buildkitdLayout()
	b := newITBuilder(ctx, t, tgt.opts(tb, t))
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM " + tgt.base + "\nRUN echo " + fmt.Sprint(time.Now().UnixNano()) + " && sleep 120\n"})

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(3*time.Second, cancel)
	start := time.Now()
	_, err := b.Build(cctx, Spec{Name: "devloop-it-cancel", Context: dir})
	t.Logf("canceled build returned after %v: %v", time.Since(start), err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Build(canceled) error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("Build(canceled) returned after %v: cancellation did not reach BuildKit", d)
	}
}
