package stages

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/devloop/devloop/pkg/config"
)

// resolvePod finds a ready pod behind fw.Resource (TYPE/NAME as kubectl
// port-forward takes it) and the container port fw.Port leads to. The newest
// ready pod wins, so a connection opened after a rollout reaches the new version.
func resolvePod(ctx context.Context, cs kubernetes.Interface, fw config.PortForward) (*corev1.Pod, int, error) {
	kind, name, ok := strings.Cut(fw.Resource, "/")
	if !ok || name == "" {
		return nil, 0, fmt.Errorf("resource %q: want TYPE/NAME, such as service/web", fw.Resource)
	}
	ns := fw.Namespace
	target := intstr.FromInt(fw.Port)
	var sel *metav1.LabelSelector
	switch strings.ToLower(kind) {
	case "pod", "pods", "po":
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		if !podReady(p) {
			return nil, 0, fmt.Errorf("pod %s is not ready", name)
		}
		return p, fw.Port, nil
	case "service", "services", "svc":
		s, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		i := slices.IndexFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return int(p.Port) == fw.Port })
		if i < 0 {
			return nil, 0, fmt.Errorf("service %s has no port %d", name, fw.Port)
		}
		if tp := s.Spec.Ports[i].TargetPort; tp.String() != "0" && tp.String() != "" {
			target = tp
		}
		sel = &metav1.LabelSelector{MatchLabels: s.Spec.Selector}
	case "deployment", "deployments", "deploy":
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		sel = d.Spec.Selector
	case "statefulset", "statefulsets", "sts":
		d, err := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		sel = d.Spec.Selector
	case "daemonset", "daemonsets", "ds":
		d, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, 0, err
		}
		sel = d.Spec.Selector
	default:
		return nil, 0, fmt.Errorf("resource %q: cannot forward to a %s", fw.Resource, kind)
	}
	pods, err := podsFor(ctx, cs, ns, sel)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", fw.Resource, err)
	}
	var best *corev1.Pod
	for i := range pods {
		p := &pods[i]
		if podReady(p) && (best == nil || p.CreationTimestamp.After(best.CreationTimestamp.Time)) {
			best = p
		}
	}
	if best == nil {
		return nil, 0, fmt.Errorf("%s: no ready pod", fw.Resource)
	}
	port, err := containerPort(best, target)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", fw.Resource, err)
	}
	return best, port, nil
}

// podsFor lists the pods a selector matches; an empty selector matches none.
func podsFor(ctx context.Context, cs kubernetes.Interface, ns string, sel *metav1.LabelSelector) ([]corev1.Pod, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	if s.Empty() {
		return nil, nil
	}
	if s == labels.Nothing() {
		return nil, nil
	}
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// podReady reports whether a pod runs, is Ready and is not being deleted.
func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// containerPort resolves a target port (a number or a container port's name)
// against the pod's containers.
func containerPort(p *corev1.Pod, target intstr.IntOrString) (int, error) {
	if target.Type == intstr.Int {
		return target.IntValue(), nil
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == target.StrVal {
				return int(cp.ContainerPort), nil
			}
		}
	}
	return 0, fmt.Errorf("pod %s has no container port named %q", p.Name, target.StrVal)
}
