package config

import "time"

// APIVersion and Kind identify a devloop.yaml document. There is one
// version until a second one is really needed.
const (
	APIVersion = "devloop.dev/v1alpha1"
	Kind       = "Config"
)

// Defaults applied by setDefaults to fields left empty in the file.
const (
	DefaultContext             = "."
	DefaultDockerfile          = "Dockerfile"
	DefaultContainerdNamespace = "k8s.io"
	DefaultBuildkit            = "auto"
	DefaultBuildConcurrency    = 4
	DefaultRolloutTimeout      = 5 * time.Minute
	DefaultForwardAddress      = "127.0.0.1"
)

// Config is a loaded devloop.yaml with the requested profiles applied,
// defaults set and every path made absolute.
//
// Struct tags: `json` names the YAML key (the Kubernetes convention, so the
// value also marshals back to the same shape) and `config:"required"` marks a
// key that must be present.
type Config struct {
	// APIVersion must be [APIVersion].
	APIVersion string `json:"apiVersion" config:"required"`
	// Kind must be [Kind].
	Kind string `json:"kind" config:"required"`
	// Name is the project name, used to label the objects devloop owns.
	// It defaults to the name of the directory holding the config file,
	// made a valid label value.
	Name string `json:"name,omitempty"`
	// Artifacts are the images devloop builds.
	Artifacts []Artifact `json:"artifacts,omitempty"`
	// Deploy says which manifests to apply and how.
	Deploy Deploy `json:"deploy,omitempty"`
	// Target says how built images reach the cluster.
	Target Target `json:"target,omitempty"`
	// Build tunes the image builder.
	Build Build `json:"build,omitempty"`
	// PortForward lists ports forwarded to localhost once deployed.
	PortForward []PortForward `json:"portForward,omitempty"`
	// AllowContexts names kube contexts devloop may deploy to even though
	// they do not look local.
	AllowContexts []string `json:"allowContexts,omitempty"`
	// Profiles are the profiles declared in the file, as written (before
	// defaults), so the CLI can list them.
	Profiles []Profile `json:"profiles,omitempty"`

	// File is the absolute path of the loaded file, set by [Load]; empty
	// from [Parse].
	File string `json:"-"`
	// Dir is the absolute directory every relative path was resolved from.
	Dir string `json:"-"`
	// ActiveProfiles are the profiles applied, in order.
	ActiveProfiles []string `json:"-"`
}

// Artifact is one image to build with BuildKit's Dockerfile frontend.
type Artifact struct {
	// Image is the repository name without tag or digest (devloop tags by
	// content), for example "web" or "registry.local:5000/team/web".
	Image string `json:"image" config:"required"`
	// Context is the build context directory (absolute after loading).
	Context string `json:"context,omitempty"`
	// Dockerfile is the Dockerfile path; in the file it is relative to the
	// context, after loading it is absolute.
	Dockerfile string `json:"dockerfile,omitempty"`
	// Target is the Dockerfile stage to build; empty builds the last stage.
	Target string `json:"target,omitempty"`
	// BuildArgs are passed as --build-arg.
	BuildArgs map[string]string `json:"buildArgs,omitempty"`
	// Platform is an OS/arch[/variant] such as "linux/amd64"; empty means
	// the platform of the cluster's nodes.
	Platform string `json:"platform,omitempty"`
	// Ignore holds extra .dockerignore-syntax patterns, relative to the
	// context, excluded from the build and from watching.
	Ignore []string `json:"ignore,omitempty"`
}

// Deploy describes the Kubernetes objects devloop applies.
type Deploy struct {
	// Manifests are YAML files, directories or glob patterns (absolute
	// after loading; globs are kept as patterns).
	Manifests []string `json:"manifests,omitempty"`
	// Kustomize is a directory holding a kustomization file.
	Kustomize string `json:"kustomize,omitempty"`
	// Namespace overrides the kube context's namespace for namespaced
	// objects without one.
	Namespace string `json:"namespace,omitempty"`
	// ImagePaths tell devloop where images live in custom resources.
	ImagePaths []ImagePath `json:"imagePaths,omitempty"`
	// RolloutTimeout bounds the wait for rollouts to finish, default
	// [DefaultRolloutTimeout] (also when written as 0s).
	RolloutTimeout time.Duration `json:"rolloutTimeout,omitempty"`
}

// ImagePath locates image references in objects of one kind, for custom
// resources whose pod templates devloop does not know.
type ImagePath struct {
	// Kind is the object kind, such as "Rollout".
	Kind string `json:"kind" config:"required"`
	// Path is a kubectl JSONPath such as
	// "{.spec.template.spec.containers[*].image}"; the braces are optional
	// in the file and always present after loading.
	Path string `json:"path" config:"required"`
}

// TargetType names how images reach the cluster.
type TargetType string

// Target types. TargetAuto lets the sideload stage choose from the kube
// context.
const (
	TargetAuto       TargetType = "auto"
	TargetDocker     TargetType = "docker"
	TargetKind       TargetType = "kind"
	TargetContainerd TargetType = "containerd"
	TargetRegistry   TargetType = "registry"
)

// TargetTypes lists the valid target types in documentation order.
func TargetTypes() []TargetType {
	return []TargetType{TargetAuto, TargetDocker, TargetKind, TargetContainerd, TargetRegistry}
}

// Target selects the sideload target and holds options for each type.
// Options for a type other than Type are kept but unused, so a profile can
// switch types without deleting them.
type Target struct {
	// Type defaults to [TargetAuto].
	Type TargetType `json:"type,omitempty"`
	// Kind holds options for [TargetKind].
	Kind KindTarget `json:"kind,omitempty"`
	// Containerd holds options for [TargetContainerd].
	Containerd ContainerdTarget `json:"containerd,omitempty"`
	// Registry holds options for [TargetRegistry].
	Registry RegistryTarget `json:"registry,omitempty"`
	// Docker holds options for [TargetDocker].
	Docker DockerTarget `json:"docker,omitempty"`
}

// KindTarget configures loading into a kind cluster.
type KindTarget struct {
	// Cluster is the kind cluster name; empty derives it from the kube
	// context ("kind-NAME").
	Cluster string `json:"cluster,omitempty"`
}

// ContainerdTarget configures importing into a containerd on this machine.
type ContainerdTarget struct {
	// Address is the containerd socket; empty lets the sideload stage probe
	// the usual locations (containerd, k3s, microk8s).
	Address string `json:"address,omitempty"`
	// Namespace is the containerd namespace the kubelet reads, default
	// [DefaultContainerdNamespace].
	Namespace string `json:"namespace,omitempty"`
}

// RegistryTarget configures pushing to a registry.
type RegistryTarget struct {
	// Host is host[:port][/path], without scheme; empty discovers the
	// cluster's local registry (KEP-1755).
	Host string `json:"host,omitempty"`
	// Insecure allows plain HTTP and unverified TLS.
	Insecure bool `json:"insecure,omitempty"`
}

// DockerTarget configures building into a Docker daemon the cluster uses.
type DockerTarget struct {
	// Host is a Docker host such as unix:///var/run/docker.sock or
	// tcp://192.168.49.2:2376; empty uses DOCKER_HOST and the default.
	Host string `json:"host,omitempty"`
}

// Build tunes the builder.
type Build struct {
	// Buildkit is "auto", "docker" (the daemon's embedded BuildKit) or a
	// buildkitd address (unix://, tcp://, docker-container://, …).
	Buildkit string `json:"buildkit,omitempty"`
	// Concurrency bounds simultaneous builds, default
	// [DefaultBuildConcurrency].
	Concurrency int `json:"concurrency,omitempty"`
}

// PortForward forwards a local port to a port of a deployed resource.
type PortForward struct {
	// Resource is TYPE/NAME as kubectl port-forward takes it, such as
	// "service/web" or "deployment/web".
	Resource string `json:"resource" config:"required"`
	// Namespace of the resource; empty means the deploy namespace.
	Namespace string `json:"namespace,omitempty"`
	// Port is the remote port.
	Port int `json:"port" config:"required"`
	// LocalPort defaults to Port.
	LocalPort int `json:"localPort,omitempty"`
	// Address is the local address to listen on, default
	// [DefaultForwardAddress].
	Address string `json:"address,omitempty"`
}

// Profile is a named patch of the file, activated with --profile NAME. Its
// fields hold only what the profile sets, as written; see the package
// documentation for how they combine with the rest of the file.
type Profile struct {
	// Name is what --profile selects.
	Name string `json:"name" config:"required"`
	// Artifacts patch artifacts with the same image and add new ones.
	Artifacts []Artifact `json:"artifacts,omitempty"`
	// Deploy is merged key by key into the file's deploy.
	Deploy *Deploy `json:"deploy,omitempty"`
	// Target is merged key by key into the file's target.
	Target *Target `json:"target,omitempty"`
	// PortForward, if set, replaces the file's list.
	PortForward []PortForward `json:"portForward,omitempty"`
}
