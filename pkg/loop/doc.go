// Package loop runs devloop's pipeline: build every artifact, sideload the images,
// render the manifests with the new references, apply them, prune what left them and
// wait for the rollouts; once for `devloop run`, and again on every coalesced batch of
// file changes for `devloop dev`.
//
// The Engine knows the stages only through the small interfaces of this package
// (Builder, Loader, Renderer, Deployer, Waiter, …); the command line builds the real
// ones (package build, sideload, deploy and rollout) in a StagesFunc, and tests pass
// fakes. The Engine decides what an iteration has to do: which artifacts to rebuild
// for a batch of changed files, whether anything changed at all since the last
// successful apply (then it loads and applies nothing, and says so), and when a newer
// batch makes an in-flight build pointless.
//
// Everything the Engine does is reported as typed events to the event.Sink it is
// given; it prints nothing itself. It does not know how images are built or moved,
// or how objects are applied: those belong to the stages.
package loop
