package sideload

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ContainerdOptions configures the containerd target: a containerd on this machine
// that the cluster's kubelet uses (k3s, microk8s, kubeadm single node, the test bed).
type ContainerdOptions struct {
	// Socket is containerd's gRPC socket, e.g. /run/containerd/containerd.sock.
	Socket string
	// Namespace is the containerd namespace; default DefaultNamespace.
	Namespace string
	// Snapshotter to unpack into. Empty: read it from `containerd --config
	// ConfigPath config dump` when ConfigPath is set, else DefaultSnapshotter.
	Snapshotter string
	// ConfigPath is the config file the containerd behind Socket runs with.
	ConfigPath string
	// Runner runs ctr (and containerd config dump); default ExecRunner{}.
	Runner Runner
	// Ctr is the ctr binary; default "ctr".
	Ctr string
	// Hint is appended to "socket does not exist" errors, e.g. how to start it.
	Hint string
}

// containerdLoader imports into a local containerd with ctr --address SOCK.
type containerdLoader struct {
	opts ContainerdOptions
}

var _ Target = (*containerdLoader)(nil)

// NewContainerd returns the Sideloader for the containerd at opts.Socket.
func NewContainerd(opts ContainerdOptions) (Target, error) {
	if opts.Socket == "" {
		return nil, errors.New("containerd target needs a socket path")
	}
	if opts.Runner == nil {
		opts.Runner = ExecRunner{}
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.Ctr == "" {
		opts.Ctr = "ctr"
	}
	if opts.Snapshotter == "" && opts.ConfigPath == "" {
		opts.Snapshotter = DefaultSnapshotter
	}
	if opts.Hint == "" {
		opts.Hint = "is containerd running?"
	}
	return &containerdLoader{opts: opts}, nil
}

// String names the target for messages.
func (c *containerdLoader) String() string { return "containerd at " + c.opts.Socket }

// Load implements Sideloader.
func (c *containerdLoader) Load(ctx context.Context, img Image) (Result, error) {
	li, err := readLayoutImage(img.LayoutDir, img.Digest)
	if err != nil {
		return Result{}, fmt.Errorf("loading %s into containerd: %w", img.Ref, err)
	}
	if _, err := os.Stat(c.opts.Socket); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Result{}, fmt.Errorf("containerd socket %s does not exist: %s", c.opts.Socket, c.opts.Hint)
		}
		return Result{}, fmt.Errorf("containerd socket %s: %w", c.opts.Socket, err)
	}
	n := &ctrNode{
		run:         c.opts.Runner,
		ctr:         []string{c.opts.Ctr, "--address", c.opts.Socket},
		namespace:   c.opts.Namespace,
		snapshotter: c.opts.Snapshotter,
		dumpConfig:  []string{"containerd", "--config", c.opts.ConfigPath, "config", "dump"},
		hint:        c.opts.Hint,
	}
	nr, err := n.load(ctx, li, img.Ref)
	res := Result{
		Ref:          img.Ref,
		BytesSent:    nr.tr.bytes,
		BlobsSent:    nr.tr.sent,
		BlobsSkipped: nr.tr.skipped,
		Fallback:     nr.fallback,
		Verified:     err == nil,
	}
	if err != nil {
		return res, fmt.Errorf("loading %s into containerd at %s: %w", img.Ref, c.opts.Socket, err)
	}
	return res, nil
}

// Type implements Target.
func (c *containerdLoader) Type() string { return TargetContainerd }
