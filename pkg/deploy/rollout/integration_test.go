package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/event"
)

// The test bed's node has these images seeded; nothing can be pulled.
const busybox = "docker.io/library/busybox:latest"

// detectWithin is how soon a stuck pod must be reported. The kubelet needs a
// couple of seconds to start (and crash) a container; the bound leaves room for a
// loaded machine.
const detectWithin = 30 * time.Second

// testbedClients connects to the test bed and creates a namespace that is deleted
// when the test ends.
func testbedClients(t *testing.T) (kubernetes.Interface, dynamic.Interface, string) {
	t.Helper()
	env := testbed.Require(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	if err != nil {
		t.Fatalf("loading %s: %v", env.Kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "devloop-rollout-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Logf("deleting namespace %s: %v", ns.Name, err)
		}
	})
	return client, dyn, ns.Name
}

// podSpec is a busybox container that runs until stopped.
func podSpec(mutate func(*corev1.Container)) corev1.PodSpec {
	grace := int64(0)
	c := corev1.Container{
		Name:            "app",
		Image:           busybox,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
			PeriodSeconds: 1,
		},
	}
	if mutate != nil {
		mutate(&c)
	}
	return corev1.PodSpec{Containers: []corev1.Container{c}, TerminationGracePeriodSeconds: &grace}
}

func deployment(name string, replicas int32, spec corev1.PodSpec) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}

func deploymentResource(ns, name string) Resource {
	return Resource{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: ns, Name: name}
}

func TestIntegrationDeploymentBecomesReadyAndRollsOut(t *testing.T) {
	client, dyn, ns := testbedClients(t)
	ctx := t.Context()
	rec := &event.Recorder{}
	w := New(client, dyn, rec, Options{})
	d := deployment("web", 2, podSpec(nil))
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := w.Wait(ctx, []Resource{deploymentResource(ns, "web")}, 2*time.Minute); err != nil {
		t.Fatalf("Wait() = %v, want nil", err)
	}
	t.Logf("first rollout ready in %v", time.Since(start))
	logEvents(t, rec)
	assertLast(t, rec, event.StatusSuccess, "2/2 ready")

	// A rolling update: new pods replace the old ones.
	live, err := client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "VERSION", Value: "2"}}
	if _, err := client.AppsV1().Deployments(ns).Update(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec2 := &event.Recorder{}
	start = time.Now()
	if err := New(client, dyn, rec2, Options{}).Wait(ctx, []Resource{deploymentResource(ns, "web")}, 2*time.Minute); err != nil {
		t.Fatalf("Wait() after update = %v, want nil", err)
	}
	t.Logf("rolling update done in %v", time.Since(start))
	logEvents(t, rec2)
	assertLast(t, rec2, event.StatusSuccess, "2/2 ready")
}

func TestIntegrationStuckPodsFailFast(t *testing.T) {
	client, dyn, ns := testbedClients(t)
	tests := []struct {
		name       string
		mutate     func(*corev1.Container)
		wantReason string
		wantLog    string // a line the failure must carry, if any
		wantEvent  string // a substring of one of its events
	}{
		{
			name: "crashloop",
			mutate: func(c *corev1.Container) {
				c.Command = []string{"sh", "-c", "echo booting; echo 'fatal: no config' >&2; exit 1"}
			},
			wantReason: "CrashLoopBackOff",
			wantLog:    "fatal: no config",
			wantEvent:  "BackOff",
		},
		{
			name: "neverpull",
			mutate: func(c *corev1.Container) {
				c.Image = "devloop.invalid/missing:1"
				c.ImagePullPolicy = corev1.PullNever
			},
			wantReason: "ErrImageNeverPull",
			wantEvent:  "ErrImageNeverPull",
		},
		{
			name: "unschedulable",
			mutate: func(c *corev1.Container) {
				c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000")}
			},
			wantReason: "Unschedulable",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			if _, err := client.AppsV1().Deployments(ns).Create(ctx, deployment(tc.name, 2, podSpec(tc.mutate)), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err := New(client, dyn, nil, Options{}).Wait(ctx, []Resource{deploymentResource(ns, tc.name)}, 2*time.Minute)
			elapsed := time.Since(start)
			var fe *FailureError
			if !errors.As(err, &fe) {
				t.Fatalf("Wait() = %v, want a *FailureError", err)
			}
			t.Logf("detected in %v:\n%s", elapsed, FormatFailure(err, elapsed))
			if fe.Reason != tc.wantReason {
				t.Errorf("FailureError.Reason = %q, want %q", fe.Reason, tc.wantReason)
			}
			if elapsed > detectWithin {
				t.Errorf("failure detected after %v, want within %v", elapsed, detectWithin)
			}
			if tc.wantLog != "" && !contains(fe.Logs, tc.wantLog) {
				t.Errorf("FailureError.Logs = %q, want a line %q", fe.Logs, tc.wantLog)
			}
			if tc.wantEvent != "" && !containsSubstring(fe.Events, tc.wantEvent) {
				t.Errorf("FailureError.Events = %q, want one mentioning %q", fe.Events, tc.wantEvent)
			}
		})
	}
}

func TestIntegrationReadinessNeverPassesHitsDeadline(t *testing.T) {
	client, dyn, ns := testbedClients(t)
	ctx := t.Context()
	spec := podSpec(func(c *corev1.Container) {
		c.ReadinessProbe.Exec.Command = []string{"sh", "-c", "echo not yet; exit 1"}
	})
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, deployment("web", 2, spec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const timeout = 20 * time.Second
	start := time.Now()
	err := New(client, dyn, nil, Options{}).Wait(ctx, []Resource{deploymentResource(ns, "web")}, timeout)
	elapsed := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait() = %v, want a *TimeoutError", err)
	}
	t.Logf("after %v:\n%s", elapsed, FormatFailure(err, elapsed))
	if elapsed > timeout+10*time.Second {
		t.Errorf("Wait() returned %v after it started, want about %v", elapsed, timeout)
	}
	if te.Status != "0/2 ready" {
		t.Errorf("TimeoutError.Status = %q, want %q", te.Status, "0/2 ready")
	}
	if !containsSubstring(te.Pods, "running, not ready") || !containsSubstring(te.Pods, "Readiness probe failed") {
		t.Errorf("TimeoutError.Pods = %q, want pods running but not ready and the failed probe", te.Pods)
	}
}

func TestIntegrationJob(t *testing.T) {
	client, dyn, ns := testbedClients(t)
	tests := []struct {
		name    string
		command string
		wantErr string // empty: the job completes
	}{
		{name: "succeeds", command: "echo migrated"},
		{name: "fails", command: "echo broken; exit 3", wantErr: "job failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			spec := podSpec(func(c *corev1.Container) {
				c.Command = []string{"sh", "-c", tc.command}
				c.ReadinessProbe = nil
			})
			spec.RestartPolicy = corev1.RestartPolicyNever
			backoff := int32(0)
			job := &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name},
				Spec:       batchv1.JobSpec{BackoffLimit: &backoff, Template: corev1.PodTemplateSpec{Spec: spec}},
			}
			if _, err := client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			res := Resource{GVK: schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, Namespace: ns, Name: tc.name}
			err := New(client, dyn, nil, Options{}).Wait(ctx, []Resource{res}, 2*time.Minute)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Wait() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Wait() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func logEvents(t *testing.T, rec *event.Recorder) {
	t.Helper()
	for _, e := range rec.Events() {
		t.Log(FormatEvent(e))
	}
}

func assertLast(t *testing.T, rec *event.Recorder, status event.Status, msg string) {
	t.Helper()
	events := rec.Events()
	if len(events) == 0 {
		t.Fatal("no events")
	}
	last := events[len(events)-1]
	if last.Status != status || last.Message != msg {
		t.Errorf("last event = %s %q, want %s %q", last.Status, last.Message, status, msg)
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func containsSubstring(lines []string, want string) bool {
	return strings.Contains(fmt.Sprint(lines), want)
}

func TestIntegrationStatefulSetAndDaemonSet(t *testing.T) {
	client, dyn, ns := testbedClients(t)
	ctx := t.Context()
	labels := func(app string) map[string]string { return map[string]string{"app": app} }
	replicas := int32(2)
	redis := podSpec(func(c *corev1.Container) {
		c.Name = "redis"
		c.Image = "docker.io/library/redis:7"
		c.Command = nil
		c.ReadinessProbe.Exec.Command = []string{"redis-cli", "ping"}
	})
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "redis"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: "redis",
			Selector:    &metav1.LabelSelector{MatchLabels: labels("redis")},
			Template:    corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels("redis")}, Spec: redis},
		},
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels("agent")},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels("agent")}, Spec: podSpec(nil)},
		},
	}
	if _, err := client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	resources := []Resource{
		{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, Namespace: ns, Name: "redis"},
		{GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, Namespace: ns, Name: "agent"},
	}
	wait := func(what string) {
		t.Helper()
		rec := &event.Recorder{}
		start := time.Now()
		if err := New(client, dyn, rec, Options{}).Wait(ctx, resources, 2*time.Minute); err != nil {
			t.Fatalf("Wait() %s = %v, want nil", what, err)
		}
		t.Logf("%s done in %v", what, time.Since(start))
		logEvents(t, rec)
	}
	wait("first rollout")

	// A rolling update of both, then a StatefulSet update that crashes: the
	// crash of the pod at the new revision fails the wait.
	env := []corev1.EnvVar{{Name: "VERSION", Value: "2"}}
	liveSts, err := client.AppsV1().StatefulSets(ns).Get(ctx, "redis", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveSts.Spec.Template.Spec.Containers[0].Env = env
	if _, err := client.AppsV1().StatefulSets(ns).Update(ctx, liveSts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	liveDs, err := client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveDs.Spec.Template.Spec.Containers[0].Env = env
	if _, err := client.AppsV1().DaemonSets(ns).Update(ctx, liveDs, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("rolling update")

	liveSts, err = client.AppsV1().StatefulSets(ns).Get(ctx, "redis", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveSts.Spec.Template.Spec.Containers[0].Command = []string{"sh", "-c", "echo 'bad config'; exit 1"}
	if _, err := client.AppsV1().StatefulSets(ns).Update(ctx, liveSts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = New(client, dyn, nil, Options{}).Wait(ctx, resources[:1], 2*time.Minute)
	elapsed := time.Since(start)
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Reason != "CrashLoopBackOff" {
		t.Fatalf("Wait() after a crashing update = %v, want a CrashLoopBackOff *FailureError", err)
	}
	t.Logf("detected in %v:\n%s", elapsed, FormatFailure(err, elapsed))
	if elapsed > detectWithin {
		t.Errorf("failure detected after %v, want within %v", elapsed, detectWithin)
	}
	if !contains(fe.Logs, "bad config") {
		t.Errorf("FailureError.Logs = %q, want a line %q", fe.Logs, "bad config")
	}
}
