package app

import (
	"fmt"
	"strings"

	"github.com/devloop/devloop/pkg/event"
)

// What the printer does for editors. Their problem matchers (examples/vscode)
// read two kinds of lines:
//
//   - located errors, "file:line:column: error: message" (column optional), one
//     per failure whose event carries a file;
//   - iteration boundaries: "iteration N started: …" when a dev iteration starts
//     and "iteration N: …", "iteration N failed: …", "iteration N cancelled: …" or
//     "iteration N stopped" when it ends. A background matcher clears the problems
//     of the previous iteration at the start line and publishes the new ones at
//     the end line.

// located renders a failure that names its file as a located error line. A
// message that starts with the same location (pkg/deploy's errors do) loses it.
func located(e event.Event) string {
	msg := e.Message
	prefix := e.File
	if e.Line > 0 {
		prefix += fmt.Sprintf(":%d", e.Line)
	}
	msg = strings.TrimPrefix(msg, prefix+": ")
	return positioned(e.File, e.Line, e.Column, msg)
}

// holdForIteration keeps back the line of a failed config reload. devloop dev
// reports the reload before the start of the iteration that follows it; shown
// after that start line, the error belongs to the iteration for a background
// problem matcher, which would otherwise clear it at the start line.
func (p *printer) holdForIteration(e event.Event, line string) bool {
	if line == "" || e.Phase != event.PhaseConfig || e.Status != event.StatusFailure {
		return false
	}
	p.heldConfig = append(p.heldConfig, line)
	return true
}

// afterIterationStart prints the held reload errors once an iteration started.
func (p *printer) afterIterationStart(e event.Event) {
	if e.Phase == event.PhaseIteration && e.Status == event.StatusStart {
		p.flushConfig()
	}
}

func (p *printer) flushConfig() {
	for _, l := range p.heldConfig {
		fmt.Fprintln(p.err, l)
	}
	p.heldConfig = nil
}
