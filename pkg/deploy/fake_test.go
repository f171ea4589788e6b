package deploy

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devloop/devloop/pkg/event"
)

// fakeKinds are the kinds the fake cluster serves, with their scope.
func fakeKinds() map[schema.GroupVersionKind]meta.RESTScope {
	return map[schema.GroupVersionKind]meta.RESTScope{
		{Version: "v1", Kind: "Namespace"}:                                                             meta.RESTScopeRoot,
		{Version: "v1", Kind: "ConfigMap"}:                                                             meta.RESTScopeNamespace,
		{Version: "v1", Kind: "Secret"}:                                                                meta.RESTScopeNamespace,
		{Version: "v1", Kind: "Service"}:                                                               meta.RESTScopeNamespace,
		{Group: "apps", Version: "v1", Kind: "Deployment"}:                                             meta.RESTScopeNamespace,
		{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:                                             meta.RESTScopeNamespace,
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}:                       meta.RESTScopeRoot,
		{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}:               meta.RESTScopeRoot,
		{Group: "example.com", Version: "v1", Kind: "Widget"}:                                          meta.RESTScopeNamespace,
		{Group: "example.com", Version: "v1", Kind: "Gadget"}:                                          meta.RESTScopeRoot,
		{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration"}: meta.RESTScopeRoot,
	}
}

// lateMapper is a RESTMapper that does not know some kinds until Reset has been called
// a number of times, like a discovery cache right after a CRD was applied.
type lateMapper struct {
	meta.RESTMapper
	mu     sync.Mutex
	late   map[schema.GroupKind]bool
	resets int
	after  int
}

func (m *lateMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m.mu.Lock()
	hidden := m.late[gk] && m.resets < m.after
	m.mu.Unlock()
	if hidden {
		return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
	}
	return m.RESTMapper.RESTMapping(gk, versions...)
}

func (m *lateMapper) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resets++
}

var _ meta.ResettableRESTMapper = (*lateMapper)(nil)

// fakeCluster is a fake dynamic client that understands server-side apply well
// enough for devloop (the applier owns every field it sends), with a static mapper.
type fakeCluster struct {
	dyn    *fake.FakeDynamicClient
	mapper *lateMapper
	events *event.Recorder
	uids   int
}

func newFakeCluster(t *testing.T, objs ...*unstructured.Unstructured) *fakeCluster {
	t.Helper()
	rm := meta.NewDefaultRESTMapper(nil)
	listKinds := map[schema.GroupVersionResource]string{}
	for gvk, scope := range fakeKinds() {
		rm.Add(gvk, scope)
		m, err := rm.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		listKinds[m.Resource] = gvk.Kind + "List"
	}
	c := &fakeCluster{mapper: &lateMapper{RESTMapper: rm}, events: &event.Recorder{}}
	c.dyn = fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	for _, o := range objs {
		c.add(t, o)
	}
	c.dyn.PrependReactor("patch", "*", c.apply)
	return c
}

// add stores an object as it is, with a UID.
func (c *fakeCluster) add(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	m, err := c.mapper.RESTMapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	if err != nil {
		t.Fatal(err)
	}
	u = u.DeepCopy()
	c.uids++
	u.SetUID(types.UID(fmt.Sprintf("uid-%d", c.uids)))
	if err := c.dyn.Tracker().Create(m.Resource, u, u.GetNamespace()); err != nil {
		t.Fatalf("adding %s: %v", refOf(u), err)
	}
}

// apply implements apply patches: create, or replace keeping the UID.
func (c *fakeCluster) apply(action k8stesting.Action) (bool, runtime.Object, error) {
	pa := action.(k8stesting.PatchAction)
	if pa.GetPatchType() != types.ApplyPatchType {
		return false, nil, nil
	}
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal(pa.GetPatch(), &obj.Object); err != nil {
		return true, nil, apierrors.NewBadRequest(err.Error())
	}
	gvr, ns := pa.GetResource(), pa.GetNamespace()
	if obj.GetNamespace() != ns {
		return true, nil, apierrors.NewBadRequest(fmt.Sprintf("namespace %q in body, %q in path", obj.GetNamespace(), ns))
	}
	tr := c.dyn.Tracker()
	existing, err := tr.Get(gvr, ns, pa.GetName())
	switch {
	case apierrors.IsNotFound(err):
		c.uids++
		obj.SetUID(types.UID(fmt.Sprintf("uid-%d", c.uids)))
		err = tr.Create(gvr, obj, ns)
	case err != nil:
		return true, nil, err
	default:
		obj.SetUID(existing.(metav1.Object).GetUID())
		err = tr.Update(gvr, obj, ns)
	}
	return true, obj, err
}

// get returns a live object or nil.
func (c *fakeCluster) get(t *testing.T, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	m, err := c.mapper.RESTMapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.dyn.Tracker().Get(m.Resource, ns, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return o.(*unstructured.Unstructured)
}

// names lists every stored object as "kind/namespace/name", sorted.
func (c *fakeCluster) names(t *testing.T) []string {
	t.Helper()
	var out []string
	for gvk := range fakeKinds() {
		m, _ := c.mapper.RESTMapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		l, err := c.dyn.Tracker().List(m.Resource, gvk, "")
		if err != nil {
			t.Fatal(err)
		}
		items, _ := meta.ExtractList(l)
		for _, it := range items {
			o := it.(metav1.Object)
			out = append(out, gvk.Kind+"/"+o.GetNamespace()+"/"+o.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func (c *fakeCluster) deployer(t *testing.T, project string) *Deployer {
	t.Helper()
	d, err := New(c.dyn, c.mapper, Options{Project: project, ConfigPath: "/src/devloop.yaml", Namespace: "dev", Sink: c.events})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// obj builds an object for seeding the fake cluster.
func obj(apiVersion, kind, ns, name string, labels, annotations map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	u.SetAnnotations(annotations)
	return u
}

func ownedBy(project string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelProject: project}
}
