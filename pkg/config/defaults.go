package config

import (
	"path/filepath"
	"strings"
)

// setDefaults fills every field the file left empty. It is the only place
// defaults live; the schema's "default" keywords repeat them for editors.
func setDefaults(c *Config, baseDir string) {
	if c.Name == "" {
		c.Name = nameFromDir(baseDir)
	}
	for i := range c.Artifacts {
		a := &c.Artifacts[i]
		if a.Context == "" {
			a.Context = DefaultContext
		}
		if a.Dockerfile == "" {
			a.Dockerfile = DefaultDockerfile
		}
	}
	if c.Deploy.RolloutTimeout == 0 {
		c.Deploy.RolloutTimeout = DefaultRolloutTimeout
	}
	if c.Target.Type == "" {
		c.Target.Type = TargetAuto
	}
	if c.Target.Containerd.Namespace == "" {
		c.Target.Containerd.Namespace = DefaultContainerdNamespace
	}
	if c.Build.Buildkit == "" {
		c.Build.Buildkit = DefaultBuildkit
	}
	if c.Build.Concurrency == 0 {
		c.Build.Concurrency = DefaultBuildConcurrency
	}
	for i := range c.PortForward {
		pf := &c.PortForward[i]
		if pf.LocalPort == 0 {
			pf.LocalPort = pf.Port
		}
		if pf.Address == "" {
			pf.Address = DefaultForwardAddress
		}
	}
}

// nameFromDir turns a directory name into a valid project name (a DNS-1123
// label): lowercase, runs of other characters become '-', at most 63 long.
func nameFromDir(dir string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(filepath.Base(dir)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	name := b.String()
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.Trim(name, "-")
	if name == "" {
		return "devloop"
	}
	return name
}

// resolvePaths makes every path absolute against baseDir once the config is
// valid, and normalizes image JSONPaths to their braced form.
func resolvePaths(c *Config, baseDir string) {
	for i := range c.Artifacts {
		a := &c.Artifacts[i]
		a.Context = absPath(baseDir, a.Context)
		a.Dockerfile = absPath(a.Context, a.Dockerfile)
	}
	for i, m := range c.Deploy.Manifests {
		c.Deploy.Manifests[i] = absPath(baseDir, m)
	}
	if c.Deploy.Kustomize != "" {
		c.Deploy.Kustomize = absPath(baseDir, c.Deploy.Kustomize)
	}
	for i := range c.Deploy.ImagePaths {
		c.Deploy.ImagePaths[i].Path = bracedJSONPath(c.Deploy.ImagePaths[i].Path)
	}
}

func absPath(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, filepath.FromSlash(p))
}

// bracedJSONPath accepts ".spec.image" as shorthand for "{.spec.image}".
func bracedJSONPath(p string) string {
	if strings.HasPrefix(p, "{") {
		return p
	}
	return "{" + p + "}"
}
