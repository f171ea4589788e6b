// Package testbed_test proves the test bed works end to end with the real daemons: an
// image made here runs on the node from its containerd, from the local registry, and
// lands in the kind-style node. Run after `testbed up` and `eval "$(testbed env)"`.
package testbed_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/devloop/devloop/internal/testbed"
)

// webImage is the test bed's busybox with a page that names the test: one small layer
// on top of the seeded base, as a real app image would be.
func webImage(t *testing.T, env testbed.Env, page string) v1.Image {
	t.Helper()
	base, err := tarball.ImageFromPath(filepath.Join(env.BaseImagesDir, "busybox.tar"), nil)
	if err != nil {
		t.Fatalf("reading the seeded busybox image: %v", err)
	}
	var buf bytes.Buffer
	if err := tarFile(&buf, "www/index.html", page); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Cmd = []string{"httpd", "-f", "-p", "8080", "-h", "/www"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func clientset(t *testing.T, env testbed.Env) *kubernetes.Clientset {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// namespace makes a fresh namespace deleted at the end of the test.
func namespace(t *testing.T, cs kubernetes.Interface, prefix string) string {
	t.Helper()
	ctx := context.Background()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })
	// pods cannot be created before the namespace's default service account exists
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return ns.Name
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("namespace %s has no default service account after 30s", ns.Name)
	return ""
}

// deployAndWait runs image as a 2-replica Deployment with a readiness probe and waits
// until both replicas are ready.
func deployAndWait(t *testing.T, cs kubernetes.Interface, ns, image string, policy corev1.PullPolicy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: new(int64),
					Containers: []corev1.Container{{
						Name: "web", Image: image, ImagePullPolicy: policy,
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 1,
						},
					}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		got, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err == nil && got.Status.ReadyReplicas == replicas && got.Status.UpdatedReplicas == replicas {
			t.Logf("deployment %s/web with %s: 2/2 ready after %v", ns, image, time.Since(start).Round(10*time.Millisecond))
			return
		}
		if ctx.Err() != nil {
			pods, _ := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
			var states []string
			for _, p := range pods.Items {
				for _, c := range p.Status.ContainerStatuses {
					states = append(states, fmt.Sprintf("%s: %+v", p.Name, c.State))
				}
			}
			t.Fatalf("deployment %s/web not ready after 2m: %v", ns, states)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func run(t *testing.T, stdin []byte, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func archive(t *testing.T, ref string, img v1.Image) []byte {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarball.Write(tag, img, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIntegrationNodeRunsImportedImage(t *testing.T) {
	env := testbed.Require(t)
	cs := clientset(t, env)
	ns := namespace(t, cs, "tb-import")
	ref := "devloop.local/tb-web:" + ns
	run(t, archive(t, ref, webImage(t, env, "imported "+ns+"\n")), "ctr", "--address", env.ContainerdSock, "-n", "k8s.io", "images", "import", "-")
	deployAndWait(t, cs, ns, ref, corev1.PullIfNotPresent)
}

func TestIntegrationNodePullsFromLocalRegistry(t *testing.T) {
	env := testbed.Require(t)
	cs := clientset(t, env)
	ns := namespace(t, cs, "tb-registry")
	ref, err := name.ParseReference(env.Registry+"/tb-web:"+ns, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, webImage(t, env, "pushed "+ns+"\n")); err != nil {
		t.Fatalf("pushing to the test bed registry: %v", err)
	}
	// Always: the kubelet must fetch it from the registry, nothing was imported
	deployAndWait(t, cs, ns, ref.String(), corev1.PullAlways)
}

func TestIntegrationKindNodeImport(t *testing.T) {
	env := testbed.Require(t)
	ref := fmt.Sprintf("docker.io/devloop/tb-kind:%d", time.Now().UnixNano())
	img := webImage(t, env, "kind node\n")
	run(t, archive(t, ref, img), "docker", "exec", "-i", env.KindNode, "ctr", "-n", "k8s.io", "images", "import", "--all-platforms", "-")
	t.Cleanup(func() {
		_ = exec.Command("docker", "exec", env.KindNode, "ctr", "-n", "k8s.io", "images", "rm", ref).Run()
	})
	out := run(t, nil, "docker", "exec", env.KindNode, "ctr", "-n", "k8s.io", "images", "ls")
	// a docker-archive import gets a manifest made by containerd, so the image is
	// identified by its config digest (the image ID), which the CRI plugin lists as a name
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	var haveRef, haveID bool
	for _, line := range strings.Split(out, "\n") {
		haveRef = haveRef || strings.HasPrefix(line, ref+" ")
		haveID = haveID || strings.HasPrefix(line, id.String()+" ")
	}
	if !haveRef || !haveID {
		t.Fatalf("ctr images ls in %s lacks %s (found: %v) or its image ID %s (found: %v):\n%s", env.KindNode, ref, haveRef, id, haveID, out)
	}
}
