package deploy

import (
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// applyOrder lists kinds in the order they are applied (and deleted in reverse):
// what others live in or refer to comes first. It follows Helm's install order with
// Namespaces and CRDs moved to the front, so custom resources and namespaced objects
// never arrive before their type or namespace. Kinds not listed (custom resources)
// come after every listed kind except the webhook configurations, which go last so
// they do not intercept the objects of their own backends.
func applyOrder() []string {
	return []string{
		"Namespace",
		"CustomResourceDefinition",
		"PriorityClass",
		"NetworkPolicy",
		"ResourceQuota",
		"LimitRange",
		"PodDisruptionBudget",
		"ServiceAccount",
		"Secret",
		"ConfigMap",
		"StorageClass",
		"PersistentVolume",
		"PersistentVolumeClaim",
		"ClusterRole",
		"ClusterRoleBinding",
		"Role",
		"RoleBinding",
		"Service",
		"DaemonSet",
		"Pod",
		"ReplicationController",
		"ReplicaSet",
		"Deployment",
		"HorizontalPodAutoscaler",
		"StatefulSet",
		"Job",
		"CronJob",
		"IngressClass",
		"Ingress",
		"APIService",
	}
}

// lastKinds are applied after unknown kinds.
func lastKinds() []string {
	return []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
}

// rank orders kinds for applying; smaller first.
func rank(kind string) int {
	order := applyOrder()
	for i, k := range order {
		if k == kind {
			return i
		}
	}
	for i, k := range lastKinds() {
		if k == kind {
			return len(order) + 1 + i
		}
	}
	return len(order) // unknown kinds: custom resources and the like
}

// sortForApply sorts objects into apply order, keeping manifest order within a kind.
func sortForApply(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i].GetKind()) < rank(objs[j].GetKind()) })
}

// sortForDelete sorts refs into delete order: the reverse of apply order.
func sortForDelete(refs []Ref) {
	sort.SliceStable(refs, func(i, j int) bool { return rank(refs[i].Kind) > rank(refs[j].Kind) })
}

// clusterScopedKinds are the built-in kinds without a namespace, used to default
// namespaces when no RESTMapper knows the kind.
func clusterScopedKinds() map[schema.GroupKind]bool {
	return map[schema.GroupKind]bool{
		{Kind: "Namespace"}:        true,
		{Kind: "Node"}:             true,
		{Kind: "PersistentVolume"}: true,
		{Kind: "ComponentStatus"}:  true,
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
		{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
		{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
		{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
		{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
		{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
		{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
		{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
		{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
		{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
		{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
		{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
		{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	}
}
