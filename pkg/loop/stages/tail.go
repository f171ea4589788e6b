package stages

import (
	"bufio"
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/loop"
)

// Tailer streams the logs of the pods of workloads as phase "log" events, one per
// line, with the pod (and container, when there are several) as Resource. It
// watches the workloads' pods and starts streaming new ones as they appear, so a
// rollout's new pods are picked up.
type Tailer struct {
	cs   kubernetes.Interface
	sink event.Sink
	// ExistingLines is how many earlier lines of pods that were already running
	// are shown; default 10.
	ExistingLines int64
}

var _ loop.Tailer = (*Tailer)(nil)

// NewTailer returns a Tailer reading pods and logs through cs.
func NewTailer(cs kubernetes.Interface, sink event.Sink) *Tailer {
	if sink == nil {
		sink = event.Discard{}
	}
	return &Tailer{cs: cs, sink: sink, ExistingLines: 10}
}

// Tail implements loop.Tailer; it returns when ctx ends.
func (t *Tailer) Tail(ctx context.Context, workloads []rollout.Resource) error {
	start := time.Now()
	var (
		mu        sync.Mutex
		streaming = map[string]bool{}
		wg        sync.WaitGroup
	)
	defer wg.Wait()
	onPod := func(p *corev1.Pod) {
		if p.DeletionTimestamp != nil {
			return
		}
		for _, cst := range p.Status.ContainerStatuses {
			if cst.State.Running == nil {
				continue
			}
			key := string(p.UID) + "/" + cst.Name + "/" + fmt.Sprint(cst.RestartCount)
			mu.Lock()
			seen := streaming[key]
			streaming[key] = true
			mu.Unlock()
			if seen {
				continue
			}
			prefix := p.Name
			if len(p.Spec.Containers) > 1 {
				prefix += "/" + cst.Name
			}
			opts := &corev1.PodLogOptions{Container: cst.Name, Follow: true}
			if p.CreationTimestamp.Before(&metav1.Time{Time: start}) && cst.RestartCount == 0 {
				opts.TailLines = &t.ExistingLines
			}
			wg.Go(func() { t.stream(ctx, p.Namespace, p.Name, prefix, opts) })
		}
	}
	for _, w := range workloads {
		sel, err := t.selector(ctx, w)
		if err != nil {
			t.sink.Send(ctx, event.Event{Phase: event.PhaseLog, Status: event.StatusProgress, Resource: w.String(), Message: "warning: logs: " + err.Error()})
			continue
		}
		wg.Go(func() { t.watchPods(ctx, w.Namespace, sel, onPod) })
	}
	<-ctx.Done()
	return nil
}

// selector returns the label selector of a workload's pods.
func (t *Tailer) selector(ctx context.Context, w rollout.Resource) (string, error) {
	var sel *metav1.LabelSelector
	switch w.GVK.Kind {
	case "Deployment":
		d, err := t.cs.AppsV1().Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		sel = d.Spec.Selector
	case "StatefulSet":
		d, err := t.cs.AppsV1().StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		sel = d.Spec.Selector
	case "DaemonSet":
		d, err := t.cs.AppsV1().DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		sel = d.Spec.Selector
	case "Job":
		j, err := t.cs.BatchV1().Jobs(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		sel = j.Spec.Selector
	default:
		return "", fmt.Errorf("%s: no pods to follow", w)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", fmt.Errorf("%s: %w", w, err)
	}
	return s.String(), nil
}

// watchPods calls onPod for every pod the selector matches, now and as they
// change, until ctx ends; a closed watch is listed and watched again.
func (t *Tailer) watchPods(ctx context.Context, ns, selector string, onPod func(*corev1.Pod)) {
	for ctx.Err() == nil {
		list, err := t.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil {
			for i := range list.Items {
				onPod(&list.Items[i])
			}
			var w watch.Interface
			w, err = t.cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.ResourceVersion})
			if err == nil {
				for ev := range w.ResultChan() {
					if p, ok := ev.Object.(*corev1.Pod); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
						onPod(p)
					}
				}
				w.Stop()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// stream sends a container's log lines until it ends or ctx does.
func (t *Tailer) stream(ctx context.Context, ns, pod, prefix string, opts *corev1.PodLogOptions) {
	rc, err := t.cs.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return // the pod went away or its container is not running yet
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t.sink.Send(ctx, event.Event{Phase: event.PhaseLog, Status: event.StatusProgress, Resource: prefix, Message: sc.Text()})
	}
}
