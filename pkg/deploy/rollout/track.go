package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/devloop/devloop/pkg/event"
)

// tracker follows one workload and its pods. Its informers only wake the loop in
// run, which alone reads their stores and decides; everything but the watch error
// is owned by that loop.
type tracker struct {
	w       *Watcher
	res     Resource
	kind    workloadKind
	ns      string
	start   time.Time
	timeout time.Duration

	wake  chan struct{} // capacity 1: something changed, look again
	fatal chan error    // capacity 1: a watch failed in a way retrying cannot fix

	informers sync.WaitGroup
	workload  cache.SharedIndexInformer
	pods      cache.SharedIndexInformer // started once the workload's selector is known

	seen    bool   // the workload has existed
	lastMsg string // last status sent to the sink
	owners  map[string]bool

	mu       sync.Mutex
	watchErr error // last error a watch reported
}

func newTracker(w *Watcher, r Resource, start time.Time, timeout time.Duration) *tracker {
	ns := r.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return &tracker{
		w: w, res: r, kind: kindOf(r.GVK.GroupKind()), ns: ns, start: start, timeout: timeout,
		wake:   make(chan struct{}, 1),
		fatal:  make(chan error, 1),
		owners: map[string]bool{},
	}
}

// run waits for the workload to roll out, fail or be stopped by ctx.
func (t *tracker) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		t.informers.Wait()
	}()
	t.emit(ctx, event.StatusStart, "")
	if err := t.watchWorkload(ctx); err != nil {
		return t.fail(ctx, err)
	}
	for {
		select {
		case <-ctx.Done():
			return t.stopped(ctx)
		case err := <-t.fatal:
			return t.fail(ctx, err)
		case <-t.wake:
		}
		done, err := t.evaluate(ctx)
		var fe *FailureError
		switch {
		case errors.As(err, &fe):
			return t.fail(ctx, err)
		case err != nil && ctx.Err() != nil:
			return t.stopped(ctx)
		case err != nil:
			return t.fail(ctx, err)
		case done:
			return nil
		}
	}
}

// evaluate looks at the current state of the workload and its pods.
func (t *tracker) evaluate(ctx context.Context) (done bool, err error) {
	item, exists, err := t.workload.GetStore().GetByKey(t.ns + "/" + t.res.Name)
	if err != nil {
		return false, fmt.Errorf("%s: reading the watch cache: %w", t.res, err)
	}
	if !exists {
		if t.seen {
			return false, fmt.Errorf("%s was deleted while rolling out", t.res)
		}
		if t.workload.HasSynced() {
			t.progress(ctx, "waiting for it to be created")
		}
		return false, nil
	}
	t.seen = true
	obj, ok := item.(*unstructured.Unstructured)
	if !ok {
		return false, fmt.Errorf("%s: unexpected %T in the watch cache", t.res, item)
	}
	if t.pods == nil {
		if err := t.watchPods(ctx, obj); err != nil {
			return false, err
		}
	}
	msg, done, err := Status(obj)
	if err != nil {
		return false, fmt.Errorf("%s: %w", t.res, err)
	}
	if done {
		t.lastMsg = msg
		t.emit(ctx, event.StatusSuccess, msg)
		return true, nil
	}
	t.progress(ctx, msg)
	return false, t.checkPods(ctx, obj)
}

// checkPods returns a *FailureError for the first pod of the current rollout that
// is stuck for good.
func (t *tracker) checkPods(ctx context.Context, obj *unstructured.Unstructured) error {
	for _, pod := range t.currentPods(ctx, obj) {
		if f, stuck := ClassifyPod(pod); stuck {
			return t.diagnose(ctx, pod, f)
		}
	}
	return nil
}

// currentPods lists the pods of the rollout in progress, by name.
func (t *tracker) currentPods(ctx context.Context, obj *unstructured.Unstructured) []*corev1.Pod {
	if t.pods == nil {
		return nil
	}
	var pods []*corev1.Pod
	for _, item := range t.pods.GetStore().List() {
		pod, ok := item.(*corev1.Pod)
		if ok && t.current(ctx, obj, pod) {
			pods = append(pods, pod)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods
}

// watchWorkload starts the informer on the workload, by name.
func (t *tracker) watchWorkload(ctx context.Context) error {
	gvr, err := t.res.gvr()
	if err != nil {
		return err
	}
	client := t.w.dyn.Resource(gvr).Namespace(t.ns)
	byName := fields.OneTermEqualSelector("metadata.name", t.res.Name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = byName
			return client.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = byName
			return client.Watch(ctx, o)
		},
	}
	t.workload = t.startInformer(ctx, cache.ToListWatcherWithWatchListSemantics(lw, t.w.dyn), &unstructured.Unstructured{})
	return nil
}

// watchPods starts the informer on the pods the workload selects.
func (t *tracker) watchPods(ctx context.Context, obj *unstructured.Unstructured) error {
	raw, found, err := unstructured.NestedMap(obj.Object, "spec", "selector")
	if err != nil || !found {
		return fmt.Errorf("%s has no pod selector", t.res)
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return fmt.Errorf("%s: decoding its pod selector: %w", t.res, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || sel.Empty() {
		return fmt.Errorf("%s: unusable pod selector %v: %v", t.res, raw, err)
	}
	client := t.w.client.CoreV1().Pods(t.ns)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel.String()
			return client.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel.String()
			return client.Watch(ctx, o)
		},
	}
	t.pods = t.startInformer(ctx, cache.ToListWatcherWithWatchListSemantics(lw, t.w.client), &corev1.Pod{})
	return nil
}

// startInformer runs an informer until ctx ends. Its reflector re-lists and
// re-watches whenever a watch closes or fails; the handlers only wake the loop.
func (t *tracker) startInformer(ctx context.Context, lw cache.ListerWatcher, example runtime.Object) cache.SharedIndexInformer {
	inf := cache.NewSharedIndexInformerWithOptions(lw, example, cache.SharedIndexInformerOptions{
		ObjectDescription: t.res.String(),
	})
	_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, _ *cache.Reflector, err error) {
		t.watchFailed(ctx, err)
	})
	poke := func(any) { t.poke(ctx) }
	reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    poke,
		UpdateFunc: func(_, obj any) { poke(obj) },
		DeleteFunc: poke,
	})
	t.informers.Go(func() { inf.RunWithContext(ctx) })
	t.informers.Go(func() {
		// An empty initial list calls no handler; the loop must still learn the
		// watch is in sync (e.g. to say the workload does not exist yet).
		if reg != nil && cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			t.poke(ctx)
		}
	})
	return inf
}

// poke wakes the loop without ever blocking: one pending wake-up is enough, the loop
// reads the latest state from the informers' stores.
func (t *tracker) poke(ctx context.Context) {
	select {
	case t.wake <- struct{}{}:
	case <-ctx.Done():
	default:
	}
}

// watchFailed records a watch error. The reflector retries on its own; errors
// retrying cannot fix (no permission, kind not served) end the wait at once.
func (t *tracker) watchFailed(ctx context.Context, err error) {
	t.mu.Lock()
	t.watchErr = err
	t.mu.Unlock()
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) {
		select {
		case t.fatal <- fmt.Errorf("%s: watching: %w", t.res, err):
		case <-ctx.Done():
		default:
		}
	}
}

func (t *tracker) lastWatchErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watchErr
}

// progress sends msg to the sink when it differs from the last one.
func (t *tracker) progress(ctx context.Context, msg string) {
	if msg == t.lastMsg {
		return
	}
	t.lastMsg = msg
	t.emit(ctx, event.StatusProgress, msg)
}

func (t *tracker) emit(ctx context.Context, status event.Status, msg string) {
	now := t.w.opts.Now()
	t.w.sink.Send(ctx, event.Event{
		Time:     now,
		Phase:    event.PhaseRollout,
		Status:   status,
		Resource: t.res.String(),
		Message:  msg,
		Duration: now.Sub(t.start),
	})
}

// fail reports err to the sink and returns it.
func (t *tracker) fail(ctx context.Context, err error) error {
	// The event names the resource already.
	msg := strings.TrimPrefix(err.Error(), t.res.String()+": ")
	var fe *FailureError
	if errors.As(err, &fe) {
		msg = fe.summary()
	}
	t.emit(context.WithoutCancel(ctx), event.StatusFailure, msg)
	return err
}

// stopped explains why ctx ended: the deadline, a sibling's failure or the caller.
func (t *tracker) stopped(ctx context.Context) error {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errDeadline):
		return t.fail(ctx, t.timedOut(ctx))
	case errors.Is(cause, errSiblingFailed):
		t.emit(context.WithoutCancel(ctx), event.StatusSkipped, "stopped: "+cause.Error())
		return errSiblingFailed
	}
	t.emit(context.WithoutCancel(ctx), event.StatusSkipped, "cancelled")
	return fmt.Errorf("%s: %w", t.res, ctx.Err())
}
