// Package build turns devloop artifacts into images with BuildKit.
//
// A [Builder] holds one BuildKit connection: to a buildkitd (unix://, tcp:// with
// TLS, docker-container://, …) or to the embedded BuildKit of a Docker daemon over
// the Engine API's /grpc and /session hijack endpoints, the way buildx's "docker"
// driver does. Every artifact goes through BuildKit's Dockerfile frontend
// (dockerfile.v0); the frontend itself applies .dockerignore.
//
// Each image gets a content-addressed tag derived from its digest, so an unchanged
// rebuild yields the same reference and the stages downstream can skip it. The
// image ends up in one of three places, ready for every sideload target:
//
//   - an OCI image layout directory per artifact under a cache directory, updated
//     incrementally (exporter "oci", tar=false);
//   - the Docker daemon that ran the build (exporter "moby"): nothing moves;
//   - a registry (exporter "image", push=true).
//
// Artifacts build concurrently up to a bound; one whose Dockerfile says
// FROM <another artifact> waits for that artifact and receives its fresh image
// through a named build context (oci-layout:// or docker-image://…@digest) or, in
// a Docker daemon, whose BuildKit may predate named contexts, through its FROM
// line rewritten in place to the image's new tag.
//
// Failures come back as a [*BuildError] with the Dockerfile location and the last
// lines the failing step printed, not as a gRPC status dump.
//
// The package does not decide which artifacts to rebuild, does not move images to a
// cluster (package sideload does) and does not read devloop.yaml (package config
// does; the CLI turns its artifacts into [Spec] values).
package build
