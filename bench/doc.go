// Package bench measures devloop's inner loop side by side with the tools a
// developer would otherwise use, on the local test bed (hack/testbed), and prints
// medians, bytes moved and ratios.
//
// Every scenario runs devloop's own packages (pkg/build, pkg/sideload,
// pkg/watch) and the peers' real commands (kind load docker-image, docker save |
// ctr import, docker load, docker build) against the same daemons, with runs
// interleaved tool by tool so that the noise of a shared machine hits every tool
// alike. Untimed set-up before each run puts the target back into the same state
// (the node holds the previous build and lacks the new one), so every run really
// moves what it reports.
//
// What is measured:
//   - kind: a ≥ 200 MB image and its one-line change into the kind-style node;
//   - docker: partial load from an OCI layout vs docker load, and a one-line
//     rebuild in the Docker daemon (BuildKit's moby exporter) vs docker build;
//   - registry: the one-line change push vs a full push to an empty repository;
//   - watch: inotify watches, idle CPU and save-to-batch latency on a large tree;
//   - dev: save→Ready through `devloop dev` (a hook: it runs when a devloop
//     binary is given).
//
// The package never asserts on timings: a run fails only when something errors.
// It cleans up what it creates (images in dockerd, in the node and in the
// registry, temporary directories) even when a scenario fails or is interrupted;
// build caches in buildkitd and dockerd are left to their own GC.
//
// It is not a test of correctness (the integration tests of each package are)
// and not a load generator.
package bench
