// Package sideload moves a built image to where the cluster runs it without a remote
// registry: a Docker daemon (minikube, Docker Desktop), every node of a kind cluster,
// a local containerd, or a registry. Every loader sends only the blobs its target
// lacks and verifies the digest afterwards. It does not build images or apply
// manifests.
//
// Select is the one place a target is chosen, from the configured target type and
// the kube context; NewDocker, NewKind, NewContainerd and NewRegistry build a
// target directly. The input is the build stage's OCI image layout directory, from
// which the image is picked by digest, or an image the build already put into the
// target Docker daemon.
//
// How each target avoids resending what it has:
//   - kind and containerd list the node's blobs (ctr content ls) and stream a
//     partial OCI archive into ctr images import; a failed partial import is
//     retried with the full archive.
//   - docker finds the leading layers the daemon already has (RootFS of its
//     images) and posts a docker-archive without them to /images/load; a failure
//     falls back to the full archive.
//   - registry pushes with go-containerregistry, which skips blobs the registry
//     has.
//
// Commands (docker, ctr, minikube) run through a Runner so tests can fake them;
// the Docker Engine API is spoken through internal/dockerapi, over net/http.
package sideload
