package watch

import (
	"context"
	"os"
	"slices"
	"sort"
	"time"
)

// change is one filtered file event on its way into a batch.
type change struct {
	path     string
	roots    []int // indexes of the roots the path belongs to
	created  bool  // the event created path
	overflow bool  // the kernel dropped events; path and roots are empty
}

// pending is what a batch knows about one path so far.
type pending struct {
	roots []int
	// created is true when the path's first event in this batch created it: if it is
	// gone when the batch is sent, it was a temporary file and is not reported.
	created bool
}

// coalescer merges changes into batches: a batch is due Quiet after its last change
// or MaxWait after its first, whichever comes first. It reads the time from the time
// package only, so tests drive it with testing/synctest's fake clock.
type coalescer struct {
	quiet, maxWait time.Duration
	rootPaths      []string
	exists         func(string) bool

	paths       map[string]*pending
	overflow    bool
	first, last time.Time
}

func newCoalescer(quiet, maxWait time.Duration, rootPaths []string, exists func(string) bool) *coalescer {
	return &coalescer{quiet: quiet, maxWait: maxWait, rootPaths: rootPaths, exists: exists, paths: map[string]*pending{}}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func (c *coalescer) empty() bool { return len(c.paths) == 0 && !c.overflow }

func (c *coalescer) add(ch change, now time.Time) {
	if c.empty() {
		c.first = now
	}
	c.last = now
	if ch.overflow {
		c.overflow = true
		return
	}
	p, ok := c.paths[ch.path]
	if !ok {
		p = &pending{created: ch.created}
		c.paths[ch.path] = p
	}
	for _, r := range ch.roots {
		if !slices.Contains(p.roots, r) {
			p.roots = append(p.roots, r)
		}
	}
}

// due returns when the pending batch should be sent.
func (c *coalescer) due() time.Time {
	return minTime(c.last.Add(c.quiet), c.first.Add(c.maxWait))
}

// batch builds the batch from what is pending, leaving it pending; ok is false when
// nothing is left after dropping temporary files.
func (c *coalescer) batch() (b Batch, ok bool) {
	b = Batch{Overflow: c.overflow, First: c.first, Last: c.last}
	byRoot := make([][]string, len(c.rootPaths))
	for p, pend := range c.paths {
		if pend.created && !c.exists(p) {
			continue
		}
		b.Paths = append(b.Paths, p)
	}
	sort.Strings(b.Paths)
	for _, p := range b.Paths {
		for _, r := range c.paths[p].roots {
			byRoot[r] = append(byRoot[r], p)
		}
	}
	for i, paths := range byRoot {
		if len(paths) > 0 || c.overflow {
			b.Roots = append(b.Roots, RootChange{Index: i, Path: c.rootPaths[i], Paths: paths})
		}
	}
	return b, len(b.Paths) > 0 || c.overflow
}

func (c *coalescer) reset() {
	clear(c.paths)
	c.overflow = false
}

// run coalesces changes from in and sends batches on out until ctx is done or in is
// closed. While out is not read, new changes keep joining the waiting batch.
func (c *coalescer) run(ctx context.Context, in <-chan change, out chan<- Batch) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		timerC <-chan time.Time
		sendC  chan<- Batch // out when a batch is ready, else nil
		ready  Batch
	)
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-in:
			if !ok {
				return
			}
			// A change joins the pending batch, even one that waits for its reader,
			// and pushes its due time back (never past MaxWait after its first change).
			now := time.Now()
			c.add(ch, now)
			sendC = nil
			timer.Reset(c.due().Sub(now))
			timerC = timer.C
		case <-timerC:
			timerC = nil
			var ok bool
			if ready, ok = c.batch(); ok {
				sendC = out
			} else {
				c.reset()
			}
		case sendC <- ready:
			sendC, ready = nil, Batch{}
			c.reset()
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
