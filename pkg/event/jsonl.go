package event

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// JSONLines writes one JSON object per line. The first event written carries
// SchemaVersion so a reader can refuse a stream it does not understand.
type JSONLines struct {
	mu    sync.Mutex
	w     io.Writer
	first bool
	now   func() time.Time
}

// NewJSONLines returns a sink writing to w. now may be nil (time.Now).
func NewJSONLines(w io.Writer, now func() time.Time) *JSONLines {
	if now == nil {
		now = time.Now
	}
	return &JSONLines{w: w, first: true, now: now}
}

// Send implements Sink. Write errors are dropped: a closed pipe on the reader's
// side must not stop the pipeline.
func (j *JSONLines) Send(_ context.Context, e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = j.now()
	}
	if j.first {
		e.SchemaVersion = SchemaVersion
		j.first = false
	}
	if e.Duration > 0 {
		e.DurationMS = e.Duration.Milliseconds()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	_, _ = j.w.Write(append(b, '\n'))
}
