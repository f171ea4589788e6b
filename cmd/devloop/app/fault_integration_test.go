package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// requireNotApplied fails when the project's app Deployment exists: a failed
// build or load must apply nothing.
func requireNotApplied(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	_, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "flask-redis-app", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("deployment %s/flask-redis-app after a failure before apply: err %v, want it never applied", ns, err)
	}
}

// appImage is the image the project's app Deployment runs.
func appImage(t *testing.T, cs kubernetes.Interface, ns string) string {
	t.Helper()
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "flask-redis-app", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("deployment %s/flask-redis-app: %v", ns, err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// wantMentions fails unless msg mentions every one of words.
func wantMentions(t *testing.T, what, msg string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("%s = %q, want it to mention %q", what, msg, w)
		}
	}
}

// waitExit waits for a devloop started with startDevloop to exit.
func (d *devProcess) waitExit(within time.Duration) (int, time.Duration) {
	d.t.Helper()
	start := time.Now()
	select {
	case code := <-d.done:
		d.done <- code // for the cleanup
		return code, time.Since(start)
	case <-time.After(within):
		d.t.Fatalf("devloop did not exit within %s", within)
		return 0, 0
	}
}

func TestIntegrationFaultBuildkitd(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)

	t.Run("stopped before a build", func(t *testing.T) {
		project, cfg, _ := containerdExample(t, cs, "it-fault-bk-stopped")
		freezeDaemon(t, "buildkitd")
		code, stderr, took := timedDevloop(t, "run", "-f", cfg, "--context", env.Context)
		if code != ExitFailure {
			t.Errorf("devloop run with buildkitd stopped = %d, want %d", code, ExitFailure)
		}
		if took > 40*time.Second {
			t.Errorf("devloop run with buildkitd stopped took %s, want a bounded wait", took)
		}
		wantMentions(t, "stderr", stderr, "buildkitd at unix://", "no answer within", "hack/testbed/testbed up")
		requireNotApplied(t, cs, project)
		t.Logf("buildkitd stopped (SIGSTOP) before a build: exit %d after %s", code, took.Round(100*time.Millisecond))
	})

	t.Run("killed during a build, dev recovers", func(t *testing.T) {
		project, cfg, _ := containerdExample(t, cs, "it-fault-bk-killed")
		dir := filepath.Dir(cfg)
		edit(t, filepath.Join(dir, "Dockerfile"), "WORKDIR /app", "RUN sleep 20 # "+project+"\nWORKDIR /app")
		d := startDevloop(t, "dev", "-o", "json", "--tail=false", "-f", cfg, "--context", env.Context)
		d.waitPhase(event.PhaseBuild, event.StatusStart, 60*time.Second)
		time.Sleep(2 * time.Second)
		restart := killDaemon(t, "buildkitd")
		killed := time.Now()
		end := d.waitIteration(1, 60*time.Second)
		t.Logf("buildkitd killed during a build: iteration failed %s later", time.Since(killed).Round(100*time.Millisecond))
		if end.Status != event.StatusFailure {
			t.Errorf("iteration with buildkitd killed = %s, want failure", end.Status)
		}
		wantMentions(t, "failure message", end.Message, "buildkitd", "hack/testbed/testbed up")
		requireNotApplied(t, cs, project)

		restart()
		fixed := time.Now()
		edit(t, filepath.Join(dir, "Dockerfile"), "RUN sleep 20 # "+project+"\n", "")
		end = d.waitIteration(2, 3*time.Minute)
		if end.Status != event.StatusSuccess {
			t.Fatalf("iteration after buildkitd came back = %s %q, want success", end.Status, end.Message)
		}
		t.Logf("dev recovered on the next save after buildkitd restarted: %s", time.Since(fixed).Round(100*time.Millisecond))
		requireReady(t, cs, project, "flask-redis-app")
	})
}

// faultyRegistry is a reverse proxy to the test bed registry that can answer
// every request with a 500, or refuse connections.
type faultyRegistry struct {
	srv  *httptest.Server
	host string
	mode atomic.Value // "pass", "500"
}

func newFaultyRegistry(t *testing.T, upstream string) *faultyRegistry {
	t.Helper()
	r := &faultyRegistry{}
	r.mode.Store("pass")
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.mode.Load() == "500" {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

func TestIntegrationFaultRegistry(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	project := uniqueName("it-fault-registry")
	reg := newFaultyRegistry(t, env.Registry)
	proxy := newCutProxy(t, reg.host)
	cfg, _ := example(t, project, fmt.Sprintf("target:\n  type: registry\n  registry:\n    host: %q\n    insecure: true\n", proxy.addr))
	deleteNamespaceAtEnd(t, cs, project)
	app := filepath.Join(filepath.Dir(cfg), "app.py")

	// The node pulls from this port too, so the whole pipeline goes through it.
	d := startDevloop(t, "dev", "-o", "json", "--tail=false", "-f", cfg, "--context", env.Context)
	if end := d.waitIteration(1, 3*time.Minute); end.Status != event.StatusSuccess {
		t.Fatalf("first iteration = %s %q, want success", end.Status, end.Message)
	}
	running := appImage(t, cs, project)

	// 500s: the push fails, nothing is applied, the old pods keep running.
	reg.mode.Store("500")
	appendLine(t, app, "registry answers 500")
	end := d.waitIteration(2, 2*time.Minute)
	if end.Status != event.StatusFailure {
		t.Errorf("iteration with the registry answering 500 = %s, want failure", end.Status)
	}
	wantMentions(t, "failure message", end.Message, proxy.addr, "500", "is the registry running")
	if got := appImage(t, cs, project); got != running {
		t.Errorf("image after a failed push = %s, want the running %s kept", got, running)
	}

	// Down: connections refused.
	reg.mode.Store("pass")
	proxy.cut()
	appendLine(t, app, "registry down")
	end = d.waitIteration(3, 2*time.Minute)
	if end.Status != event.StatusFailure {
		t.Errorf("iteration with the registry down = %s, want failure", end.Status)
	}
	wantMentions(t, "failure message", end.Message, proxy.addr, "connection refused", "is the registry running")
	if got := appImage(t, cs, project); got != running {
		t.Errorf("image after a failed push = %s, want the running %s kept", got, running)
	}

	// Back: the next save goes through, without restarting devloop.
	proxy.restore(t)
	back := time.Now()
	appendLine(t, app, "registry back")
	end = d.waitIteration(4, 3*time.Minute)
	if end.Status != event.StatusSuccess {
		t.Fatalf("iteration after the registry came back = %s %q, want success", end.Status, end.Message)
	}
	t.Logf("dev recovered on the next save after the registry came back: %s", time.Since(back).Round(100*time.Millisecond))
	if got := appImage(t, cs, project); got == running {
		t.Errorf("image after recovery = %s, want a new one", got)
	}
}

func TestIntegrationFaultKindNodeStoppedMidImport(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	project := uniqueName("it-fault-kind")
	cfg, _ := example(t, project, fmt.Sprintf("target:\n  type: kind\n  kind:\n    cluster: %s\n", env.KindCluster))
	deleteNamespaceAtEnd(t, cs, project)
	// A large layer the node lacks, so that the import lasts long enough to be cut.
	edit(t, filepath.Join(filepath.Dir(cfg), "Dockerfile"), "WORKDIR /app",
		"RUN head -c 150000000 /dev/urandom > /big # "+project+"\nWORKDIR /app")
	t.Cleanup(func() { restartKindNode(t, env) })

	d := startDevloop(t, "run", "-o", "json", "-f", cfg, "--context", env.Context)
	d.waitPhase(event.PhaseSideload, event.StatusStart, 3*time.Minute)
	// Mid-import: once the `docker exec … ctr images import` is streaming.
	waitFor(t, time.Minute, "the import into the node to start", func() bool {
		return findProcess("exec", "-i", env.KindNode, "import") > 0
	})
	time.Sleep(300 * time.Millisecond)
	stopped := time.Now()
	out, err := exec.Command("docker", "stop", "-t", "1", env.KindNode).CombinedOutput()
	if err != nil {
		t.Fatalf("docker stop %s: %v\n%s", env.KindNode, err, out)
	}
	t.Logf("docker stop %s: %s", env.KindNode, time.Since(stopped).Round(10*time.Millisecond))
	code, _ := d.waitExit(2 * time.Minute)
	t.Logf("node stopped mid-import: exit %d, %s after docker stop began", code, time.Since(stopped).Round(100*time.Millisecond))
	if code != ExitFailure {
		t.Errorf("devloop run with the node stopped mid-import = %d, want %d", code, ExitFailure)
	}
	var loadErr string
	for _, e := range d.events() {
		if e.Phase == event.PhaseSideload && e.Status == event.StatusFailure {
			loadErr = e.Message
		}
	}
	t.Logf("sideload failure: %s", loadErr)
	wantMentions(t, "sideload failure", loadErr, env.KindNode, "is the node container running")
	if n := d.countPhase(event.PhaseDeploy, event.StatusStart); n != 0 {
		t.Errorf("%d deploy phases started after a failed load, want 0", n)
	}
	requireNotApplied(t, cs, project)

	// No half-imported image name on the node once it is back.
	restartKindNode(t, env)
	if m := regexp.MustCompile(`flask-redis-app:[0-9a-f]{16}`).FindString(loadErr); m != "" {
		out, err := exec.Command("docker", "exec", env.KindNode, "ctr", "-n", "k8s.io", "images", "ls", "-q").CombinedOutput()
		if err != nil {
			t.Fatalf("listing the node's images: %v\n%s", err, out)
		}
		if strings.Contains(string(out), m) {
			t.Errorf("the node lists %s after an import cut by docker stop, want no half-imported image", m)
		}
	}
}

func TestIntegrationFaultAPIServer(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)

	t.Run("unreachable before apply", func(t *testing.T) {
		project, cfg, _ := containerdExample(t, cs, "it-fault-api-down")
		kc := kubeconfigVia(t, env, fmt.Sprintf("https://127.0.0.1:%d", freePort(t)))
		code, stderr, took := timedDevloop(t, "run", "--kubeconfig", kc, "-f", cfg, "--context", env.Context)
		t.Logf("apiserver unreachable: exit %d after %s", code, took.Round(100*time.Millisecond))
		if code != ExitFailure {
			t.Errorf("devloop run with the apiserver unreachable = %d, want %d", code, ExitFailure)
		}
		if took > time.Minute {
			t.Errorf("devloop run with the apiserver unreachable took %s, want a bounded wait", took)
		}
		wantMentions(t, "stderr", stderr, "connection refused", "Kubernetes API server", "is the cluster running")
		requireNotApplied(t, cs, project)
	})

	t.Run("cut during the rollout watch", func(t *testing.T) {
		project, cfg, _ := containerdExample(t, cs, "it-fault-api-cut")
		// Slow readiness, so the rollout watch is open when the connection is cut.
		edit(t, filepath.Join(filepath.Dir(cfg), "k8s", "app.yaml"), "initialDelaySeconds: 1", "initialDelaySeconds: 12")
		proxy := newCutProxy(t, apiserverAddr(t, env))
		kc := kubeconfigVia(t, env, "https://"+proxy.addr)
		d := startDevloop(t, "run", "-o", "json", "--kubeconfig", kc, "-f", cfg, "--context", env.Context)
		d.waitPhase(event.PhaseRollout, event.StatusStart, 3*time.Minute)
		time.Sleep(time.Second)
		proxy.cut()
		cut := time.Now()
		time.Sleep(5 * time.Second)
		proxy.restore(t)
		restored := time.Now()
		code, _ := d.waitExit(2 * time.Minute)
		t.Logf("apiserver cut for %s during the rollout watch: exit %d, %s after it came back", restored.Sub(cut).Round(100*time.Millisecond), code, time.Since(restored).Round(100*time.Millisecond))
		if code != ExitOK {
			t.Errorf("devloop run with the apiserver cut during the rollout = %d, want 0 (the watch re-established)", code)
		}
		requireReady(t, cs, project, "flask-redis-app")
	})
}
