package build

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
)

// display is one BuildKit progressui display shared by the concurrent solves of
// a Build call, so their terminal output does not fight. With several artifacts
// it prefixes each vertex with "[artifact] " and rewrites vertex digests per
// artifact, since two builds can share a vertex (the same base image).
type display struct {
	ch     chan *client.SolveStatus // nil: no display
	done   chan struct{}
	prefix bool
}

// progressMode maps a ProgressMode to progressui's.
func progressMode(m ProgressMode) (progressui.DisplayMode, bool, error) {
	switch m {
	case ProgressAuto:
		return progressui.AutoMode, true, nil
	case ProgressTTY:
		return progressui.TtyMode, true, nil
	case ProgressPlain:
		return progressui.PlainMode, true, nil
	case ProgressQuiet, ProgressEvents:
		return "", false, nil
	}
	return "", false, fmt.Errorf("unknown progress mode %q (want auto, tty, plain, quiet or events)", m)
}

// startDisplay starts a display on out. It keeps running after ctx is canceled
// so the last lines (CANCELED, ERROR) are shown; close ends it.
func startDisplay(ctx context.Context, mode ProgressMode, out io.Writer, multi bool) (*display, error) {
	pm, show, err := progressMode(mode)
	if err != nil {
		return nil, err
	}
	d := &display{done: make(chan struct{}), prefix: multi}
	if !show || out == nil {
		close(d.done)
		return d, nil
	}
	pd, err := progressui.NewDisplay(out, pm)
	if err != nil {
		return nil, fmt.Errorf("starting progress display: %w", err)
	}
	d.ch = make(chan *client.SolveStatus, 16)
	go func() {
		defer close(d.done)
		// A display error only loses progress output; the build goes on.
		_, _ = pd.UpdateFrom(context.WithoutCancel(ctx), d.ch)
		for range d.ch { // keep senders from blocking after a display error
		}
	}()
	return d, nil
}

// send shows ss as coming from artifact.
func (d *display) send(artifact string, ss *client.SolveStatus) {
	if d.ch == nil {
		return
	}
	if d.prefix {
		ss = relabel(artifact, ss)
	}
	d.ch <- ss
}

// close ends the display once every send returned, and waits for it to flush.
func (d *display) close() {
	if d.ch != nil {
		close(d.ch)
	}
	<-d.done
}

// relabel returns a copy of ss whose vertexes belong to artifact.
func relabel(artifact string, ss *client.SolveStatus) *client.SolveStatus {
	dg := func(d digest.Digest) digest.Digest {
		if d == "" {
			return d
		}
		return digest.FromString(artifact + "\x00" + d.String())
	}
	out := &client.SolveStatus{}
	for _, v := range ss.Vertexes {
		c := *v
		c.Digest = dg(v.Digest)
		c.Name = "[" + artifact + "] " + v.Name
		c.Inputs = make([]digest.Digest, len(v.Inputs))
		for i, in := range v.Inputs {
			c.Inputs[i] = dg(in)
		}
		out.Vertexes = append(out.Vertexes, &c)
	}
	for _, s := range ss.Statuses {
		c := *s
		c.Vertex = dg(s.Vertex)
		out.Statuses = append(out.Statuses, &c)
	}
	for _, l := range ss.Logs {
		c := *l
		c.Vertex = dg(l.Vertex)
		out.Logs = append(out.Logs, &c)
	}
	for _, w := range ss.Warnings {
		c := *w
		c.Vertex = dg(w.Vertex)
		out.Warnings = append(out.Warnings, &c)
	}
	return out
}
