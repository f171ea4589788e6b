package build

import (
	"testing"
	"time"

	"github.com/devloop/devloop/pkg/event"
	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

func TestTrackerEvents(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { tm := t0.Add(d); return &tm }
	load := digest.FromString("load")
	from := digest.FromString("from")
	copyV := digest.FromString("copy")
	run := digest.FromString("run")

	tr := newTracker("app")
	var got []event.Event
	for _, ss := range []*client.SolveStatus{{
		Vertexes: []*client.Vertex{
			{Digest: load, Name: "[internal] load build definition from Dockerfile", Started: at(0), Completed: at(10 * time.Millisecond)},
			{Digest: from, Name: "[1/3] FROM docker.io/library/busybox", Started: at(0), Completed: at(0), Cached: true},
			{Digest: copyV, Name: "[2/3] COPY . /app", Started: at(0)},
		},
	}, {
		Vertexes: []*client.Vertex{
			// BuildKit reports a finished vertex again; it must count once.
			{Digest: from, Name: "[1/3] FROM docker.io/library/busybox", Started: at(0), Completed: at(0), Cached: true},
			{Digest: copyV, Name: "[2/3] COPY . /app", Started: at(0), Completed: at(time.Second)},
			{Digest: run, Name: "[3/3] RUN false", Started: at(time.Second)},
		},
		Logs: []*client.VertexLog{{Vertex: run, Data: []byte("about to fail\nfail")}, {Vertex: run, Data: []byte("ing now\n")}},
	}, {
		Vertexes: []*client.Vertex{
			{Digest: run, Name: "[3/3] RUN false", Started: at(time.Second), Completed: at(1500 * time.Millisecond), Error: "exit code: 1"},
		},
	}} {
		got = append(got, tr.update(ss)...)
	}
	ev := func(tm *time.Time, msg string, d time.Duration) event.Event {
		return event.Event{Time: *tm, Phase: event.PhaseBuild, Status: event.StatusProgress, Artifact: "app", Message: msg, Duration: d}
	}
	want := []event.Event{
		ev(at(10*time.Millisecond), "[internal] load build definition from Dockerfile", 10*time.Millisecond),
		ev(at(0), "CACHED [1/3] FROM docker.io/library/busybox", 0),
		ev(at(time.Second), "[2/3] COPY . /app", time.Second),
		ev(at(1500*time.Millisecond), "ERROR [3/3] RUN false: exit code: 1", 500*time.Millisecond),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tracker events mismatch (-want +got):\n%s", diff)
	}
	if tr.steps != 2 || tr.cached != 0 {
		t.Errorf("tracker steps, cached = %d, %d, want 2, 0 (FROM is not counted)", tr.steps, tr.cached)
	}
	if tr.failed != run {
		t.Errorf("tracker failed = %s, want %s", tr.failed, run)
	}
	if diff := cmp.Diff([]string{"about to fail", "failing now"}, tr.logs(run.String())); diff != "" {
		t.Errorf("tracker logs mismatch (-want +got):\n%s", diff)
	}
}

func TestIsStep(t *testing.T) {
	for name, want := range map[string]bool{
		"[1/3] FROM docker.io/library/python:3.11-slim":    true,
		"[stage-1 12/14] RUN pip install -r req.txt":       true,
		"[build 2/2] COPY --from=deps / /":                 true,
		"[internal] load build definition from Dockerfile": false,
		"[context base] load metadata":                     false,
		"exporting to image":                               false,
		"[a/b] x":                                          false,
		"[1/] x":                                           false,
		"":                                                 false,
	} {
		if got := isStep(name); got != want {
			t.Errorf("isStep(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestTail(t *testing.T) {
	var tl tail
	for i := 0; i < logTailLines+3; i++ {
		tl.write([]byte("line\n"))
	}
	tl.write([]byte("progress 10%\rprogress 50%\rprogress 100%\r\nlast"))
	got := tl.lines()
	if len(got) != logTailLines {
		t.Fatalf("len(tail.lines()) = %d, want %d", len(got), logTailLines)
	}
	if diff := cmp.Diff([]string{"progress 100%", "last"}, got[len(got)-2:]); diff != "" {
		t.Errorf("tail.lines() end mismatch (-want +got):\n%s", diff)
	}
}

func TestRelabel(t *testing.T) {
	a, b := digest.FromString("a"), digest.FromString("b")
	ss := &client.SolveStatus{
		Vertexes: []*client.Vertex{{Digest: b, Inputs: []digest.Digest{a}, Name: "[1/1] RUN x"}},
		Logs:     []*client.VertexLog{{Vertex: b, Data: []byte("x")}},
		Statuses: []*client.VertexStatus{{ID: "s", Vertex: b}},
	}
	one, two := relabel("one", ss), relabel("two", ss)
	if got := one.Vertexes[0].Name; got != "[one] [1/1] RUN x" {
		t.Errorf("relabel name = %q, want %q", got, "[one] [1/1] RUN x")
	}
	if one.Vertexes[0].Digest == two.Vertexes[0].Digest || one.Vertexes[0].Digest == b {
		t.Errorf("relabel digests not distinct per artifact: %s, %s", one.Vertexes[0].Digest, two.Vertexes[0].Digest)
	}
	if one.Logs[0].Vertex != one.Vertexes[0].Digest || one.Statuses[0].Vertex != one.Vertexes[0].Digest {
		t.Errorf("relabel logs/statuses do not follow their vertex")
	}
	if ss.Vertexes[0].Name != "[1/1] RUN x" || ss.Vertexes[0].Digest != b {
		t.Errorf("relabel modified its input")
	}
}
