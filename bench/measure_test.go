package bench

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"empty", nil, 0},
		{"one", []time.Duration{3 * s}, 3 * s},
		{"odd count, unsorted", []time.Duration{9 * s, 1 * s, 4 * s}, 4 * s},
		{"even count takes the mean of the middle two", []time.Duration{4 * s, 1 * s, 2 * s, 100 * s}, 3 * s},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.in); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestMedianDoesNotReorder(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	median(in)
	if diff := cmp.Diff([]time.Duration{3, 1, 2}, in); diff != "" {
		t.Errorf("median changed its input (-want +got):\n%s", diff)
	}
}

func TestMeasureInterleavesAndIsolatesFailures(t *testing.T) {
	var order []string
	rec := func(s string) { order = append(order, s) }
	tools := []tool{{
		name:    "devloop",
		prepare: func(context.Context, int) error { rec("prepare devloop"); return nil },
		do:      func(context.Context, int) (int64, error) { rec("devloop"); return 10, nil },
		check:   func(context.Context, int) error { rec("check devloop"); return nil },
		note:    func() string { return "a note" },
	}, {
		name: "flaky peer",
		do: func(_ context.Context, run int) (int64, error) {
			rec("peer")
			if run == 1 {
				return 0, errors.New("boom")
			}
			return 1000, nil
		},
	}, {
		name: "unmeasured bytes",
		do:   func(context.Context, int) (int64, error) { rec("other"); return unknownBytes, nil },
	}}
	rows := measure(context.Background(), io.Discard, "s", 3, 100, tools)

	wantOrder := []string{
		"prepare devloop", "devloop", "check devloop", "peer", "other",
		"prepare devloop", "devloop", "check devloop", "peer", "other",
		"prepare devloop", "devloop", "check devloop", "other", // the peer stopped after failing
	}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("call order (-want +got):\n%s", diff)
	}
	if len(rows) != 3 {
		t.Fatalf("measure() returned %d rows, want 3", len(rows))
	}
	if r := rows[0]; len(r.Samples) != 3 || r.Moved != 10 || r.Of != 100 || r.Note != "a note" || r.Err != nil {
		t.Errorf("devloop row = %+v, want 3 samples, 10 bytes of 100, the note, no error", r)
	}
	if r := rows[1]; len(r.Samples) != 1 || r.Moved != 1000 || r.Err == nil {
		t.Errorf("peer row = %+v, want 1 sample, 1000 bytes and the error", r)
	}
	if r := rows[2]; r.Moved != unknownBytes {
		t.Errorf("unmeasured row moved = %d, want unknownBytes", r.Moved)
	}
}

func TestMeasureStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	rows := measure(ctx, io.Discard, "s", 5, 0, []tool{{
		name: "t",
		do: func(context.Context, int) (int64, error) {
			calls++
			cancel()
			return 0, nil
		},
	}})
	if calls != 1 || !errors.Is(rows[0].Err, context.Canceled) {
		t.Errorf("after cancel: %d calls, err %v; want 1 call and context.Canceled", calls, rows[0].Err)
	}
}

func TestOncePreparesOutsideTheTiming(t *testing.T) {
	d, _, err := once(context.Background(), tool{
		prepare: func(context.Context, int) error { time.Sleep(50 * time.Millisecond); return nil },
		do:      func(context.Context, int) (int64, error) { return 0, nil },
		check:   func(context.Context, int) error { time.Sleep(50 * time.Millisecond); return nil },
	}, 0)
	if err != nil || d >= 50*time.Millisecond {
		t.Errorf("once() = %v, %v; want the untimed prepare and check left out", d, err)
	}
}
