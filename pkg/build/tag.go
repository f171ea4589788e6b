package build

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// tagLen is how many hex digits of the digest make the tag: 64 bits, enough that
// two builds of one artifact never collide, short enough to read in kubectl.
const tagLen = 16

// TagFor returns the content-addressed tag of an image: the first 16 hex digits
// of its digest. The same image always gets the same tag, so an unchanged rebuild
// is a no-op for every later stage; the tag is never "latest".
func TagFor(digest v1.Hash) (string, error) {
	if digest.Algorithm != "sha256" || len(digest.Hex) != 64 {
		return "", fmt.Errorf("tagging image: unexpected digest %q", digest.String())
	}
	return digest.Hex[:tagLen], nil
}

// refFor returns repo:TagFor(digest) as a reference; insecure marks its registry
// as plain HTTP.
func refFor(repo string, digest v1.Hash, insecure bool) (name.Tag, error) {
	tag, err := TagFor(digest)
	if err != nil {
		return name.Tag{}, err
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(repo+":"+tag, opts...)
	if err != nil {
		return name.Tag{}, fmt.Errorf("tagging image %s: %w", repo, err)
	}
	return ref, nil
}

// isLocalRegistry reports whether repo names a registry on this machine.
func isLocalRegistry(repo string) bool {
	host, _, ok := strings.Cut(repo, "/")
	if !ok || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return false // Docker Hub
	}
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	switch {
	case host == "localhost", strings.HasSuffix(host, ".localhost"),
		strings.HasPrefix(host, "127."), host == "[::1]" || strings.HasPrefix(host, "[::1]:"):
		return true
	}
	return false
}
