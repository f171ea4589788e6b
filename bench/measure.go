package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// unknownBytes marks a run whose moved bytes are not measured.
const unknownBytes = -1

// tool is one way of doing a scenario's job: devloop's, or a peer's.
type tool struct {
	name string
	// prepare puts the target back into the scenario's start state. Untimed.
	prepare func(ctx context.Context, run int) error
	// do is the timed part; it returns the bytes it moved, or unknownBytes.
	do func(ctx context.Context, run int) (int64, error)
	// check verifies that do really did the job. Untimed; optional.
	check func(ctx context.Context, run int) error
	// note, when set, is called after the last run for the row's remark.
	note func() string
}

// Row is one tool's result in one scenario.
type Row struct {
	Scenario string
	Tool     string
	// Samples are the wall times of the runs that succeeded, in run order.
	Samples []time.Duration
	// Moved is the median of the bytes each run moved; unknownBytes when not measured.
	Moved int64
	// Of is what Moved is compared with (the image's size); 0 for no comparison.
	Of int64
	// Note is a remark printed under the table (fallbacks, what a number means).
	Note string
	// Err is why the tool stopped, if it did.
	Err error
}

// Median returns the median of the samples (the mean of the two middle ones for
// an even count), or 0 when there are none.
func (r Row) Median() time.Duration { return median(r.Samples) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func medianBytes(bs []int64) int64 {
	if len(bs) == 0 {
		return unknownBytes
	}
	s := slices.Clone(bs)
	slices.Sort(s)
	return s[len(s)/2]
}

// measure runs every tool runs times, interleaved (run 1 of each tool, then run 2
// of each, …) so a burst of load on a shared machine hits all tools alike. A tool
// that fails stops; the others go on. It returns one Row per tool, in order.
func measure(ctx context.Context, log io.Writer, scenario string, runs int, of int64, tools []tool) []Row {
	rows := make([]Row, len(tools))
	moved := make([][]int64, len(tools))
	for i, t := range tools {
		rows[i] = Row{Scenario: scenario, Tool: t.name, Of: of}
	}
	for run := range runs {
		for i, t := range tools {
			if rows[i].Err != nil {
				continue
			}
			if ctx.Err() != nil {
				rows[i].Err = ctx.Err()
				continue
			}
			d, n, err := once(ctx, t, run)
			if err != nil {
				rows[i].Err = err
				fmt.Fprintf(log, "  %s / %s run %d: %v\n", scenario, t.name, run+1, err)
				continue
			}
			rows[i].Samples = append(rows[i].Samples, d)
			if n != unknownBytes {
				moved[i] = append(moved[i], n)
			}
			fmt.Fprintf(log, "  %s / %s run %d: %s, %s\n", scenario, t.name, run+1, seconds(d), humanBytes(n))
		}
	}
	for i, t := range tools {
		rows[i].Moved = medianBytes(moved[i])
		if t.note != nil {
			rows[i].Note = t.note()
		}
	}
	return rows
}

// once prepares, times and checks one run of t.
func once(ctx context.Context, t tool, run int) (time.Duration, int64, error) {
	if t.prepare != nil {
		if err := t.prepare(ctx, run); err != nil {
			return 0, 0, fmt.Errorf("preparing: %w", err)
		}
	}
	start := time.Now()
	n, err := t.do(ctx, run)
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if t.check != nil {
		if err := t.check(ctx, run); err != nil {
			return 0, 0, fmt.Errorf("checking: %w", err)
		}
	}
	return d, n, nil
}
