package sideload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// RegistryOptions configures the registry target.
type RegistryOptions struct {
	// Registry is the host[:port] devloop pushes to, e.g. localhost:5001.
	Registry string
	// PullRegistry is the host[:port] the container runtime pulls from when it
	// differs (KEP-1755 hostFromContainerRuntime, e.g. kind-registry:5000);
	// default Registry.
	PullRegistry string
	// Insecure pushes over plain HTTP. localhost, 127.0.0.0/8 and private
	// addresses use HTTP anyway.
	Insecure bool
	// Keychain finds credentials; default authn.DefaultKeychain (docker config).
	Keychain authn.Keychain
	// Transport is the HTTP transport; default remote.DefaultTransport.
	Transport http.RoundTripper
}

// registryLoader pushes with go-containerregistry, which asks (HEAD) before it
// uploads each blob, so only blobs the registry lacks move.
type registryLoader struct {
	opts RegistryOptions
}

var _ Target = (*registryLoader)(nil)

// NewRegistry returns the Sideloader that pushes to opts.Registry.
func NewRegistry(opts RegistryOptions) (Target, error) {
	if opts.Registry == "" {
		return nil, errors.New("registry target needs a registry host")
	}
	if strings.Contains(opts.Registry, "://") {
		return nil, fmt.Errorf("registry %q: want host[:port], without a scheme", opts.Registry)
	}
	if _, err := name.NewRegistry(opts.Registry); err != nil {
		return nil, fmt.Errorf("registry %q: %w", opts.Registry, err)
	}
	if opts.PullRegistry == "" {
		opts.PullRegistry = opts.Registry
	}
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Transport == nil {
		opts.Transport = remote.DefaultTransport
	}
	return &registryLoader{opts: opts}, nil
}

// String names the target for messages.
func (r *registryLoader) String() string { return "registry " + r.opts.Registry }

// Load implements Sideloader. Result.Ref is PullRegistry/repo:tag@digest.
func (r *registryLoader) Load(ctx context.Context, img Image) (Result, error) {
	push, pull, err := r.refs(img.Ref, img.Digest.String())
	if err != nil {
		return Result{}, err
	}
	taggable, err := r.open(img)
	if err != nil {
		return Result{}, fmt.Errorf("pushing %s: %w", push, err)
	}
	ct := &countingTransport{inner: r.opts.Transport}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(r.opts.Keychain),
		remote.WithTransport(ct),
	}
	err = remote.Push(push, taggable, opts...)
	res := Result{Ref: pull}
	res.BytesSent, res.BlobsSent, res.BlobsSkipped = ct.counts()
	if err != nil {
		return res, fmt.Errorf("pushing %s: %w: %s", push, err, pushHint(err, push.RegistryStr()))
	}
	desc, err := remote.Head(push, opts...)
	if err != nil {
		return res, fmt.Errorf("verifying %s: %w", push, err)
	}
	if desc.Digest != img.Digest {
		return res, fmt.Errorf("verifying %s: the registry has %s, want %s", push, desc.Digest, img.Digest)
	}
	res.Verified = true
	return res, nil
}

// Type implements Target.
func (r *registryLoader) Type() string { return TargetRegistry }

// refs maps the image's repository into the push and pull registries. Docker Hub's
// implicit "library/" is dropped: devloop.local/app and app both become REG/app.
func (r *registryLoader) refs(ref name.Tag, digest string) (name.Tag, name.Digest, error) {
	var opts []name.Option
	if r.opts.Insecure {
		opts = append(opts, name.Insecure)
	}
	repo := ref.Context().RepositoryStr()
	if ref.Context().RegistryStr() == name.DefaultRegistry {
		repo = strings.TrimPrefix(repo, "library/")
	}
	push, err := name.NewTag(r.opts.Registry+"/"+repo+":"+ref.TagStr(), opts...)
	if err != nil {
		return name.Tag{}, name.Digest{}, fmt.Errorf("naming %s in registry %s: %w", ref, r.opts.Registry, err)
	}
	pull, err := name.NewDigest(r.opts.PullRegistry + "/" + repo + ":" + ref.TagStr() + "@" + digest)
	if err != nil {
		return name.Tag{}, name.Digest{}, fmt.Errorf("naming %s in registry %s: %w", ref, r.opts.PullRegistry, err)
	}
	return push, pull, nil
}

// open reads the image or index to push from the layout, by digest.
func (r *registryLoader) open(img Image) (remote.Taggable, error) {
	if img.LayoutDir == "" {
		return nil, errors.New("the registry target needs the image as an OCI layout; it was built into a Docker daemon")
	}
	li, err := readLayoutImage(img.LayoutDir, img.Digest) // checks the digest is there
	if err != nil {
		return nil, err
	}
	p, err := layout.FromPath(img.LayoutDir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	if li.root.MediaType.IsIndex() {
		return idx.ImageIndex(img.Digest)
	}
	return idx.Image(img.Digest)
}

// countingTransport counts request bodies (upload bytes) and blob uploads and hits.
type countingTransport struct {
	inner http.RoundTripper

	mu            sync.Mutex
	n             int64
	sent, skipped int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = &countingBody{ReadCloser: req.Body, c: c}
	}
	resp, err := c.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	p := req.URL.Path
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case req.Method == http.MethodHead && strings.Contains(p, "/blobs/") && resp.StatusCode == http.StatusOK:
		c.skipped++ // the registry has it
	case req.Method == http.MethodPost && strings.HasSuffix(p, "/blobs/uploads/") &&
		req.URL.Query().Get("mount") != "" && resp.StatusCode == http.StatusCreated:
		c.skipped++ // mounted from another repository
	case req.Method == http.MethodPut && strings.Contains(p, "/blobs/uploads/") && resp.StatusCode == http.StatusCreated:
		c.sent++
	}
	return resp, nil
}

func (c *countingTransport) counts() (bytes int64, sent, skipped int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.sent, c.skipped
}

type countingBody struct {
	io.ReadCloser
	c *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.n += int64(n)
	b.c.mu.Unlock()
	return n, err
}

// pushHint says what to check after a failed push: the credentials when the
// registry refused them, else whether it runs at all.
func pushHint(err error, registry string) string {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusUnauthorized {
		return "check the credentials for " + registry + " in the Docker config (docker login " + registry + ")"
	}
	return "is the registry running and does it accept pushes?"
}
