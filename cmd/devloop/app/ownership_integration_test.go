package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devloop/devloop/internal/testbed"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/event"
)

// lookalike is an object devloop must never touch.
type lookalike struct {
	kind, ns, name string
}

// seedLookalikes creates objects that resemble the project's own: no label, only
// the managed-by label, another project's labels, and another project's
// Deployment named like this project's, in another namespace.
func seedLookalikes(t *testing.T, cs kubernetes.Interface, project, otherNS string) []lookalike {
	t.Helper()
	ctx := context.Background()
	other := project + "-other"
	for _, ns := range []string{project, otherNS} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	appLabel := map[string]string{"app.kubernetes.io/name": "flask-redis-app"}
	managedOnly := map[string]string{deploy.LabelManagedBy: deploy.ManagedByValue, "app.kubernetes.io/name": "flask-redis-app"}
	otherProject := map[string]string{deploy.LabelManagedBy: deploy.ManagedByValue, deploy.LabelProject: other}
	cms := []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: project, Name: "lookalike-unlabelled", Labels: appLabel}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: project, Name: "lookalike-managed-only", Labels: managedOnly}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: project, Name: "lookalike-other-project", Labels: otherProject}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "devloop-inventory-" + other, Labels: otherProject}},
	}
	var out []lookalike
	for _, cm := range cms {
		cm.Data = map[string]string{"owner": "not " + project}
		if _, err := cs.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		out = append(out, lookalike{"configmap", cm.Namespace, cm.Name})
	}
	t.Cleanup(func() {
		cs.CoreV1().ConfigMaps("default").Delete(context.Background(), "devloop-inventory-"+other, metav1.DeleteOptions{})
	})
	zero := int32(0)
	for _, ns := range []string{project, otherNS} {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flask-redis-app", Labels: otherProject},
			Spec: appsv1.DeploymentSpec{
				Replicas: &zero,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"lookalike": "yes"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"lookalike": "yes"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:latest"}}},
				},
			},
		}
		if ns == project {
			d.Name = "redis-lookalike"
		}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		out = append(out, lookalike{"deployment", ns, d.Name})
	}
	return out
}

// requireUntouched fails for every look-alike that is gone, being deleted, or
// carries a field manager of devloop's.
func requireUntouched(t *testing.T, cs kubernetes.Interface, after string, ls []lookalike) {
	t.Helper()
	ctx := context.Background()
	for _, l := range ls {
		var meta metav1.Object
		var err error
		switch l.kind {
		case "configmap":
			meta, err = cs.CoreV1().ConfigMaps(l.ns).Get(ctx, l.name, metav1.GetOptions{})
		case "deployment":
			meta, err = cs.AppsV1().Deployments(l.ns).Get(ctx, l.name, metav1.GetOptions{})
		}
		if err != nil {
			t.Errorf("after %s: %s %s/%s: %v, want it untouched", after, l.kind, l.ns, l.name, err)
			continue
		}
		if meta.GetDeletionTimestamp() != nil {
			t.Errorf("after %s: %s %s/%s is being deleted, want it untouched", after, l.kind, l.ns, l.name)
		}
		for _, mf := range meta.GetManagedFields() {
			if mf.Manager == deploy.FieldManager {
				t.Errorf("after %s: %s %s/%s has fields managed by devloop, want it untouched", after, l.kind, l.ns, l.name)
			}
		}
	}
}

// TestIntegrationOwnership proves that run, prune and dev --cleanup touch only
// the objects devloop applied for this project.
func TestIntegrationOwnership(t *testing.T) {
	env := testbed.Require(t)
	cs := kubeClient(t, env)
	project := uniqueName("it-own")
	otherNS := project + "-elsewhere"
	cfg, _ := example(t, project, "target:\n  type: containerd\n")
	deleteNamespaceAtEnd(t, cs, project)
	deleteNamespaceAtEnd(t, cs, otherNS)
	ls := seedLookalikes(t, cs, project, otherNS)
	args := []string{"-f", cfg, "--context", env.Context}

	if code, _, _ := devloop(t, context.Background(), append([]string{"run"}, args...)...); code != ExitOK {
		t.Fatalf("devloop run = %d, want 0", code)
	}
	requireUntouched(t, cs, "run", ls)

	// Prune: the redis manifest leaves; its objects go, the look-alikes stay.
	if err := os.Remove(filepath.Join(filepath.Dir(cfg), "k8s", "redis.yaml")); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := devloop(t, context.Background(), append([]string{"run"}, args...)...); code != ExitOK {
		t.Fatalf("devloop run after removing redis.yaml = %d, want 0", code)
	}
	if d, err := cs.AppsV1().Deployments(project).Get(context.Background(), "redis", metav1.GetOptions{}); err == nil && d.DeletionTimestamp == nil {
		t.Errorf("deployment redis survived the removal of its manifest")
	}
	requireUntouched(t, cs, "prune", ls)

	// dev --cleanup: devloop's objects go on Ctrl-C, the look-alikes stay.
	d := startDevloop(t, append([]string{"dev", "-o", "json", "--cleanup", "--tail=false"}, args...)...)
	if end := d.waitIteration(1, 3*time.Minute); end.Status != event.StatusSuccess {
		t.Fatalf("dev iteration 1 = %s %q, want success", end.Status, end.Message)
	}
	d.stop()
	if code, _ := d.waitExit(time.Minute); code != ExitOK {
		t.Errorf("devloop dev --cleanup = %d after Ctrl-C, want 0", code)
	}
	if dep, err := cs.AppsV1().Deployments(project).Get(context.Background(), "flask-redis-app", metav1.GetOptions{}); err == nil && dep.DeletionTimestamp == nil {
		t.Errorf("deployment flask-redis-app survived dev --cleanup")
	}
	requireUntouched(t, cs, "dev --cleanup", ls)
}
