package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/devloop/devloop/internal/testbed"
)

// example copies examples/flask-redis into a temporary directory under its own
// project name and namespace, with extra devloop.yaml lines (a target), and returns
// the config path and the local port its port-forward listens on. The state and
// image caches are the test's own.
func example(t *testing.T, project, extra string) (cfgPath string, port int) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	src, err := filepath.Abs("../../../examples/flask-redis")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "flask-redis")
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	port = freePort(t)
	cfg := fmt.Sprintf(`apiVersion: devloop.dev/v1alpha1
kind: Config
name: %[1]s
artifacts:
  - image: flask-redis-app
    context: .
deploy:
  manifests: [k8s/]
  namespace: %[1]s
  rolloutTimeout: 2m
portForward:
  - resource: service/flask-redis-app
    port: 80
    localPort: %[2]d
%[3]s`, project, port, extra)
	cfgPath = filepath.Join(dir, "devloop.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, port
}

// uniqueName makes a project (and namespace) name of its own for one test run,
// so that two runs of the integration tests on the same test bed do not meet.
func uniqueName(base string) string {
	return fmt.Sprintf("%s-%04x", base, rand.Uint32()&0xffff)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func kubeClient(t *testing.T, env testbed.Env) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: env.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: env.Context}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// deleteNamespaceAtEnd removes the test's namespace, whatever happened.
func deleteNamespaceAtEnd(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		cs.CoreV1().ConfigMaps("default").Delete(ctx, "devloop-inventory-"+ns, metav1.DeleteOptions{})
	})
}

// devloop runs Main with the test bed's context and returns its exit code and
// output, logging both.
func devloop(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	start := time.Now()
	code := Main(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args)
	t.Logf("devloop %s: exit %d in %s\n%s%s", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), errOut.String(), out.String())
	return code, out.String(), errOut.String()
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running devloop.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func requireReady(t *testing.T, cs kubernetes.Interface, ns string, names ...string) []*appsv1.Deployment {
	t.Helper()
	var ds []*appsv1.Deployment
	for _, n := range names {
		d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), n, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("deployment %s/%s: %v", ns, n, err)
		}
		if d.Status.ReadyReplicas != *d.Spec.Replicas || d.Status.UpdatedReplicas != *d.Spec.Replicas {
			t.Errorf("deployment %s/%s: %d/%d ready, %d updated, want all", ns, n, d.Status.ReadyReplicas, *d.Spec.Replicas, d.Status.UpdatedReplicas)
		}
		ds = append(ds, d)
	}
	return ds
}

var seenRE = regexp.MustCompile(`I have been seen (\d+) times`)

// hits GETs / through the port-forward until it answers, and returns the counter.
func hits(t *testing.T, port int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := seenRE.FindSubmatch(body); resp.StatusCode == http.StatusOK && m != nil {
				n, _ := strconv.Atoi(string(m[1]))
				return n
			}
			last = fmt.Sprintf("%s: %q", resp.Status, body)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET / through the port-forward never answered with the counter; last: %s", last)
	return 0
}

func TestIntegrationRun(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	tests := []struct {
		name, project, extra string
	}{
		{name: "containerd target", project: "it-run-containerd", extra: "target:\n  type: containerd\n"},
		{name: "registry target", project: "it-run-registry", extra: fmt.Sprintf("target:\n  type: registry\n  registry:\n    host: %q\n    insecure: true\n", env.Registry)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.project = uniqueName(tc.project)
			cfg, port := example(t, tc.project, tc.extra)
			deleteNamespaceAtEnd(t, cs, tc.project)
			ctx := context.Background()
			base := []string{"run", "-f", cfg, "--context", env.Context}

			// First run: build, load, apply, wait.
			if code, _, stderr := devloop(t, ctx, base...); code != ExitOK {
				t.Fatalf("devloop run = %d, want 0; stderr:\n%s", code, stderr)
			}
			first := requireReady(t, cs, tc.project, "flask-redis-app", "redis")[0]

			// The counter increments through devloop's own port-forward.
			fctx, stop := context.WithCancel(ctx)
			done := make(chan int, 1)
			go func() {
				code, _, _ := devloop(t, fctx, append(base, "--port-forward")...)
				done <- code
			}()
			n1 := hits(t, port)
			n2 := hits(t, port)
			if n2 != n1+1 {
				t.Errorf("counter went from %d to %d, want +1", n1, n2)
			}
			stop()
			select {
			case code := <-done:
				if code != ExitOK {
					t.Errorf("devloop run --port-forward = %d after Ctrl-C, want 0", code)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("devloop run --port-forward did not stop within 5s of Ctrl-C")
			}

			// Nothing changed: no build, no load, no apply, and quickly.
			start := time.Now()
			code, _, stderr := devloop(t, ctx, base...)
			if code != ExitOK || !strings.Contains(stderr, "nothing changed: no build, no load, no apply") {
				t.Errorf("second devloop run = %d, stderr:\n%s\nwant 0 and nothing changed", code, stderr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("second devloop run took %s, want it quick", d)
			}

			// A change to the app rolls out a new ReplicaSet with a new tag.
			app := filepath.Join(filepath.Dir(cfg), "app.py")
			appendLine(t, app, "changed by "+t.Name())
			if code, _, stderr := devloop(t, ctx, base...); code != ExitOK || !strings.Contains(stderr, "built flask-redis-app") {
				t.Fatalf("devloop run after a change = %d, want 0 and a build; stderr:\n%s", code, stderr)
			}
			second := requireReady(t, cs, tc.project, "flask-redis-app")[0]
			before, after := first.Spec.Template.Spec.Containers[0].Image, second.Spec.Template.Spec.Containers[0].Image
			if before == after {
				t.Errorf("image after a change = %s, want a new tag", after)
			}
			if second.Generation == first.Generation {
				t.Errorf("deployment generation stayed %d, want a new rollout", first.Generation)
			}
			t.Logf("image %s → %s", before, after)
		})
	}
}

// TestIntegrationBuild runs devloop build twice on the example: one reference per
// artifact on stdout, the same both times.
func TestIntegrationBuild(t *testing.T) {
	env := testbed.Require(t)
	cfg, _ := example(t, uniqueName("it-build"), "")
	refRE := regexp.MustCompile(`^flask-redis-app:[0-9a-f]{16}\n$`)
	var refs []string
	for range 2 {
		code, stdout, stderr := devloop(t, context.Background(), "build", "-f", cfg, "--context", env.Context)
		if code != ExitOK || !refRE.MatchString(stdout) {
			t.Fatalf("devloop build = %d, stdout %q; want 0 and one content-addressed reference\nstderr:\n%s", code, stdout, stderr)
		}
		refs = append(refs, stdout)
	}
	if refs[0] != refs[1] {
		t.Errorf("rebuild without changes gave %q, then %q; want the same reference", refs[0], refs[1])
	}
}
