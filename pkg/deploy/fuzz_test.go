package deploy

import (
	"os"
	"testing"
)

// FuzzRender feeds arbitrary manifests through the reader and the renderer: they may
// fail, never panic.
func FuzzRender(f *testing.F) {
	for _, p := range []string{"testdata/single.yaml", "testdata/multi.yaml", "testdata/dir/c.json", "testdata/invalid/bad-syntax.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "web")
	}
	f.Add([]byte(mixed), "web:v1")
	f.Add([]byte("apiVersion: x/v1\nkind: MyApp\nmetadata: {name: m}\nspec: {image: app, components: [{image: app}], images: [app]}"), "app")
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [3, {kind: X}]"), "app")
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{image: [1]}], initContainers: 3}"), "app")
	d, err := New(nil, nil, Options{Project: "fuzz", Namespace: "dev", ImagePaths: []ImagePath{
		{Kind: "MyApp", Path: "spec.image"},
		{Kind: "MyApp", Path: "{.spec.components[*].image}"},
		{Kind: "MyApp", Path: "spec.images[*]"},
		{Kind: "Pod", Path: "spec.containers[0].image"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, image string) {
		objs, err := decode(data, "fuzz.yaml", true)
		if err != nil {
			return
		}
		r, err := d.Render(objs, map[string]string{image: "devloop.local/x:1"}, RenderOptions{Sideloaded: true})
		if err != nil {
			return
		}
		if len(r.Objects) != len(objs) || r.Hash == "" {
			t.Errorf("Render() = %d objects, hash %q; want %d objects and a hash", len(r.Objects), r.Hash, len(objs))
		}
	})
}
