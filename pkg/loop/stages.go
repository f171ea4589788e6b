package loop

import (
	"context"
	"errors"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/sideload"
)

// Builder builds artifacts into images. It reports per-artifact build events to
// the sink it was made with.
type Builder interface {
	// Build builds artifacts and returns one Built per artifact, in order, with
	// an error joining every failure.
	Build(ctx context.Context, artifacts []config.Artifact) ([]Built, error)
}

// Built is one artifact's build outcome.
type Built struct {
	// Artifact is the image name from the config.
	Artifact string
	// Image is what the sideload stage takes; zero when the build failed.
	Image sideload.Image
	// Duration is the wall time of the build.
	Duration time.Duration
	// Err is the build's error.
	Err error
}

// Loader puts a built image where the cluster can run it; every
// sideload.Sideloader is one.
type Loader interface {
	Load(ctx context.Context, img sideload.Image) (sideload.Result, error)
}

// Renderer reads the project's manifests and substitutes the images: images maps
// each artifact's image name to the reference the cluster runs.
type Renderer interface {
	Render(ctx context.Context, images map[string]string) (*deploy.Rendered, error)
}

// Deployer applies rendered objects and prunes the project's objects that are no
// longer rendered; *deploy.Deployer is one.
type Deployer interface {
	Apply(ctx context.Context, objs []*unstructured.Unstructured) ([]deploy.Ref, error)
	Prune(ctx context.Context, keep []deploy.Ref) ([]deploy.Ref, error)
}

// Cleaner deletes every object the project applied; *deploy.Deployer is one.
type Cleaner interface {
	Cleanup(ctx context.Context) ([]deploy.Ref, error)
}

// Waiter waits for rollouts; *rollout.Watcher is one.
type Waiter interface {
	Wait(ctx context.Context, resources []rollout.Resource, timeout time.Duration) error
}

// LiveChecker tells whether every object still carries, in the cluster, the
// rendered hash devloop last applied (AnnotationHash). A false answer makes the
// Engine apply again.
type LiveChecker interface {
	Current(ctx context.Context, objs []*unstructured.Unstructured, hash string) (bool, error)
}

// Forwarder forwards local ports to deployed resources until ctx ends, following
// the resources across rollouts.
type Forwarder interface {
	Forward(ctx context.Context, forwards []config.PortForward) error
}

// Tailer streams the logs of the pods of workloads until ctx ends, picking up
// new pods as they appear.
type Tailer interface {
	Tail(ctx context.Context, workloads []rollout.Resource) error
}

// KubeContext names the cluster the stages talk to, for the safety check.
type KubeContext struct {
	Name, Server, Namespace string
}

// Stages are the pipeline's stages for one loaded config. Builder is always
// required; the others may be nil when the command does not need them (devloop
// build needs no cluster).
type Stages struct {
	Builder   Builder
	Loader    Loader
	Renderer  Renderer
	Deployer  Deployer
	Waiter    Waiter
	Cleaner   Cleaner
	Live      LiveChecker
	Forwarder Forwarder
	Tailer    Tailer
	// Kube is the cluster the stages deploy to.
	Kube KubeContext
	// Target describes where images are loaded, e.g. "containerd at /run/…";
	// part of the state key, so a state is never reused for another target.
	Target string
	// Closers are closed, in order, when the stages are replaced or the Engine
	// is done with them.
	Closers []io.Closer
}

// Close closes every closer.
func (s *Stages) Close() error {
	var errs []error
	for _, c := range s.Closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// StagesFunc makes the stages for cfg. sink is the Engine's: it stamps each event
// with the current iteration, so stages should report to it.
type StagesFunc func(ctx context.Context, cfg *config.Config, sink event.Sink) (*Stages, error)
