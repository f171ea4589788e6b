package deploy

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const digest = "sha256:4a5e4b1a8c9d2c5b8f0e3d7a6b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"

// mustDecode parses YAML documents into objects, failing the test on error.
func mustDecode(t testing.TB, y string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := decode([]byte(y), "test.yaml", true)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return objs
}

// imageFields lists every "image", "imagePullPolicy" and "images" entry of obj as
// "path=value", in a stable order.
func imageFields(obj interface{}) []string {
	var out []string
	var walk func(path string, v interface{}, collect bool)
	walk = func(path string, v interface{}, collect bool) {
		switch v := v.(type) {
		case map[string]interface{}:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(strings.TrimPrefix(path+"."+k, "."), v[k], k == "image" || k == "imagePullPolicy" || k == "images")
			}
		case []interface{}:
			for i, it := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), it, collect)
			}
		case string:
			if collect {
				out = append(out, path+"="+v)
			}
		}
	}
	walk("", obj, false)
	return out
}

func renderer(t testing.TB, paths ...ImagePath) *Deployer {
	t.Helper()
	d, err := New(nil, nil, Options{Project: "shop", ConfigPath: "/src/devloop.yaml", Namespace: "dev", ImagePaths: paths})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func TestRenderImages(t *testing.T) {
	const newRef = "devloop.local/app:5f2c"
	built := map[string]string{"app": newRef}
	podSpec := `
      initContainers: [{name: init, image: app:v1}]
      containers:
        - {name: main, image: app}
        - {name: sidecar, image: other:v1}
      ephemeralContainers: [{name: debug, image: docker.io/library/app:latest}]`
	wantPodSpec := func(prefix string) []string {
		return []string{
			prefix + "containers[0].image=" + newRef,
			prefix + "containers[0].imagePullPolicy=IfNotPresent",
			prefix + "containers[1].image=other:v1",
			prefix + "ephemeralContainers[0].image=" + newRef,
			prefix + "ephemeralContainers[0].imagePullPolicy=IfNotPresent",
			prefix + "initContainers[0].image=" + newRef,
			prefix + "initContainers[0].imagePullPolicy=IfNotPresent",
		}
	}
	template := func(apiVersion, kind string) string {
		return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: w}\nspec:\n  template:\n    spec:" + podSpec
	}
	tests := []struct {
		name       string
		manifest   string
		images     map[string]string
		sideloaded bool
		paths      []ImagePath
		want       []string
	}{
		{name: "Pod", manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:" + strings.ReplaceAll(podSpec, "\n    ", "\n"),
			images: built, sideloaded: true, want: wantPodSpec("spec.")},
		{name: "Deployment", manifest: template("apps/v1", "Deployment"), images: built, sideloaded: true, want: wantPodSpec("spec.template.spec.")},
		{name: "ReplicaSet", manifest: template("apps/v1", "ReplicaSet"), images: built, sideloaded: true, want: wantPodSpec("spec.template.spec.")},
		{name: "StatefulSet", manifest: template("apps/v1", "StatefulSet"), images: built, sideloaded: true, want: wantPodSpec("spec.template.spec.")},
		{name: "DaemonSet", manifest: template("apps/v1", "DaemonSet"), images: built, sideloaded: true, want: wantPodSpec("spec.template.spec.")},
		{name: "Job", manifest: template("batch/v1", "Job"), images: built, sideloaded: true, want: wantPodSpec("spec.template.spec.")},
		{name: "ReplicationController", manifest: template("v1", "ReplicationController"), images: built, sideloaded: true, want: wantPodSpec("spec.template.spec.")},
		{name: "CronJob", manifest: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:" +
			strings.ReplaceAll(podSpec, "\n      ", "\n          "),
			images: built, sideloaded: true, want: wantPodSpec("spec.jobTemplate.spec.template.spec.")},
		{name: "not sideloaded: pull policy untouched", manifest: template("apps/v1", "Deployment"), images: built, want: []string{
			"spec.template.spec.containers[0].image=" + newRef,
			"spec.template.spec.containers[1].image=other:v1",
			"spec.template.spec.ephemeralContainers[0].image=" + newRef,
			"spec.template.spec.initContainers[0].image=" + newRef,
		}},
		{name: "sideloaded overrides Always", images: built, sideloaded: true,
			manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: app, imagePullPolicy: Always}]",
			want:     []string{"spec.containers[0].image=" + newRef, "spec.containers[0].imagePullPolicy=IfNotPresent"}},
		{name: "tag, digest, tag+digest and registry spellings match", images: built,
			manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n" +
				"  - {name: a, image: app}\n  - {name: b, image: 'app:v1'}\n  - {name: c, image: 'docker.io/library/app:latest'}\n" +
				"  - {name: d, image: 'app@" + digest + "'}\n  - {name: e, image: 'index.docker.io/library/app:v2@" + digest + "'}\n",
			want: []string{
				"spec.containers[0].image=" + newRef, "spec.containers[1].image=" + newRef, "spec.containers[2].image=" + newRef,
				"spec.containers[3].image=" + newRef, "spec.containers[4].image=" + newRef,
			}},
		{name: "other repositories and templated references are left alone",
			images: map[string]string{"app": newRef, "registry.local:5000/team/api": "devloop.local/api:1"},
			manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n" +
				"  - {name: a, image: 'registry.local/app'}\n  - {name: b, image: myapp}\n  - {name: c, image: '${IMAGE}'}\n" +
				"  - {name: d, image: 'registry.local:5000/team/api:old'}\n  - {name: e, image: 'app:v1'}\n",
			want: []string{
				"spec.containers[0].image=registry.local/app", "spec.containers[1].image=myapp", "spec.containers[2].image=${IMAGE}",
				"spec.containers[3].image=devloop.local/api:1", "spec.containers[4].image=" + newRef,
			}},
		{name: "built image named with a tag", images: map[string]string{"docker.io/app:ignored": newRef},
			manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: 'app:v3'}]",
			want:     []string{"spec.containers[0].image=" + newRef}},
		{name: "custom resource dotted path", images: built, sideloaded: true,
			paths:    []ImagePath{{Kind: "MyApp", Path: "spec.image"}},
			manifest: "apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: m}\nspec: {image: 'app:v1'}",
			want:     []string{"spec.image=" + newRef}},
		{name: "custom resource JSONPath with lists", images: built,
			paths: []ImagePath{
				{Kind: "MyApp", APIVersion: "example.com", Path: "{.spec.components[*].image}"},
				{Kind: "MyApp", Path: "$.spec.images[]"},
				{Kind: "MyApp", Path: "spec.extra[1].image"},
			},
			manifest: "apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: m}\nspec:\n" +
				"  components: [{image: app}, {image: other}, {name: no-image}]\n  images: [app, other]\n  extra: [{image: app}, {image: app}]",
			want: []string{
				"spec.components[0].image=" + newRef, "spec.components[1].image=other",
				"spec.extra[0].image=app", "spec.extra[1].image=" + newRef,
				"spec.images[0]=" + newRef, "spec.images[1]=other",
			}},
		{name: "custom path for another group does not apply", images: map[string]string{"app": newRef, "other": "x:1"},
			paths: []ImagePath{{Kind: "MyApp", APIVersion: "other.io/v1", Path: "spec.image"}},
			manifest: "apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: m}\nspec: {image: app}\n---\n" +
				"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: app}, {name: b, image: other}]",
			want: []string{"spec.containers[0].image=" + newRef, "spec.containers[1].image=x:1", "spec.image=app"}},
		{name: "Deployment of another group is not a workload", images: map[string]string{},
			manifest: "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers: [{image: app}]",
			want:     []string{"spec.template.spec.containers[0].image=app"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := mustDecode(t, tc.manifest)
			before := imageFields(objs[0].Object)
			r, err := renderer(t, tc.paths...).Render(objs, tc.images, RenderOptions{Sideloaded: tc.sideloaded})
			if err != nil {
				t.Fatalf("Render() error: %v", err)
			}
			var got []string
			for _, u := range r.Objects {
				got = append(got, imageFields(u.Object)...)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Render() images (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, imageFields(objs[0].Object)); diff != "" {
				t.Errorf("Render() modified its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRenderUnusedImage(t *testing.T) {
	objs := mustDecode(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{image: web}]\n"+
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n")
	_, err := renderer(t).Render(objs, map[string]string{"web": "w:1", "worker": "w:2", "api": "a:1"}, RenderOptions{})
	if err == nil {
		t.Fatal("Render() with unused images = nil error, want one")
	}
	for _, want := range []string{"api, worker", "deployment/web (test.yaml:1)", "configmap/cfg (test.yaml:9)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Render() error = %q, want it to contain %q", err, want)
		}
	}
}

func TestCompileImagePath(t *testing.T) {
	tests := []struct {
		path    ImagePath
		want    []segment
		wantErr bool
	}{
		{path: ImagePath{Kind: "K", Path: "spec.image"}, want: []segment{{field: "spec"}, {field: "image"}}},
		{path: ImagePath{Kind: "K", Path: "{.spec.c[*].image}"}, want: []segment{{field: "spec"}, {field: "c", isList: true, index: -1}, {field: "image"}}},
		{path: ImagePath{Kind: "K", Path: "spec.c[2].image"}, want: []segment{{field: "spec"}, {field: "c", isList: true, index: 2}, {field: "image"}}},
		{path: ImagePath{Kind: "K", Path: ""}, wantErr: true},
		{path: ImagePath{Path: "spec.image"}, wantErr: true},
		{path: ImagePath{Kind: "K", Path: "spec..image"}, wantErr: true},
		{path: ImagePath{Kind: "K", Path: "spec.c[?(@.name=='x')].image"}, wantErr: true},
		{path: ImagePath{Kind: "K", Path: "spec.c[-1]"}, wantErr: true},
		{path: ImagePath{Kind: "K", Path: "spec.c[x"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.path.Path, func(t *testing.T) {
			got, err := compileImagePath(tc.path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("compileImagePath(%+v) error = %v, wantErr %v", tc.path, err, tc.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(tc.want, got.segs, cmp.AllowUnexported(segment{})); diff != "" {
					t.Errorf("compileImagePath(%+v) segments (-want +got):\n%s", tc.path, diff)
				}
			}
		})
	}
}

func TestRenderImageErrors(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		images   map[string]string
		paths    []ImagePath
		want     string
	}{
		{name: "image not a string", images: map[string]string{},
			manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{image: 3}]", want: "test.yaml:1: rendering pod/p"},
		{name: "containers not a list", images: map[string]string{},
			manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {image: app}", want: "not a list"},
		{name: "custom path through a scalar", images: map[string]string{}, paths: []ImagePath{{Kind: "K", Path: "spec.image.name"}},
			manifest: "apiVersion: x/v1\nkind: K\nmetadata: {name: k}\nspec: {image: app}", want: "not an object"},
		{name: "invalid built image name", images: map[string]string{"UPPER case": "x:1"},
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}", want: `built image "UPPER case" is not a valid image reference`},
		{name: "invalid new reference", images: map[string]string{"app": "::"},
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}", want: `new reference "::"`},
		{name: "object defined twice", images: map[string]string{},
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: dev}",
			want:     "test.yaml:5: rendering configmap/c: defined twice: also in configmap/c (test.yaml:1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderer(t, tc.paths...).Render(mustDecode(t, tc.manifest), tc.images, RenderOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
