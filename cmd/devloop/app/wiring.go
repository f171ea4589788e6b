package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/devloop/devloop/pkg/build"
	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/loop"
	"github.com/devloop/devloop/pkg/loop/stages"
	"github.com/devloop/devloop/pkg/sideload"
)

// wiring makes the real stages for a config: it is the command line's
// loop.StagesFunc.
type wiring struct {
	g *globalFlags
	// allow are the --allow-context values.
	allow []string
	// buildOnly makes only the builder (devloop build needs no cluster).
	buildOnly bool
	// progress and progressOut show BuildKit's progress.
	progress    build.ProgressMode
	progressOut io.Writer
}

// stages implements loop.StagesFunc.
func (w wiring) stages(ctx context.Context, cfg *config.Config, sink event.Sink) (*loop.Stages, error) {
	cacheDir, err := cacheDir(cfg.Name)
	if err != nil {
		return nil, err
	}
	bopts := build.Options{
		Builder:     cfg.Build.Buildkit,
		Output:      build.OutputAuto,
		CacheDir:    cacheDir,
		Concurrency: cfg.Build.Concurrency,
		Progress:    w.progress,
		ProgressOut: w.progressOut,
		Events:      sink,
	}
	st := &loop.Stages{}
	if !w.buildOnly {
		if st, err = w.cluster(ctx, cfg, sink, &bopts); err != nil {
			return nil, err
		}
	}
	b, err := build.New(ctx, bopts)
	if err != nil {
		return nil, fmt.Errorf("connecting to BuildKit: %w", err)
	}
	bk := stages.BuildKit{B: b}
	st.Builder, st.Closers = bk, []io.Closer{bk}
	return st, nil
}

// cluster makes the stages that talk to the cluster, and sets in bopts where
// the builder puts images for the sideload target it chose.
func (w wiring) cluster(ctx context.Context, cfg *config.Config, sink event.Sink, bopts *build.Options) (*loop.Stages, error) {
	ns := w.g.namespace
	if ns == "" {
		ns = cfg.Deploy.Namespace
	}
	kt, err := config.ResolveKube(config.KubeOptions{Kubeconfig: w.g.kubeconfig, Context: w.g.context, Namespace: ns})
	if err != nil {
		return nil, usageError{fmt.Errorf("kube config: %w", err)}
	}
	// Refuse a cluster that does not look local before talking to it at all.
	if err := deploy.CheckContext(kt.Context, kt.Server, slices.Concat(cfg.AllowContexts, w.allow)); err != nil {
		return nil, err
	}
	rc := rest.CopyConfig(kt.RestConfig)
	rc.QPS, rc.Burst = 50, 100 // client-go's 5 QPS would throttle rollout watches
	rc.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kube client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kube client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))

	loader, err := w.loader(ctx, cfg, kt, cs)
	if err != nil {
		return nil, err
	}
	kind := loader.Type()
	// The docker target's daemon is the builder's to reach unless only
	// minikube docker-env, run when loading, tells where it is.
	reachable := kt.Context != "minikube" || dockerHost(cfg) != ""
	if err := buildFor(bopts, cfg.Build.Buildkit, loader, reachable, dockerHost(cfg)); err != nil {
		return nil, err
	}
	dep, err := deploy.New(dyn, mapper, deploy.Options{
		Project:    cfg.Name,
		ConfigPath: cfg.File,
		Namespace:  kt.Namespace,
		ImagePaths: stages.ImagePaths(cfg.Deploy.ImagePaths),
		Sink:       sink,
	})
	if err != nil {
		return nil, err
	}
	return &loop.Stages{
		Loader:    loader,
		Renderer:  stages.Manifests{D: dep, Sources: stages.ManifestSources(cfg.Deploy), Sideloaded: kind != sideload.TargetRegistry, Sink: sink},
		Deployer:  dep,
		Cleaner:   dep,
		Waiter:    rollout.New(cs, dyn, sink, rollout.Options{}),
		Live:      stages.Live{Dyn: dyn, Mapper: mapper},
		Forwarder: stages.NewForwarder(rc, cs, kt.Namespace, sink),
		Tailer:    stages.NewTailer(cs, sink),
		Kube:      loop.KubeContext{Name: kt.Context, Server: kt.Server, Namespace: kt.Namespace},
		Target:    loader.String(),
	}, nil
}

// buildFor sets where bopts builds for the sideload target t: with the docker
// target and a daemon the builder can reach, inside it with its own BuildKit
// (nothing moves), else into an OCI layout the loader reads. dockerd's
// embedded BuildKit has no OCI layout exporter (dockerd 20.10 fails the build
// with `exporter "oci" could not be found`), so build.buildkit: docker with
// another target is refused here, as a config error, before anything runs.
func buildFor(bopts *build.Options, buildkit string, t sideload.Target, reachable bool, dockerHost string) error {
	intoDaemon := buildkit == build.BuilderDocker || buildkit == config.DefaultBuildkit
	switch {
	case t.Type() == sideload.TargetDocker && reachable && intoDaemon:
		bopts.Builder, bopts.DockerHost = build.BuilderDocker, dockerHost
	case buildkit == build.BuilderDocker && t.Type() != sideload.TargetDocker:
		return usagef("build.buildkit: docker cannot build for %s (the %s target): the Docker daemon's BuildKit cannot export an OCI layout to load from; "+
			"use the docker target (target.type: docker), or point build.buildkit at a buildkitd (unix://, tcp://, docker-container://…)", t, t.Type())
	default:
		bopts.Output = build.OutputLayout
	}
	return nil
}

// loader chooses the sideload target (sideload.Select decides; this only looks up
// what it needs: the cluster's KEP-1755 local registry).
func (w wiring) loader(ctx context.Context, cfg *config.Config, kt *config.KubeTarget, cs kubernetes.Interface) (sideload.Target, error) {
	so := sideload.SelectOptions{
		Target:              string(cfg.Target.Type),
		KubeContext:         kt.Context,
		KindCluster:         cfg.Target.Kind.Cluster,
		ContainerdSocket:    cfg.Target.Containerd.Address,
		ContainerdNamespace: cfg.Target.Containerd.Namespace,
		Registry:            cfg.Target.Registry.Host,
		Insecure:            cfg.Target.Registry.Insecure,
		Getenv: func(k string) string {
			if k == "DOCKER_HOST" && cfg.Target.Docker.Host != "" {
				return cfg.Target.Docker.Host
			}
			return os.Getenv(k)
		},
	}
	if t := cfg.Target.Type; (t == config.TargetAuto || t == config.TargetRegistry || t == "") && so.Registry == "" {
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		cm, err := cs.CoreV1().ConfigMaps(sideload.LocalRegistryNamespace).Get(lctx, sideload.LocalRegistryConfigMap, metav1.GetOptions{})
		cancel()
		if err == nil {
			if lr, err := sideload.ParseLocalRegistryHosting(cm.Data); err == nil && lr.Host != "" {
				so.LocalRegistry = &lr
			}
		}
	}
	l, err := sideload.Select(so)
	if err != nil {
		return nil, usageError{err}
	}
	return l, nil
}

// dockerHost is the Docker daemon the docker target names, if any.
func dockerHost(cfg *config.Config) string {
	if cfg.Target.Docker.Host != "" {
		return cfg.Target.Docker.Host
	}
	return os.Getenv("DOCKER_HOST")
}

// cacheDir is where the project's OCI layouts live.
func cacheDir(project string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(dir, "devloop", project, "images"), nil
}
