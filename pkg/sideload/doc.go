// Package sideload moves a built image to where the cluster runs it without a remote
// registry: a Docker daemon (minikube, Docker Desktop), every node of a kind cluster,
// a local containerd, or a registry. Every loader sends only the blobs its target
// lacks and verifies the digest afterwards. It does not build images or apply
// manifests.
package sideload
