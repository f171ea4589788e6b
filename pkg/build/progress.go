package build

import (
	"bytes"
	"strings"

	"github.com/devloop/devloop/pkg/event"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// logTailLines is how many output lines per step a tracker keeps, for errors.
const logTailLines = 12

// tracker follows one solve's status stream: it counts steps and cache hits,
// keeps each step's last output lines and turns finished vertexes into events.
type tracker struct {
	artifact string
	done     map[digest.Digest]bool
	names    map[digest.Digest]string
	tails    map[digest.Digest]*tail
	// steps and cached count Dockerfile steps other than FROM ("[2/3] RUN …")
	// and cache hits among them.
	steps, cached int
	// failed is the last vertex reported with an error.
	failed digest.Digest
}

func newTracker(artifact string) *tracker {
	return &tracker{artifact: artifact, done: map[digest.Digest]bool{}, names: map[digest.Digest]string{}, tails: map[digest.Digest]*tail{}}
}

// update records ss and returns one progress event per vertex it completes.
func (t *tracker) update(ss *client.SolveStatus) []event.Event {
	for _, l := range ss.Logs {
		tl := t.tails[l.Vertex]
		if tl == nil {
			tl = &tail{}
			t.tails[l.Vertex] = tl
		}
		tl.write(l.Data)
	}
	var evs []event.Event
	for _, v := range ss.Vertexes {
		t.names[v.Digest] = v.Name
		if v.Completed == nil || t.done[v.Digest] {
			continue
		}
		t.done[v.Digest] = true
		// FROM only fetches or finds the base image; Docker's BuildKit reports
		// it done rather than cached even when nothing moved.
		if isStep(v.Name) && !strings.HasPrefix(strings.ToUpper(stepText(v.Name)), "FROM ") {
			t.steps++
			if v.Cached {
				t.cached++
			}
		}
		e := event.Event{
			Time:     *v.Completed,
			Phase:    event.PhaseBuild,
			Status:   event.StatusProgress,
			Artifact: t.artifact,
			Message:  v.Name,
		}
		switch {
		case v.Error != "":
			t.failed = v.Digest
			e.Message = "ERROR " + v.Name + ": " + v.Error
		case v.Cached:
			e.Message = "CACHED " + v.Name
		}
		if v.Started != nil && !v.Cached {
			e.Duration = v.Completed.Sub(*v.Started)
		}
		evs = append(evs, e)
	}
	return evs
}

// logs returns the last output lines of a vertex.
func (t *tracker) logs(vertex string) []string {
	tl := t.tails[digest.Digest(vertex)]
	if tl == nil {
		return nil
	}
	return tl.lines()
}

// isStep reports whether a vertex name is a Dockerfile step, "[2/3] RUN …" or
// "[stage-1 2/3] COPY …", rather than BuildKit's own work ("[internal] …",
// "exporting to image").
func isStep(name string) bool {
	rest, ok := strings.CutPrefix(name, "[")
	if !ok {
		return false
	}
	inner, _, ok := strings.Cut(rest, "]")
	if !ok {
		return false
	}
	if i := strings.LastIndexByte(inner, ' '); i >= 0 {
		inner = inner[i+1:]
	}
	n, m, ok := strings.Cut(inner, "/")
	return ok && isDigits(n) && isDigits(m)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// tail keeps the last logTailLines complete lines written to it, plus the
// partial line after them.
type tail struct {
	full    []string
	partial []byte
}

func (t *tail) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			return
		}
		t.push(string(append(t.partial, p[:i]...)))
		t.partial = t.partial[:0]
		p = p[i+1:]
	}
}

func (t *tail) push(line string) {
	// A carriage return redraws the line (progress bars): keep what is left.
	if i := strings.LastIndexByte(strings.TrimRight(line, "\r"), '\r'); i >= 0 {
		line = line[i+1:]
	}
	line = strings.TrimRight(line, "\r")
	t.full = append(t.full, line)
	if len(t.full) > logTailLines {
		t.full = t.full[len(t.full)-logTailLines:]
	}
}

func (t *tail) lines() []string {
	out := append([]string(nil), t.full...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > logTailLines {
		out = out[len(out)-logTailLines:]
	}
	return out
}
