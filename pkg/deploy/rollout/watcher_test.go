package rollout

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devloop/devloop/pkg/event"
)

var webDeployment = Resource{
	GVK:       schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
	Namespace: "default",
	Name:      "web",
}

var deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// fakeCluster holds the two fake clients a Watcher reads through.
type fakeCluster struct {
	client *fake.Clientset
	dyn    *dynamicfake.FakeDynamicClient
}

func newFakeCluster(t *testing.T, workloads []*unstructured.Unstructured, objs ...runtime.Object) fakeCluster {
	t.Helper()
	var dynObjs []runtime.Object
	for _, w := range workloads {
		dynObjs = append(dynObjs, w)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		deploymentsGVR: "DeploymentList",
		{Group: "apps", Version: "v1", Resource: "statefulsets"}: "StatefulSetList",
		{Group: "apps", Version: "v1", Resource: "daemonsets"}:   "DaemonSetList",
		{Group: "batch", Version: "v1", Resource: "jobs"}:        "JobList",
	}, dynObjs...)
	client := fake.NewClientset(objs...)
	// Logs say which instance they came from, so tests can tell.
	client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		opts, _ := a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
		if opts != nil && opts.Previous {
			return true, &runtime.Unknown{Raw: []byte("starting\npanic: no config\n")}, nil
		}
		return true, &runtime.Unknown{Raw: []byte("current instance\n")}, nil
	})
	return fakeCluster{client: client, dyn: dyn}
}

func (c fakeCluster) updateDeployment(t *testing.T, obj *unstructured.Unstructured) {
	t.Helper()
	if _, err := c.dyn.Resource(deploymentsGVR).Namespace(obj.GetNamespace()).Update(context.Background(), obj, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("updating deployment: %v", err)
	}
}

// replicaSet is a ReplicaSet of deployment d at a revision.
func replicaSet(d *unstructured.Unstructured, name, revision string) *appsv1.ReplicaSet {
	isController := true
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "default", UID: "7e6d5c4b-3a29-4817-9f6e-5d4c3b2a1908",
		Annotations: map[string]string{revisionAnnotation: revision},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "Deployment", Name: d.GetName(),
			UID: d.GetUID(), Controller: &isController,
		}},
	}}
}

func podEvent(pod *corev1.Pod, typ, reason, msg string, count int32) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: pod.Name + "." + reason, Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Type:           typ, Reason: reason, Message: msg, Count: count,
		LastTimestamp: metav1.NewTime(time.Date(2026, 11, 22, 10, 0, int(count), 0, time.UTC)),
	}
}

// sinkChan forwards events to a channel so a test can react to them.
type sinkChan chan event.Event

func (s sinkChan) Send(ctx context.Context, e event.Event) {
	select {
	case s <- e:
	case <-ctx.Done():
	}
}

// waitFor reads events until one with msg arrives and returns the messages seen.
func waitFor(t *testing.T, events <-chan event.Event, msg string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Message == msg {
				return
			}
		case <-timeout:
			t.Fatalf("no event %q within 10s", msg)
		}
	}
}

// loadDeployment reads a recorded Deployment and moves it to namespace default,
// where the recorded pods live.
func loadDeployment(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	d := loadObject(t, "status/"+file)
	d.SetNamespace("default")
	return d
}

// withStatus returns a copy of a recorded deployment with other status numbers.
func withStatus(t *testing.T, obj *unstructured.Unstructured, replicas, updated, available int64) *unstructured.Unstructured {
	t.Helper()
	obj = obj.DeepCopy()
	for field, v := range map[string]int64{"replicas": replicas, "updatedReplicas": updated, "availableReplicas": available, "readyReplicas": available} {
		if err := unstructured.SetNestedField(obj.Object, v, "status", field); err != nil {
			t.Fatal(err)
		}
	}
	return obj
}

func TestWaitDeploymentBecomesReady(t *testing.T) {
	created := loadDeployment(t, "deployment-no-status-yet.yaml")
	c := newFakeCluster(t, []*unstructured.Unstructured{created})
	events := make(sinkChan, 100)
	rec := &event.Recorder{}
	w := New(c.client, c.dyn, event.Multi{rec, events}, Options{})

	done := make(chan error, 1)
	go func() { done <- w.Wait(context.Background(), []Resource{webDeployment}, 30*time.Second) }()

	// Drive the controller's side step by step, each after the watcher saw the last.
	progressing := loadDeployment(t, "deployment-created.yaml")
	waitFor(t, events, "waiting for the controller to observe generation 1 (at 0)")
	c.updateDeployment(t, progressing)
	waitFor(t, events, "0/2 ready")
	c.updateDeployment(t, withStatus(t, progressing, 2, 2, 1))
	waitFor(t, events, "1/2 ready")
	c.updateDeployment(t, withStatus(t, progressing, 2, 2, 2))

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait() = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait() did not return after the deployment became ready")
	}
	type step struct {
		Status   event.Status
		Resource string
		Message  string
	}
	var got []step
	for _, e := range rec.Events() {
		if e.Phase != event.PhaseRollout {
			t.Errorf("event phase = %q, want %q", e.Phase, event.PhaseRollout)
		}
		got = append(got, step{e.Status, e.Resource, e.Message})
	}
	want := []step{
		{event.StatusStart, "deployment/web", ""},
		{event.StatusProgress, "deployment/web", "waiting for the controller to observe generation 1 (at 0)"},
		{event.StatusProgress, "deployment/web", "0/2 ready"},
		{event.StatusProgress, "deployment/web", "1/2 ready"},
		{event.StatusSuccess, "deployment/web", "2/2 ready"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

func TestWaitFailsFastOnStuckPods(t *testing.T) {
	progressing := loadDeployment(t, "deployment-created.yaml")       // revision 1
	rolling := loadDeployment(t, "deployment-partially-updated.yaml") // revision 2
	unobserved := loadDeployment(t, "deployment-generation-not-observed.yaml")
	crashing := loadPod(t, "pods/crashloopbackoff.yaml")
	neverPull := loadPod(t, "pods/errimageneverpull.yaml")
	unschedulable := loadPod(t, "pods/unschedulable.yaml")

	tests := []struct {
		name       string
		deployment *unstructured.Unstructured
		objs       []runtime.Object
		want       *FailureError // nil: the wait must time out instead
	}{
		{
			name:       "crash loop of the new replica set",
			deployment: progressing,
			objs: []runtime.Object{
				replicaSet(progressing, "web-7d4b9c8f6d", "1"), crashing,
				podEvent(crashing, "Normal", "Started", "Started container app", 2),
				podEvent(crashing, "Warning", "BackOff", "Back-off restarting failed container app in pod web-7d4b9c8f6d-x2x9q_default(d0c1b2a3-9f8e-4d7c-b6a5-0f1e2d3c4b5a)", 3),
			},
			want: &FailureError{
				Resource: "deployment/web", Pod: "web-7d4b9c8f6d-x2x9q", Container: "app", Reason: "CrashLoopBackOff",
				Message: "back-off 10s restarting failed container=app pod=web-7d4b9c8f6d-x2x9q_default(d0c1b2a3-9f8e-4d7c-b6a5-0f1e2d3c4b5a); last exit code 1 (Error)",
				Events: []string{
					"Normal Started: Started container app (x2)",
					"Warning BackOff: Back-off restarting failed container app in pod web-7d4b9c8f6d-x2x9q_default(d0c1b2a3-9f8e-4d7c-b6a5-0f1e2d3c4b5a) (x3)",
				},
				Logs: []string{"starting", "panic: no config"},
			},
		},
		{
			name:       "image never pulled",
			deployment: progressing,
			objs:       []runtime.Object{replicaSet(progressing, "web-7d4b9c8f6d", "1"), neverPull},
			want: &FailureError{
				Resource: "deployment/web", Pod: "web-7d4b9c8f6d-x2x9q", Container: "app", Reason: "ErrImageNeverPull",
				Message: `Container image "devloop.local/missing:1" is not present with pull policy of Never`,
			},
		},
		{
			name:       "unschedulable",
			deployment: progressing,
			objs:       []runtime.Object{replicaSet(progressing, "web-7d4b9c8f6d", "1"), unschedulable},
			want: &FailureError{
				Resource: "deployment/web", Pod: "web-7d4b9c8f6d-x2x9q", Reason: "Unschedulable",
				Message: "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
			},
		},
		{
			// The crashing pod belongs to revision 1; the deployment rolls out revision 2.
			name:       "crash loop of an old replica set is not this rollout's",
			deployment: rolling,
			objs:       []runtime.Object{replicaSet(rolling, "web-7d4b9c8f6d", "1"), crashing},
		},
		{
			// The controller has not seen the new spec: the pods it has are old ones.
			name:       "nothing is current before the generation is observed",
			deployment: unobserved,
			objs:       []runtime.Object{replicaSet(unobserved, "web-7d4b9c8f6d", "2"), crashing},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCluster(t, []*unstructured.Unstructured{tc.deployment}, tc.objs...)
			w := New(c.client, c.dyn, nil, Options{})
			timeout := 5 * time.Second
			if tc.want == nil {
				timeout = 300 * time.Millisecond
			}
			start := time.Now()
			err := w.Wait(context.Background(), []Resource{webDeployment}, timeout)
			elapsed := time.Since(start)

			if tc.want == nil {
				var te *TimeoutError
				if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Wait() = %v, want a *TimeoutError", err)
				}
				return
			}
			var fe *FailureError
			if !errors.As(err, &fe) {
				t.Fatalf("Wait() = %v, want a *FailureError", err)
			}
			if diff := cmp.Diff(tc.want, fe); diff != "" {
				t.Errorf("Wait() failure mismatch (-want +got):\n%s", diff)
			}
			// Informers list at once: the failure is known in milliseconds. The
			// bound is loose for loaded machines.
			if elapsed > time.Second {
				t.Errorf("Wait() took %v to report the failure, want well under 1s", elapsed)
			}
		})
	}
}

func TestWaitReturnsPromptlyOnCancel(t *testing.T) {
	c := newFakeCluster(t, []*unstructured.Unstructured{loadDeployment(t, "deployment-created.yaml")})
	w := New(c.client, c.dyn, nil, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)

	start := time.Now()
	err := w.Wait(ctx, []Resource{webDeployment}, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Wait() returned %v after cancel, want promptly", elapsed-50*time.Millisecond)
	}
}

func TestWaitReestablishesClosedWatch(t *testing.T) {
	progressing := loadDeployment(t, "deployment-created.yaml")
	c := newFakeCluster(t, []*unstructured.Unstructured{progressing})

	// The first watch on deployments is ours to close; later ones are the fake's.
	first := watch.NewRaceFreeFake()
	var mu sync.Mutex
	watches := 0
	rewatched := make(chan struct{})
	c.dyn.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		watches++
		switch watches {
		case 1:
			return true, first, nil
		case 2:
			close(rewatched)
		}
		return false, nil, nil
	})
	events := make(sinkChan, 100)
	w := New(c.client, c.dyn, events, Options{})
	done := make(chan error, 1)
	go func() { done <- w.Wait(context.Background(), []Resource{webDeployment}, 30*time.Second) }()

	waitFor(t, events, "0/2 ready")
	first.Stop()
	select {
	case <-rewatched:
	case <-time.After(10 * time.Second):
		t.Fatal("the closed watch was not re-established within 10s")
	}
	c.updateDeployment(t, withStatus(t, progressing, 2, 2, 2))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait() = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait() did not see the update sent on the new watch")
	}
}

func TestWaitRejectsUnsupportedKinds(t *testing.T) {
	c := newFakeCluster(t, nil)
	w := New(c.client, c.dyn, nil, Options{})
	cm := Resource{GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Namespace: "default", Name: "settings"}
	if err := w.Wait(context.Background(), []Resource{cm}, time.Second); err == nil {
		t.Fatal("Wait(ConfigMap) = nil, want an error")
	}
	if err := w.Wait(context.Background(), nil, time.Second); err != nil {
		t.Fatalf("Wait(nothing) = %v, want nil", err)
	}
}

func TestWaitOneFailureStopsTheOthers(t *testing.T) {
	progressing := loadDeployment(t, "deployment-created.yaml")
	other := loadDeployment(t, "deployment-created.yaml")
	other.SetName("api")
	other.SetUID("0c0ffee0-0000-4000-8000-000000000001")
	crashing := loadPod(t, "pods/crashloopbackoff.yaml")
	c := newFakeCluster(t, []*unstructured.Unstructured{progressing, other}, replicaSet(progressing, "web-7d4b9c8f6d", "1"), crashing)
	rec := &event.Recorder{}
	w := New(c.client, c.dyn, rec, Options{})
	api := webDeployment
	api.Name = "api"

	err := w.Wait(context.Background(), []Resource{api, webDeployment}, 10*time.Second)
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Resource != "deployment/web" {
		t.Fatalf("Wait() = %v, want the *FailureError of deployment/web alone", err)
	}
	final := map[string]event.Status{}
	for _, e := range rec.Events() {
		final[e.Resource] = e.Status
	}
	want := map[string]event.Status{"deployment/web": event.StatusFailure, "deployment/api": event.StatusSkipped}
	if diff := cmp.Diff(want, final); diff != "" {
		t.Errorf("last event per resource mismatch (-want +got):\n%s", diff)
	}
}

func TestWaitProgressDeadlineExceeded(t *testing.T) {
	c := newFakeCluster(t, []*unstructured.Unstructured{loadDeployment(t, "deployment-progress-deadline-exceeded.yaml")})
	rec := &event.Recorder{}
	err := New(c.client, c.dyn, rec, Options{}).Wait(context.Background(), []Resource{webDeployment}, 10*time.Second)
	const want = `deployment/web: progress deadline exceeded: ReplicaSet "web-bdf7d7695" has timed out progressing.`
	if err == nil || err.Error() != want {
		t.Fatalf("Wait() = %v, want %q", err, want)
	}
	events := rec.Events()
	last := events[len(events)-1]
	if last.Status != event.StatusFailure || last.Message != strings.TrimPrefix(want, "deployment/web: ") {
		t.Errorf("last event = %s %q, want the failure without the resource repeated", last.Status, last.Message)
	}
}
