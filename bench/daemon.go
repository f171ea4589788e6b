package bench

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/devloop/devloop/pkg/sideload"
)

// daemon is the Docker daemon at DOCKER_HOST, driven with the docker CLI as a
// developer would.
type daemon struct {
	// prefix is the repository prefix of every image the benchmark creates.
	prefix string
}

func (d daemon) docker(ctx context.Context, args ...string) ([]byte, error) {
	return runCmd(ctx, nil, append([]string{"docker"}, args...)...)
}

// load runs docker load -i path.
func (d daemon) load(ctx context.Context, path string) error {
	_, err := d.docker(ctx, "load", "-q", "-i", path)
	return err
}

// tag runs docker tag src dst.
func (d daemon) tag(ctx context.Context, src, dst string) error {
	_, err := d.docker(ctx, "tag", src, dst)
	return err
}

// imageID returns the daemon's image ID for ref, or "" when it has no such image.
func (d daemon) imageID(ctx context.Context, ref string) (string, error) {
	out, err := d.docker(ctx, "image", "ls", "-q", "--no-trunc", ref)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// ourRefs lists the repo:tag names of the benchmark's images.
func (d daemon) ourRefs(ctx context.Context) ([]string, error) {
	out, err := d.docker(ctx, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil {
		return nil, err
	}
	var refs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if r := strings.TrimSpace(sc.Text()); strings.HasPrefix(r, d.prefix) {
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// untag removes refs; the daemon deletes an image with its last name.
func (d daemon) untag(ctx context.Context, refs ...string) error {
	if len(refs) == 0 {
		return nil
	}
	_, err := d.docker(ctx, append([]string{"rmi"}, refs...)...)
	return err
}

// removeImage deletes the image ref names with every tag it has (docker rmi -f
// ID), so its layers that no other image uses go too. Nothing to do when the
// daemon lacks it.
func (d daemon) removeImage(ctx context.Context, ref string) error {
	id, err := d.imageID(ctx, ref)
	if err != nil || id == "" {
		return err
	}
	_, err = d.docker(ctx, "rmi", "-f", id)
	return err
}

// removeAll removes every image of the benchmark.
func (d daemon) removeAll(ctx context.Context) error {
	refs, err := d.ourRefs(ctx)
	if err != nil {
		return err
	}
	return d.untag(ctx, refs...)
}

// saveSize returns how many bytes docker save writes for ref: what kind load and a
// docker save | ctr import pipeline move.
func (d daemon) saveSize(ctx context.Context, ref string) (int64, error) {
	cw := &countWriter{w: io.Discard}
	if err := (sideload.ExecRunner{}).Run(ctx, nil, cw, nil, "docker", "save", ref); err != nil {
		return 0, err
	}
	return cw.n, nil
}

// countWriter counts what passes through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pipe runs from | to, with from's stdout counted on its way to to's stdin, and
// returns the bytes that flowed. A failure of either side is returned, from's
// first.
func pipe(ctx context.Context, from, to []string) (int64, error) {
	pr, pw := io.Pipe()
	cw := &countWriter{w: pw}
	done := make(chan error, 1)
	go func() {
		err := sideload.ExecRunner{}.Run(ctx, nil, cw, nil, from...)
		pw.CloseWithError(err)
		done <- err
	}()
	toErr := sideload.ExecRunner{}.Run(ctx, pr, nil, nil, to...)
	pr.CloseWithError(io.ErrClosedPipe)
	if fromErr := <-done; fromErr != nil {
		return cw.n, fromErr
	}
	return cw.n, toErr
}
