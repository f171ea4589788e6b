package watch

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// timedChange is a change fed to the coalescer at a fake-clock offset.
type timedChange struct {
	at time.Duration
	change
}

// gotBatch is a batch as seen by the test: when it arrived and what it held.
type gotBatch struct {
	At, First, Last time.Duration
	Paths           []string
	Roots           []RootChange
	Overflow        bool
}

func at(d time.Duration, path string, roots ...int) timedChange {
	return timedChange{at: d, change: change{path: path, roots: roots}}
}

func TestCoalescer(t *testing.T) {
	const ms = time.Millisecond
	rootPaths := []string{"/r0", "/r1"}
	everyTick := func(from, to, step time.Duration) []timedChange {
		var cs []timedChange
		for d := from; d < to; d += step {
			cs = append(cs, at(d, "/r0/busy", 0))
		}
		return cs
	}
	tests := []struct {
		name     string
		changes  []timedChange
		readFrom time.Duration // the consumer starts reading at this offset
		gone     []string      // paths that no longer exist when the batch is built
		want     []gotBatch
	}{{
		name:    "one change is sent after the quiet period",
		changes: []timedChange{at(0, "/r0/a", 0)},
		want:    []gotBatch{{At: 200 * ms, First: 0, Last: 0, Paths: []string{"/r0/a"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/a"}}}}},
	}, {
		name:    "a burst is one batch, sorted and deduplicated",
		changes: []timedChange{at(0, "/r0/b", 0), at(50*ms, "/r0/a", 0), at(100*ms, "/r0/b", 0), at(150*ms, "/r0/c", 0)},
		want:    []gotBatch{{At: 350 * ms, Last: 150 * ms, Paths: []string{"/r0/a", "/r0/b", "/r0/c"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/a", "/r0/b", "/r0/c"}}}}},
	}, {
		name:    "changes apart by more than the quiet period are two batches",
		changes: []timedChange{at(0, "/r0/a", 0), at(500*ms, "/r1/b", 1)},
		want: []gotBatch{
			{At: 200 * ms, First: 0, Last: 0, Paths: []string{"/r0/a"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/a"}}}},
			{At: 700 * ms, First: 500 * ms, Last: 500 * ms, Paths: []string{"/r1/b"}, Roots: []RootChange{{Index: 1, Path: "/r1", Paths: []string{"/r1/b"}}}},
		},
	}, {
		name:    "a path in two roots is listed under both",
		changes: []timedChange{at(0, "/r0/x", 0), at(10*ms, "/r0/x", 1)},
		want: []gotBatch{{At: 210 * ms, Last: 10 * ms, Paths: []string{"/r0/x"}, Roots: []RootChange{
			{Index: 0, Path: "/r0", Paths: []string{"/r0/x"}},
			{Index: 1, Path: "/r1", Paths: []string{"/r0/x"}},
		}}},
	}, {
		// Every 150 ms, so that no change lands exactly on a MaxWait deadline.
		name:    "endless changes are cut at MaxWait",
		changes: everyTick(0, 25*time.Second, 150*ms),
		want: []gotBatch{
			{At: 10 * time.Second, First: 0, Last: 9900 * ms, Paths: []string{"/r0/busy"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/busy"}}}},
			{At: 20050 * ms, First: 10050 * ms, Last: 19950 * ms, Paths: []string{"/r0/busy"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/busy"}}}},
			{At: 25100 * ms, First: 20100 * ms, Last: 24900 * ms, Paths: []string{"/r0/busy"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/busy"}}}},
		},
	}, {
		name:     "a batch past MaxWait keeps growing until it is read",
		changes:  everyTick(0, 12*time.Second, 150*ms),
		readFrom: 11 * time.Second,
		want: []gotBatch{
			{At: 11 * time.Second, First: 0, Last: 10950 * ms, Paths: []string{"/r0/busy"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/busy"}}}},
			{At: 12050 * ms, First: 11100 * ms, Last: 11850 * ms, Paths: []string{"/r0/busy"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/busy"}}}},
		},
	}, {
		name:     "a busy consumer gets one batch with everything",
		changes:  []timedChange{at(0, "/r0/a", 0), at(500*ms, "/r0/b", 0), at(1000*ms, "/r0/c", 0)},
		readFrom: 5 * time.Second,
		want:     []gotBatch{{At: 5 * time.Second, Last: time.Second, Paths: []string{"/r0/a", "/r0/b", "/r0/c"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/a", "/r0/b", "/r0/c"}}}}},
	}, {
		name: "a created file that is gone again is not reported",
		changes: []timedChange{
			{at: 0, change: change{path: "/r0/sedX1", roots: []int{0}, created: true}},
			{at: 1 * ms, change: change{path: "/r0/a", roots: []int{0}, created: true}},
		},
		gone: []string{"/r0/sedX1"},
		want: []gotBatch{{At: 201 * ms, Last: 1 * ms, Paths: []string{"/r0/a"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/a"}}}}},
	}, {
		name:    "a deleted file that existed before is reported",
		changes: []timedChange{at(0, "/r0/old", 0)},
		gone:    []string{"/r0/old"},
		want:    []gotBatch{{At: 200 * ms, Paths: []string{"/r0/old"}, Roots: []RootChange{{Index: 0, Path: "/r0", Paths: []string{"/r0/old"}}}}},
	}, {
		name:    "only temporary files: no batch",
		changes: []timedChange{{at: 0, change: change{path: "/r0/tmp1", roots: []int{0}, created: true}}},
		gone:    []string{"/r0/tmp1"},
	}, {
		name:    "overflow marks every root",
		changes: []timedChange{at(0, "/r1/a", 1), {at: 5 * ms, change: change{overflow: true}}},
		want: []gotBatch{{At: 205 * ms, Last: 5 * ms, Paths: []string{"/r1/a"}, Overflow: true, Roots: []RootChange{
			{Index: 0, Path: "/r0"},
			{Index: 1, Path: "/r1", Paths: []string{"/r1/a"}},
		}}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				gone := map[string]bool{}
				for _, p := range tc.gone {
					gone[p] = true
				}
				c := newCoalescer(200*time.Millisecond, 10*time.Second, rootPaths, func(p string) bool { return !gone[p] })
				ctx, cancel := context.WithCancel(t.Context())
				in, out := make(chan change), make(chan Batch)
				done := make(chan struct{})
				go func() {
					defer close(done)
					c.run(ctx, in, out)
				}()
				start := time.Now()
				go func() {
					for _, tc := range tc.changes {
						time.Sleep(tc.at - time.Since(start))
						select {
						case in <- tc.change:
						case <-ctx.Done():
							return
						}
					}
				}()
				time.Sleep(tc.readFrom)
				var got []gotBatch
				end := time.After(time.Minute)
			read:
				for {
					select {
					case b := <-out:
						got = append(got, gotBatch{
							At: time.Since(start), First: b.First.Sub(start), Last: b.Last.Sub(start),
							Paths: b.Paths, Roots: b.Roots, Overflow: b.Overflow,
						})
					case <-end:
						break read
					}
				}
				cancel()
				<-done
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("batches (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestCoalescerStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCoalescer(200*time.Millisecond, 10*time.Second, []string{"/r"}, func(string) bool { return true })
		ctx, cancel := context.WithCancel(t.Context())
		in, out := make(chan change, 1), make(chan Batch)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.run(ctx, in, out)
		}()
		in <- change{path: "/r/a", roots: []int{0}}
		time.Sleep(time.Second) // the batch is ready and nobody reads it
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("run did not return after cancel while a batch was waiting for its reader")
		}
	})
}
