package stages

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/devloop/devloop/pkg/config"
)

func pod(name string, age time.Duration, ready bool, deleting bool) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "web"},
			CreationTimestamp: metav1.NewTime(time.Now().Add(-age))},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[ready]},
		}},
	}
	if deleting {
		now := metav1.Now()
		p.DeletionTimestamp = &now
	}
	return p
}

func TestResolvePod(t *testing.T) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt(9091)},
		}},
	}
	replicas := int32(2)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	tests := []struct {
		name     string
		objs     []runtime.Object
		resource string
		port     int
		wantPod  string
		wantPort int
		wantErr  string
	}{
		{
			name: "service with a named target port picks the newest ready pod",
			objs: []runtime.Object{svc, pod("old", time.Hour, true, false), pod("new", time.Minute, true, false),
				pod("newer-not-ready", time.Second, false, false), pod("newest-terminating", 0, true, true)},
			resource: "service/web", port: 80, wantPod: "new", wantPort: 8080,
		},
		{
			name: "service with a numeric target port", objs: []runtime.Object{svc, pod("a", time.Minute, true, false)},
			resource: "svc/web", port: 9090, wantPod: "a", wantPort: 9091,
		},
		{
			name: "service port that does not exist", objs: []runtime.Object{svc, pod("a", time.Minute, true, false)},
			resource: "service/web", port: 81, wantErr: "no port 81",
		},
		{
			name: "deployment forwards to the container port", objs: []runtime.Object{dep, pod("a", time.Minute, true, false)},
			resource: "deployment/web", port: 8080, wantPod: "a", wantPort: 8080,
		},
		{
			name: "no ready pod", objs: []runtime.Object{svc, pod("a", time.Minute, false, false)},
			resource: "service/web", port: 80, wantErr: "no ready pod",
		},
		{name: "not TYPE/NAME", resource: "web", port: 80, wantErr: "want TYPE/NAME"},
		{name: "unknown type", resource: "configmap/web", port: 80, wantErr: "cannot forward"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset(tc.objs...)
			p, port, err := resolvePod(context.Background(), cs, config.PortForward{Resource: tc.resource, Namespace: "ns", Port: tc.port})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("resolvePod() = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolvePod() = %v", err)
			}
			if p.Name != tc.wantPod || port != tc.wantPort {
				t.Errorf("resolvePod() = %s:%d, want %s:%d", p.Name, port, tc.wantPod, tc.wantPort)
			}
		})
	}
}
