package sideload

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is a built image as the build stage hands it over.
type Image struct {
	// Ref is the reference the cluster will run, e.g. devloop.local/app:5f2c…; its tag
	// is content-addressed and never "latest".
	Ref name.Tag
	// Digest is the image manifest digest.
	Digest v1.Hash
	// LayoutDir is an OCI image layout directory holding the image (its index.json has
	// a manifest annotated with org.opencontainers.image.ref.name or
	// io.containerd.image.name naming Ref, or the manifest whose digest is Digest).
	// Empty when the image was built straight into the target (InDaemon).
	LayoutDir string
	// InDaemon is set when the build already stored the image in the target Docker
	// daemon (BuildKit's moby exporter): nothing needs to move.
	InDaemon bool
}

// Result says what a load did.
type Result struct {
	// Ref is what the cluster should run: the same as Image.Ref for node-local targets,
	// a registry reference for the registry target.
	Ref name.Reference
	// BytesSent counts the bytes streamed to the target (archive or upload bodies).
	BytesSent int64
	// BlobsSent and BlobsSkipped count blobs moved and blobs the target already had.
	BlobsSent, BlobsSkipped int
	// Fallback is set when a partial transfer failed and the full image was sent.
	Fallback bool
	// Verified is true once the target was seen holding Digest under Ref.
	Verified bool
	// Nodes lists the nodes loaded (kind), empty otherwise.
	Nodes []string
}

// Sideloader puts a built image where the cluster can run it.
type Sideloader interface {
	Load(ctx context.Context, img Image) (Result, error)
}

// Target is a Sideloader of this package, as Select and the New functions return
// it: String names the target for messages ("kind cluster dev") and Type says
// which type of target it is, one of Targets() other than TargetAuto, for
// callers that adapt to it (build into the daemon the docker target loads into,
// rewrite image references unless the registry target pushed them).
type Target interface {
	Sideloader
	fmt.Stringer
	Type() string
}
