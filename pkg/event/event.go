package event

import (
	"context"
	"sync"
	"time"
)

// SchemaVersion is carried by the first event of every stream. Bump it on any
// incompatible change to Event's JSON shape.
const SchemaVersion = "1"

// Phase is a stage of one iteration.
type Phase string

// The phases of an iteration, in the order they run.
const (
	PhaseIteration   Phase = "iteration"
	PhaseWatch       Phase = "watch"
	PhaseConfig      Phase = "config"
	PhaseBuild       Phase = "build"
	PhaseSideload    Phase = "sideload"
	PhaseDeploy      Phase = "deploy"
	PhaseRollout     Phase = "rollout"
	PhasePortForward Phase = "portforward"
	PhaseLog         Phase = "log"
)

// Status says where a phase is.
type Status string

// Statuses an event can carry.
const (
	StatusStart    Status = "start"
	StatusProgress Status = "progress"
	StatusSuccess  Status = "success"
	StatusFailure  Status = "failure"
	StatusSkipped  Status = "skipped"
)

// Event is one thing that happened. Zero fields are omitted on the wire.
type Event struct {
	SchemaVersion string        `json:"schemaVersion,omitempty"`
	Time          time.Time     `json:"time"`
	Iteration     int           `json:"iteration"`
	Phase         Phase         `json:"phase"`
	Status        Status        `json:"status"`
	Artifact      string        `json:"artifact,omitempty"` // image name from the config
	Resource      string        `json:"resource,omitempty"` // kind/name, e.g. deployment/web
	Message       string        `json:"message,omitempty"`
	Duration      time.Duration `json:"-"`
	DurationMS    int64         `json:"durationMs,omitempty"`
	Bytes         int64         `json:"bytes,omitempty"`        // bytes moved (sideload)
	BlobsSkipped  int           `json:"blobsSkipped,omitempty"` // blobs the target already had
	Ref           string        `json:"ref,omitempty"`          // image reference produced or loaded
	Files         []string      `json:"files,omitempty"`        // changed files that started the iteration
	File          string        `json:"file,omitempty"`         // location of an error, when known
	Line          int           `json:"line,omitempty"`
	Column        int           `json:"column,omitempty"`
}

// Sink receives events. Send must not block for long and must be safe for
// concurrent use; stages call it from their own goroutines.
type Sink interface {
	Send(ctx context.Context, e Event)
}

// Discard is a Sink that drops every event.
type Discard struct{}

// Send implements Sink.
func (Discard) Send(context.Context, Event) {}

// Multi fans every event out to each of its sinks, in order.
type Multi []Sink

// Send implements Sink.
func (m Multi) Send(ctx context.Context, e Event) {
	for _, s := range m {
		s.Send(ctx, e)
	}
}

// Recorder keeps every event in memory; tests use it to assert on streams.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Send implements Sink.
func (r *Recorder) Send(_ context.Context, e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns a copy of what was recorded so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
