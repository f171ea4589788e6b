// Package deploy turns manifests into running objects in a local cluster and takes
// back only what it put there.
//
// The stages, each usable on its own:
//
//   - [Read] loads manifests from YAML/JSON files, directories (non-recursive),
//     glob patterns and kustomize directories (built in process with krusty).
//   - [Deployer.Render] substitutes built images into every PodSpec (and into
//     configured paths of custom resources), sets imagePullPolicy IfNotPresent for
//     sideloaded images, marks every object as devloop's, defaults namespaces, sorts
//     objects into apply order and hashes the result so a caller can skip an apply
//     when nothing changed.
//   - [Deployer.Apply] applies with server-side apply (field manager "devloop",
//     forced), [Deployer.Prune] deletes objects of this project that left the
//     manifests, [Deployer.Cleanup] deletes everything of this project.
//   - [CheckContext] refuses kube contexts that do not look local.
//
// # Ownership
//
// Every applied object carries the labels [LabelManagedBy]=devloop and
// [LabelProject]=<project> and the annotation [AnnotationConfig]=<config path>.
// Prune and Cleanup only ever delete objects whose live copy carries both labels for
// this project (re-read right before the delete, which is made conditional on the
// object's UID) and that are not controlled by another object. Namespaces and
// CustomResourceDefinitions, whose deletion takes other objects with them, are only
// deleted when devloop created them ([AnnotationCreated]); the system namespaces never.
// Pod templates are deliberately not labelled, so pods and ReplicaSets never look like
// devloop's own objects.
//
// # Inventory
//
// Prune must find objects of kinds that are no longer in the manifests. Apply therefore
// records every kind it applied in a ConfigMap named devloop-inventory-<project> in the
// default namespace (itself labelled as devloop's, written only when the kinds change).
// Prune lists, in all namespaces and by label selector, every kind in that inventory,
// every kind applied now, and Namespaces; it then shrinks the inventory to the kinds
// still in use. Cleanup also lists the common built-in kinds. If the inventory is
// deleted by hand, objects of unusual kinds that also left the manifests are no longer
// found: they are leaked, never wrongly deleted.
//
// # Requests
//
// A steady-state pass costs one apply request per object plus a few reads (the
// namespace, the inventory, one list per recorded kind). client-go's default
// client-side limit of 5 requests per second would dominate that on a local cluster:
// callers should raise rest.Config QPS and Burst (the tests use 50 and 100).
//
// This package does not watch rollouts (see package rollout) and does not decide which
// images to build or where they are loaded.
package deploy
