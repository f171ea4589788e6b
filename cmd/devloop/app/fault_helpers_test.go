package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// The helpers here serve every TestIntegration* test of the package: the example
// project, a devloop dev running in process, waiting on its events, editing files
// in place. The ones below serve the fault tests.

// containerdTarget is the devloop.yaml target most integration tests use.
const containerdTarget = "target:\n  type: containerd\n"

// containerdExample copies the example under a unique project name made from
// base, with the containerd target, and deletes its namespace at the end. It
// returns the project, the config path and the port-forward's local port.
func containerdExample(t *testing.T, cs kubernetes.Interface, base string) (project, cfg string, port int) {
	t.Helper()
	project = uniqueName(base)
	cfg, port = example(t, project, containerdTarget)
	deleteNamespaceAtEnd(t, cs, project)
	return project, cfg, port
}

// timedDevloop is devloop that also returns how long it took.
func timedDevloop(t *testing.T, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	start := time.Now()
	code, _, stderr = devloop(t, context.Background(), args...)
	return code, stderr, time.Since(start)
}

// waitPhaseStart waits for an event of phase ph starting in the JSON Lines of out.
func waitPhaseStart(t *testing.T, out *syncBuffer, ph event.Phase, within time.Duration) {
	t.Helper()
	waitFor(t, within, string(ph)+" to start", func() bool {
		for _, e := range jsonEvents(t, out) {
			if e.Phase == ph && e.Status == event.StatusStart {
				return true
			}
		}
		return false
	})
}

// waitEvents polls read for up to 2 minutes until ended(evs, n) says iteration n
// is over, and returns the events read last.
func waitEvents(t *testing.T, n int, read func() []event.Event, ended func(evs []event.Event, n int) bool) []event.Event {
	t.Helper()
	var evs []event.Event
	waitFor(t, 2*time.Minute, fmt.Sprintf("the end of iteration %d", n), func() bool {
		evs = read()
		return ended(evs, n)
	})
	return evs
}

// editUntilEnd edits a file in place like edit and puts it back, by the reverse
// edit, when the test ends.
func editUntilEnd(t *testing.T, path, old, new string) {
	t.Helper()
	edit(t, path, old, new)
	t.Cleanup(func() { edit(t, path, new, old) })
}

// neverReady breaks the example's readiness probe (only it: the first /health
// in k8s/app.yaml), so that its pods never become ready.
func neverReady(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "k8s", "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "path: /health", "path: /never-ready", 1)
	if err := os.WriteFile(filepath.Join(dir, "k8s", "app.yaml"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The TestIntegrationFault* tests stop, kill and cut the shared daemons of the test
// bed. hack/test.sh runs them alone (-p 1), after every other test; each restores
// what it broke in t.Cleanup, even when it fails.

// pidsDir is where hack/testbed/testbed keeps its daemons' pid files.
func pidsDir() string {
	if d := os.Getenv("DEVLOOP_TESTBED_PIDS"); d != "" {
		return d
	}
	return "/run/devloop-testbed/pids"
}

// daemonPid reads the pid of a test-bed daemon (buildkitd, registry, …).
func daemonPid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pidsDir(), name+".pid"))
	if err != nil {
		t.Fatalf("pid of %s: %v", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid of %s: %v", name, err)
	}
	return pid
}

// freezeDaemon sends SIGSTOP to a test-bed daemon: it keeps its sockets, so
// connections are accepted and never answered. The returned thaw (also run at
// cleanup) sends SIGCONT.
func freezeDaemon(t *testing.T, name string) (thaw func()) {
	t.Helper()
	pid := daemonPid(t, name)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("stopping %s (pid %d): %v", name, pid, err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Errorf("continuing %s (pid %d): %v", name, pid, err)
			}
		})
	}
	t.Cleanup(thaw)
	t.Logf("%s (pid %d) stopped with SIGSTOP", name, pid)
	return thaw
}

// killDaemon kills a test-bed daemon with SIGKILL and waits for it to be gone.
// The returned restart (also run at cleanup) brings it back with `testbed up`,
// which starts only what is missing.
func killDaemon(t *testing.T, name string) (restart func()) {
	t.Helper()
	pid := daemonPid(t, name)
	var once sync.Once
	restart = func() { once.Do(func() { testbedUp(t) }) }
	t.Cleanup(restart)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing %s (pid %d): %v", name, pid, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s (pid %d) killed", name, pid)
	return restart
}

// testbedUp runs `hack/testbed/testbed up`, which restarts the daemons that are
// not running.
func testbedUp(t *testing.T) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "../../../hack/testbed/testbed", "up").CombinedOutput()
	if err != nil {
		t.Errorf("testbed up: %v\n%s", err, out)
		return
	}
	t.Logf("testbed up: %s", time.Since(start).Round(10*time.Millisecond))
}

// restartKindNode starts the kind-style node container again and waits until
// its containerd answers.
func restartKindNode(t *testing.T, env testbed.Env) {
	t.Helper()
	if out, err := exec.Command("docker", "start", env.KindNode).CombinedOutput(); err != nil {
		t.Errorf("docker start %s: %v\n%s", env.KindNode, err, out)
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command("docker", "exec", env.KindNode, "ctr", "version").Run() == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("the containerd of %s did not answer within 60s of docker start", env.KindNode)
}

// cutProxy is a TCP proxy to target that a test can cut (every connection
// closed, new ones refused) and restore on the same port.
type cutProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	p := &cutProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.pipe(c) })
		}
	})
}

func (p *cutProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); done <- struct{}{} }()
	go func() { io.Copy(c, u); done <- struct{}{} }()
	<-done
	c.Close()
	u.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// cut closes the listener and every open connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// restore listens again on the same address.
func (p *cutProxy) restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger for a moment
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("listening again on %s: %v", p.addr, err)
}

// kubeconfigVia writes a copy of the test bed's kubeconfig whose clusters point
// at server (https://host:port), and returns its path.
func kubeconfigVia(t *testing.T, env testbed.Env, server string) string {
	t.Helper()
	b, err := os.ReadFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && k == "server" {
			l = l[:strings.Index(l, "server:")] + "server: " + server
		}
		out = append(out, l)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// apiserverAddr is host:port of the test bed's apiserver, from its kubeconfig.
func apiserverAddr(t *testing.T, env testbed.Env) string {
	t.Helper()
	b, err := os.ReadFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if _, v, ok := strings.Cut(l, "server:"); ok {
			v = strings.TrimSpace(v)
			return strings.TrimPrefix(v, "https://")
		}
	}
	t.Fatal("no server in the test bed kubeconfig")
	return ""
}

// devProcess is a devloop dev (or run) running in this process with JSON events.
type devProcess struct {
	t      *testing.T
	out    syncBuffer
	errOut syncBuffer
	stop   context.CancelFunc
	done   chan int
}

func startDevloop(t *testing.T, args ...string) *devProcess {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	d := &devProcess{t: t, stop: stop, done: make(chan int, 1)}
	go func() {
		d.done <- Main(ctx, Streams{In: strings.NewReader(""), Out: &d.out, Err: &d.errOut}, args)
	}()
	t.Cleanup(func() {
		d.stop()
		select {
		case <-d.done:
		case <-time.After(30 * time.Second):
			t.Errorf("devloop %s did not stop within 30s", args[0])
		}
		if t.Failed() {
			d.dump()
		}
	})
	return d
}

func (d *devProcess) events() []event.Event { return jsonEvents(d.t, &d.out) }

// dump logs the events that are not progress chatter, and stderr.
func (d *devProcess) dump() {
	for _, e := range d.events() {
		if e.Status != event.StatusProgress || e.Phase == event.PhaseWatch || strings.HasPrefix(e.Message, "warning") {
			d.t.Logf("event %d %s %s %s %s %q %v", e.Iteration, e.Phase, e.Status, e.Artifact, e.Resource, e.Message, e.Files)
		}
	}
	d.t.Logf("stderr:\n%s", d.errOut.String())
}

// interrupt cancels devloop's context (Ctrl-C) and waits up to within for its
// exit code; ok is false if it did not exit in time.
func (d *devProcess) interrupt(within time.Duration) (code int, ok bool) {
	d.stop()
	select {
	case code = <-d.done:
		d.done <- code // for the cleanup
		return code, true
	case <-time.After(within):
		return 0, false
	}
}

// stopClean sends Ctrl-C to a devloop dev and wants it to exit 0 within 30s.
func (d *devProcess) stopClean() {
	d.t.Helper()
	code, ok := d.interrupt(30 * time.Second)
	if !ok {
		d.t.Fatal("devloop dev did not exit after Ctrl-C")
	}
	if code != ExitOK {
		d.t.Errorf("devloop dev = %d after Ctrl-C, want 0", code)
	}
}

// waitIteration waits for iteration n to end and returns its end event.
func (d *devProcess) waitIteration(n int, within time.Duration) event.Event {
	d.t.Helper()
	var end event.Event
	waitFor(d.t, within, "iteration "+strconv.Itoa(n)+" to end", func() bool {
		ends := iterationEnds(d.events())
		if len(ends) >= n {
			end = ends[n-1]
			return true
		}
		return false
	})
	d.t.Logf("iteration %d: %s %q", n, end.Status, end.Message)
	return end
}

// waitPhase waits for an event of phase ph with status st after the first skip
// events.
func (d *devProcess) waitPhase(ph event.Phase, st event.Status, within time.Duration) {
	d.t.Helper()
	waitFor(d.t, within, string(ph)+" "+string(st), func() bool {
		for _, e := range d.events() {
			if e.Phase == ph && e.Status == st {
				return true
			}
		}
		return false
	})
}

// countPhase counts the events of phase ph with status st.
func (d *devProcess) countPhase(ph event.Phase, st event.Status) int {
	n := 0
	for _, e := range d.events() {
		if e.Phase == ph && e.Status == st {
			n++
		}
	}
	return n
}

// appendLine appends a comment line to a file in place (a plain editor save).
func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n# " + line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// findProcess returns the pid of a process whose command line holds every one of
// args, or 0.
func findProcess(args ...string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		have := strings.Split(string(b), "\x00")
		all := true
		for _, a := range args {
			if !slices.Contains(have, a) {
				all = false
				break
			}
		}
		if all {
			return pid
		}
	}
	return 0
}
