// Package event defines the typed events devloop's stages report and the sinks that
// carry them: JSON Lines for machines (--output json, --event-log) and a line printer
// for humans. It is not a logger: libraries stay silent and report what happened
// through a Sink handed to them by their caller.
package event
