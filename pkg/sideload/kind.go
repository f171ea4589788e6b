package sideload

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// Labels kind puts on its node containers.
const (
	kindClusterLabel = "io.x-k8s.kind.cluster"
	kindRoleLabel    = "io.x-k8s.kind.role"
)

// KindOptions configures the kind target.
type KindOptions struct {
	// Cluster is the kind cluster name (the kube context is kind-<Cluster>).
	Cluster string
	// Runner runs docker on this machine; default ExecRunner{}.
	Runner Runner
	// Docker is the docker CLI; default "docker". It honours DOCKER_HOST.
	Docker string
	// Namespace is the containerd namespace; default DefaultNamespace.
	Namespace string
}

// kindLoader loads into every node of a kind cluster, in parallel, through
// `docker exec -i NODE ctr …`: what `kind load` does, minus the blobs a node has.
type kindLoader struct {
	opts KindOptions

	mu sync.Mutex
	// snapshotters caches each node's snapshotter: it is fixed for a node's life.
	snapshotters map[string]string
}

var _ Target = (*kindLoader)(nil)

// NewKind returns the Sideloader for the kind cluster opts.Cluster.
func NewKind(opts KindOptions) (Target, error) {
	if opts.Cluster == "" {
		return nil, errors.New("kind target needs a cluster name")
	}
	if opts.Runner == nil {
		opts.Runner = ExecRunner{}
	}
	if opts.Docker == "" {
		opts.Docker = "docker"
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	return &kindLoader{opts: opts, snapshotters: map[string]string{}}, nil
}

// String names the target for messages.
func (k *kindLoader) String() string { return "kind cluster " + k.opts.Cluster }

// Load implements Sideloader.
func (k *kindLoader) Load(ctx context.Context, img Image) (Result, error) {
	li, err := readLayoutImage(img.LayoutDir, img.Digest)
	if err != nil {
		return Result{}, fmt.Errorf("loading %s into kind cluster %s: %w", img.Ref, k.opts.Cluster, err)
	}
	nodes, err := k.nodes(ctx)
	if err != nil {
		return Result{}, err
	}
	results := make([]nodeResult, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			results[i], errs[i] = k.loadNode(ctx, node, li, img.Ref)
		})
	}
	wg.Wait()
	res := Result{Ref: img.Ref, Nodes: nodes, Verified: true}
	for i := range nodes {
		res.BytesSent += results[i].tr.bytes
		res.BlobsSent += results[i].tr.sent
		res.BlobsSkipped += results[i].tr.skipped
		res.Fallback = res.Fallback || results[i].fallback
		if errs[i] != nil {
			res.Verified = false
			errs[i] = fmt.Errorf("loading %s into node %s: %w", img.Ref, nodes[i], errs[i])
		}
	}
	return res, errors.Join(errs...)
}

// Type implements Target.
func (k *kindLoader) Type() string { return TargetKind }

func (k *kindLoader) loadNode(ctx context.Context, node string, li *layoutImage, ref name.Tag) (nodeResult, error) {
	k.mu.Lock()
	snap := k.snapshotters[node]
	k.mu.Unlock()
	n := &ctrNode{
		run:         k.opts.Runner,
		prefix:      []string{k.opts.Docker, "exec", "-i", node},
		ctr:         []string{"ctr"},
		namespace:   k.opts.Namespace,
		snapshotter: snap,
		dumpConfig:  []string{"containerd", "config", "dump"},
		hint:        "is the node container running? (docker ps)",
	}
	res, err := n.load(ctx, li, ref)
	if n.snapshotter == "" && n.resolvedSnapshotter != "" {
		k.mu.Lock()
		k.snapshotters[node] = n.resolvedSnapshotter
		k.mu.Unlock()
	}
	return res, err
}

// nodes lists the cluster's running node containers, as kind does, leaving out its
// external load balancer (it runs no kubelet).
func (k *kindLoader) nodes(ctx context.Context) ([]string, error) {
	out, err := output(ctx, k.opts.Runner, k.opts.Docker, "ps",
		"--filter", "label="+kindClusterLabel+"="+k.opts.Cluster,
		"--format", `{{.Names}}	{{.Label "`+kindRoleLabel+`"}}`)
	if err != nil {
		return nil, fmt.Errorf("listing the nodes of kind cluster %s: %w: is Docker running?", k.opts.Cluster, err)
	}
	nodes := parseKindNodes(out)
	if len(nodes) == 0 {
		return nil, fmt.Errorf("kind cluster %s has no running nodes (no container labelled %s=%s): create it with kind create cluster --name %s",
			k.opts.Cluster, kindClusterLabel, k.opts.Cluster, k.opts.Cluster)
	}
	return nodes, nil
}

// parseKindNodes reads `docker ps --format '{{.Names}}\t{{.Label role}}'` output.
func parseKindNodes(out []byte) []string {
	var nodes []string
	for _, line := range strings.Split(string(out), "\n") {
		nameField, role, _ := strings.Cut(strings.TrimSpace(line), "\t")
		if nameField == "" || strings.TrimSpace(role) == "external-load-balancer" {
			continue
		}
		nodes = append(nodes, nameField)
	}
	sort.Strings(nodes)
	return nodes
}
