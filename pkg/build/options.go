package build

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/devloop/devloop/pkg/event"
)

// Output says where a Builder puts the images it builds.
type Output string

// The outputs. Each fits some sideload targets; the CLI picks one from the target.
const (
	// OutputAuto is OutputDaemon when the Builder talks to a Docker daemon and
	// OutputLayout otherwise.
	OutputAuto Output = ""
	// OutputLayout keeps an OCI image layout directory per artifact,
	// <CacheDir>/<name>/layout, and adds each build's new blobs to it (BuildKit's
	// oci exporter with tar=false). Its index.json names every image by its full
	// reference (io.containerd.image.name) and its tag (org.opencontainers.image.ref.name).
	// For kind, containerd and registry targets.
	OutputLayout Output = "oci-layout"
	// OutputDaemon stores the image in the Docker daemon that built it (BuildKit's
	// moby exporter): nothing moves, sideload.Image.InDaemon is set.
	// Needs the "docker" builder.
	OutputDaemon Output = "docker"
	// OutputRegistry pushes the image to a registry (BuildKit's image exporter,
	// push=true): only blobs the registry lacks are sent.
	OutputRegistry Output = "registry"
)

// ProgressMode says how a Builder shows BuildKit's progress.
type ProgressMode string

// The progress modes.
const (
	// ProgressAuto is ProgressTTY when ProgressOut is a terminal and
	// ProgressPlain otherwise; with no ProgressOut it is ProgressQuiet.
	ProgressAuto ProgressMode = ""
	// ProgressTTY redraws BuildKit's interactive display in place.
	ProgressTTY ProgressMode = "tty"
	// ProgressPlain prints BuildKit's plain, line-based display.
	ProgressPlain ProgressMode = "plain"
	// ProgressQuiet shows nothing.
	ProgressQuiet ProgressMode = "quiet"
	// ProgressEvents shows nothing and instead sends one build-phase progress
	// event per finished step to Options.Events (for --output json).
	ProgressEvents ProgressMode = "events"
)

// TLSFiles are the files for a TLS connection to a tcp:// buildkitd.
type TLSFiles struct {
	// CACert verifies buildkitd's certificate; ServerName overrides the name
	// checked (default: the address's host).
	CACert, ServerName string
	// Cert and Key authenticate the client.
	Cert, Key string
}

// Options configure a Builder. The zero value builds with "auto" into an OCI
// layout and needs only CacheDir.
type Options struct {
	// Builder is BuilderAuto (or empty), BuilderDocker or a buildkitd address
	// such as unix:///run/buildkit/buildkitd.sock, tcp://host:1234 or
	// docker-container://buildkitd.
	Builder string
	// BuildkitTLS is used for a tcp:// buildkitd when any file is set.
	BuildkitTLS TLSFiles
	// DockerHost overrides DOCKER_HOST for the "docker" builder (unix:// or
	// tcp://; TLS as the docker CLI reads it from DOCKER_TLS,
	// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH).
	DockerHost string

	// Output is where images go.
	Output Output
	// CacheDir holds the per-artifact OCI layouts (OutputLayout).
	CacheDir string
	// Registry is prefixed to artifact names for OutputRegistry, such as
	// "127.0.0.1:5001" or "registry.local/team"; empty pushes to the names as
	// they are. A registry on localhost or marked insecure is used over HTTP.
	Registry         string
	InsecureRegistry bool

	// Concurrency bounds simultaneous builds; 0 means DefaultConcurrency.
	Concurrency int

	// Progress and ProgressOut choose BuildKit's display; ProgressOut is
	// normally stderr. Libraries are silent by default: nil shows nothing.
	Progress    ProgressMode
	ProgressOut io.Writer
	// Events receives a start and a success or failure event per artifact (phase
	// build) and, with ProgressEvents, one progress event per finished step.
	// Iteration is left zero for the caller's sink to fill in. Nil drops them.
	Events event.Sink

	// LookupEnv reads BUILDKIT_HOST, DOCKER_HOST, DOCKER_TLS,
	// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and the variables secrets come from;
	// nil means os.LookupEnv.
	LookupEnv func(key string) (string, bool)
}

// DefaultConcurrency is how many artifacts build at once by default.
const DefaultConcurrency = 4

// withDefaults returns o with its defaults filled in.
func (o Options) withDefaults() Options {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Events == nil {
		o.Events = event.Discard{}
	}
	if o.ProgressOut == nil && o.Progress != ProgressEvents {
		o.Progress = ProgressQuiet
	}
	return o
}

// outputFor resolves OutputAuto against the endpoint and checks the output's
// own requirements.
func (o Options) outputFor(ep endpoint) (Output, error) {
	out := o.Output
	if out == OutputAuto {
		out = OutputLayout
		if ep.docker {
			out = OutputDaemon
		}
	}
	switch out {
	case OutputLayout:
		if o.CacheDir == "" {
			return "", errors.New("output oci-layout needs a cache directory")
		}
	case OutputDaemon:
		if !ep.docker {
			return "", fmt.Errorf("output docker needs the Docker daemon's BuildKit (builder %q), not %s", BuilderDocker, ep)
		}
	case OutputRegistry:
	default:
		return "", fmt.Errorf("unknown output %q (want %q, %q or %q)", out, OutputLayout, OutputDaemon, OutputRegistry)
	}
	return out, nil
}
