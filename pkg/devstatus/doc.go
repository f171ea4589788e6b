// Package devstatus lets other processes follow a running `devloop dev`: dev keeps
// one small JSON file per project up to date with where its current iteration is
// (Writer, an event.Sink fed with dev's events), and `devloop wait` reads it until
// the iteration is ready or failed (Wait).
//
// It is not an API server and carries no events: one status, rewritten atomically
// on iteration boundaries and change batches, removed when dev stops. The JSON
// event stream (--output json, --event-log) is what carries the details.
package devstatus
