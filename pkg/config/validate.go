package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/patternmatcher"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/jsonpath"
)

// validator checks a decoded, defaulted config against the filesystem and
// the rules the types cannot express. Messages quote values as the user
// wrote them (paths still relative) so they can be found in the file.
type validator struct {
	file string
	pos  map[string]position
	dir  string
	errs []*Error
}

// errorf records a problem at path, positioned at the closest enclosing
// field that was written in the file (a defaulted field has no line of its
// own, so its artifact's line is used).
func (v *validator) errorf(path, format string, args ...any) {
	e := &Error{File: v.file, Field: path, Msg: fmt.Sprintf(format, args...)}
	for p := path; ; {
		if at, ok := v.pos[p]; ok {
			e.Line, e.Column = at.line, at.column
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	v.errs = append(v.errs, e)
}

func (v *validator) validate(c *Config) {
	if _, set := v.pos["name"]; set && len(validation.IsDNS1123Label(c.Name)) > 0 {
		v.errorf("name", "invalid name %q (want lowercase letters, digits and '-', at most 63 characters)", c.Name)
	}
	images := map[string]string{}
	for i, a := range c.Artifacts {
		path := fmt.Sprintf("artifacts[%d]", i)
		if first, dup := images[a.Image]; dup && a.Image != "" {
			v.errorf(path+".image", "duplicate image %q (first in %s)", a.Image, first)
		} else {
			images[a.Image] = path
		}
		v.artifact(path, a)
	}
	v.deploy(c.Deploy)
	v.target(c.Target)
	v.build(c.Build)
	v.portForwards(c.PortForward)
	for i, ctx := range c.AllowContexts {
		if ctx == "" {
			v.errorf(fmt.Sprintf("allowContexts[%d]", i), "must not be empty")
		}
	}
}

var platformPattern = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)

func (v *validator) artifact(path string, a Artifact) {
	switch {
	case a.Image == "":
		v.errorf(path+".image", "must not be empty")
	case strings.Contains(a.Image, "@") || strings.Contains(a.Image[strings.LastIndex(a.Image, "/")+1:], ":"):
		v.errorf(path+".image", "image %q must not have a tag or digest (devloop tags images by content)", a.Image)
	default:
		if _, err := name.NewRepository(a.Image); err != nil {
			v.errorf(path+".image", "invalid image name %q", a.Image)
		}
	}
	ctx := absPath(v.dir, a.Context)
	if v.isDir(path+".context", "directory", a.Context, ctx) {
		df := absPath(ctx, a.Dockerfile)
		if st, err := os.Stat(df); err != nil || st.IsDir() {
			v.errorf(path+".dockerfile", "file %q does not exist in context %q", a.Dockerfile, a.Context)
		}
	}
	if a.Platform != "" && !platformPattern.MatchString(a.Platform) {
		v.errorf(path+".platform", "invalid platform %q (want os/arch[/variant] such as linux/amd64)", a.Platform)
	}
	for k := range a.BuildArgs {
		if k == "" || strings.ContainsAny(k, "= \t") {
			v.errorf(mapKeyPath(path+".buildArgs", k), "invalid build arg name %q", k)
		}
	}
	for i, p := range a.Ignore {
		pm, err := patternmatcher.New([]string{p})
		if err == nil {
			// Patterns compile lazily; match once to surface errors now.
			_, err = pm.MatchesOrParentMatches("x")
		}
		if err != nil {
			v.errorf(fmt.Sprintf("%s.ignore[%d]", path, i), "invalid pattern %q: %v", p, err)
		}
	}
}

// isDir reports whether p (written as rel) is an existing directory,
// recording an error otherwise.
func (v *validator) isDir(path, what, rel, p string) bool {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.errorf(path, "%s %q does not exist", what, rel)
	case err != nil:
		v.errorf(path, "%s %q: %v", what, rel, errors.Unwrap(err))
	case !st.IsDir():
		v.errorf(path, "%q is not a directory", rel)
	default:
		return true
	}
	return false
}

func (v *validator) deploy(d Deploy) {
	for i, m := range d.Manifests {
		path := fmt.Sprintf("deploy.manifests[%d]", i)
		p := absPath(v.dir, m)
		switch {
		case m == "":
			v.errorf(path, "must not be empty")
		case strings.ContainsAny(m, "*?["):
			matches, err := filepath.Glob(p)
			if err != nil {
				v.errorf(path, "invalid pattern %q: %v", m, err)
			} else if len(matches) == 0 {
				v.errorf(path, "pattern %q matches no files", m)
			}
		default:
			if _, err := os.Stat(p); err != nil {
				v.errorf(path, "file or directory %q does not exist", m)
			}
		}
	}
	if d.Kustomize != "" {
		dir := absPath(v.dir, d.Kustomize)
		if v.isDir("deploy.kustomize", "directory", d.Kustomize, dir) && !hasKustomization(dir) {
			v.errorf("deploy.kustomize", "directory %q has no kustomization.yaml", d.Kustomize)
		}
	}
	if d.Namespace != "" && len(validation.IsDNS1123Label(d.Namespace)) > 0 {
		v.errorf("deploy.namespace", "invalid namespace %q (want lowercase letters, digits and '-', at most 63 characters)", d.Namespace)
	}
	for i, ip := range d.ImagePaths {
		path := fmt.Sprintf("deploy.imagePaths[%d]", i)
		if ip.Kind == "" {
			v.errorf(path+".kind", "must not be empty")
		}
		if ip.Path == "" {
			v.errorf(path+".path", "must not be empty")
			continue
		}
		if err := jsonpath.New(path).Parse(bracedJSONPath(ip.Path)); err != nil {
			v.errorf(path+".path", "invalid JSONPath %q: %v", ip.Path, err)
		}
	}
}

func hasKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

func (v *validator) target(t Target) {
	if !slices.Contains(TargetTypes(), t.Type) {
		names := make([]string, 0, len(TargetTypes()))
		for _, tt := range TargetTypes() {
			names = append(names, string(tt))
		}
		v.errorf("target.type", "unknown target type %q (want %s)", t.Type, strings.Join(names, ", "))
	}
	if h := t.Registry.Host; h != "" && !registryHostPattern.MatchString(h) {
		v.errorf("target.registry.host", "invalid registry host %q (want host[:port][/path] without a scheme)", h)
	}
	if h := t.Docker.Host; h != "" && !hasScheme(h, "unix", "tcp", "ssh", "npipe", "fd") {
		v.errorf("target.docker.host", "invalid docker host %q (want unix://, tcp://, ssh:// or npipe://)", h)
	}
	if a := t.Containerd.Address; a != "" && !containerdAddressPattern.MatchString(a) {
		v.errorf("target.containerd.address", "invalid containerd address %q (want a socket path or unix://PATH)", a)
	}
}

// These mirror the schema's patterns for the same fields.
var (
	registryHostPattern      = regexp.MustCompile(`^[^\s:/]+(:[0-9]+)?(/\S*)?$`)
	containerdAddressPattern = regexp.MustCompile(`^(unix://.+|[^:]+)$`)
)

func (v *validator) build(b Build) {
	if k := b.Buildkit; k != "auto" && k != "docker" &&
		!hasScheme(k, "unix", "tcp", "docker-container", "podman-container", "nerdctl-container", "kube-pod", "ssh", "npipe") {
		v.errorf("build.buildkit", "invalid buildkit %q (want auto, docker or an address such as unix:///run/buildkit/buildkitd.sock)", k)
	}
	if b.Concurrency < 0 {
		v.errorf("build.concurrency", "must not be negative")
	}
}

func hasScheme(addr string, schemes ...string) bool {
	s, rest, ok := strings.Cut(addr, "://")
	return ok && rest != "" && slices.Contains(schemes, s)
}

// isResourceType reports whether typ is a kind kubectl port-forward
// resolves to a pod.
func isResourceType(typ string) bool {
	switch typ {
	case "service", "svc", "deployment", "deploy", "statefulset", "sts", "daemonset", "ds", "replicaset", "rs", "pod", "po":
		return true
	}
	return false
}

func (v *validator) portForwards(pfs []PortForward) {
	listen := map[string]string{}
	for i, pf := range pfs {
		path := fmt.Sprintf("portForward[%d]", i)
		typ, nm, ok := strings.Cut(pf.Resource, "/")
		switch {
		case !ok || nm == "":
			v.errorf(path+".resource", "invalid resource %q (want TYPE/NAME such as service/web)", pf.Resource)
		case !isResourceType(typ):
			v.errorf(path+".resource", "unsupported resource type %q (want service, deployment, statefulset, daemonset, replicaset or pod)", typ)
		case len(validation.IsDNS1123Subdomain(nm)) > 0:
			v.errorf(path+".resource", "invalid resource name %q", nm)
		}
		if pf.Namespace != "" && len(validation.IsDNS1123Label(pf.Namespace)) > 0 {
			v.errorf(path+".namespace", "invalid namespace %q", pf.Namespace)
		}
		v.port(path+".port", pf.Port)
		if _, set := v.pos[path+".localPort"]; set {
			v.port(path+".localPort", pf.LocalPort)
		}
		if pf.Address != "localhost" && net.ParseIP(pf.Address) == nil {
			v.errorf(path+".address", "invalid address %q (want an IP address or localhost)", pf.Address)
		}
		key := net.JoinHostPort(pf.Address, fmt.Sprint(pf.LocalPort))
		if first, dup := listen[key]; dup {
			v.errorf(path+".localPort", "local address %s already used by %s", key, first)
		} else {
			listen[key] = path
		}
	}
}

func (v *validator) port(path string, p int) {
	if p < 1 || p > 65535 {
		v.errorf(path, "port %d is out of range 1-65535", p)
	}
}
