package build

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/devloop/devloop/pkg/sideload"
	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// depImage is another artifact's image handed to a build as a named context.
type depImage struct {
	// artifact is the familiar name of the artifact built FROM.
	artifact string
	// contextName is the FROM image as the frontend looks it up.
	contextName string
	img         sideload.Image
}

// namedContext returns the frontend's "context:<name>" value for d: the image in
// the OCI layout (sent through the session, store id = the artifact) or in the
// registry by digest. Images in a Docker daemon go by rewriteFrom instead.
func namedContext(d depImage) string {
	switch {
	case d.img.LayoutDir != "":
		return "oci-layout://" + d.artifact + "@" + d.img.Digest.String()
	default:
		return "docker-image://" + d.img.Ref.Context().Name() + "@" + d.img.Digest.String()
	}
}

// frontendAttrs returns the Dockerfile frontend's options for s. dockerfileName is
// the Dockerfile's base name inside the "dockerfile" local mount. inDaemon asks
// for FROM images to be taken from the daemon's image store first, like docker
// build without --pull (and how seeded or offline images are found there).
func frontendAttrs(s Spec, dockerfileName string, deps []depImage, inDaemon bool) map[string]string {
	attrs := map[string]string{"filename": dockerfileName}
	if s.Target != "" {
		attrs["target"] = s.Target
	}
	if s.Platform != "" {
		attrs["platform"] = s.Platform
	}
	for k, v := range s.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	if inDaemon {
		attrs["image-resolve-mode"] = "local"
	}
	for _, d := range deps {
		if !d.img.InDaemon {
			attrs["context:"+d.contextName] = namedContext(d)
		}
	}
	return attrs
}

// exports returns the exporter for out. The image is exported without a name:
// its tag comes from its digest, known only afterwards (see Builder.Build).
func exports(out Output, repo string, insecure bool, store content.Store) []client.ExportEntry {
	switch out {
	case OutputLayout:
		return []client.ExportEntry{{
			Type:        client.ExporterOCI,
			Attrs:       map[string]string{"tar": "false"},
			OutputStore: store,
		}}
	case OutputDaemon:
		return []client.ExportEntry{{Type: "moby", Attrs: map[string]string{}}}
	case OutputRegistry:
		attrs := map[string]string{"name": repo, "push": "true", "push-by-digest": "true"}
		if insecure {
			attrs["registry.insecure"] = "true"
		}
		return []client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}}
	}
	return nil
}

// exportedImage reads what the exporter reported: the image digest (the manifest
// digest; for Docker's classic image store, which has no manifests, the config
// digest, which is the image ID) and, for the oci exporter, the descriptor.
func exportedImage(resp map[string]string) (v1.Hash, *ocispecs.Descriptor, error) {
	s := resp[exptypes.ExporterImageDigestKey]
	if s == "" {
		s = resp[exptypes.ExporterImageConfigDigestKey]
	}
	if s == "" {
		return v1.Hash{}, nil, fmt.Errorf("exporter reported no image digest (response keys %v)", sortedKeys(resp))
	}
	h, err := v1.NewHash(s)
	if err != nil {
		return v1.Hash{}, nil, fmt.Errorf("exporter reported digest %q: %w", s, err)
	}
	raw := resp[exptypes.ExporterImageDescriptorKey]
	if raw == "" {
		return h, nil, nil
	}
	dt, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return v1.Hash{}, nil, fmt.Errorf("exporter descriptor: %w", err)
	}
	var desc ocispecs.Descriptor
	if err := json.Unmarshal(dt, &desc); err != nil {
		return v1.Hash{}, nil, fmt.Errorf("exporter descriptor: %w", err)
	}
	if desc.Digest.String() != h.String() {
		return v1.Hash{}, nil, fmt.Errorf("exporter descriptor %s does not match digest %s", desc.Digest, h)
	}
	return h, &desc, nil
}

// containerdName is the full name containerd and the kubelet use for a
// reference: "docker.io/library/app:tag" for "app:tag".
func containerdName(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	return named.String(), nil
}

// secretValues reads each secret's environment variable; a missing one fails the
// build before it starts rather than deep inside a RUN.
func secretValues(secrets map[string]string, lookupEnv func(string) (string, bool)) (map[string][]byte, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(secrets))
	var errs []error
	for _, id := range sortedKeys(secrets) {
		env := secrets[id]
		v, ok := lookupEnv(env)
		if !ok {
			errs = append(errs, fmt.Errorf("secret %s: environment variable %s is not set", id, env))
			continue
		}
		out[id] = []byte(v)
	}
	return out, errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
