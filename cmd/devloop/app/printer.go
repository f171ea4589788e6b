package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/deploy/rollout"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/loop"
)

// printer shows events to a person: one line per thing that happened, phase
// symbols and colour only on a terminal (and never with NO_COLOR). Application
// logs go to out, everything else to err.
type printer struct {
	mu       sync.Mutex
	out, err io.Writer
	tty      bool // symbols and in-place friendly output
	color    bool
	verbose  int
	// holdBuild keeps build lines in held until the next line of another phase
	// (or flush): BuildKit's terminal display owns the screen while it builds.
	holdBuild bool
	held      []string
	// heldConfig keeps the lines of a failed config reload until the start line
	// of the iteration that follows it (see holdForIteration).
	heldConfig []string
	// hideStopped leaves out the end line of an iteration that Ctrl-C stopped:
	// devloop dev ends with it (editors read it as the iteration's end), devloop
	// run fails and says interrupted instead.
	hideStopped bool
}

var _ event.Sink = (*printer)(nil)

// newPrinter returns the printer of cmd's output streams.
func newPrinter(cmd *cobra.Command, verbose int) *printer {
	errOut := cmd.ErrOrStderr()
	tty := isTerminal(errOut)
	return &printer{out: cmd.OutOrStdout(), err: errOut, tty: tty, color: tty && os.Getenv("NO_COLOR") == "", verbose: verbose}
}

// Send implements event.Sink.
func (p *printer) Send(_ context.Context, e event.Event) {
	line, toOut := p.format(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holdForIteration(e, line) {
		return
	}
	defer p.afterIterationStart(e)
	if line == "" {
		return
	}
	if toOut {
		fmt.Fprintln(p.out, line)
		return
	}
	if p.holdBuild && e.Phase == event.PhaseBuild {
		p.held = append(p.held, line)
		return
	}
	p.flush()
	fmt.Fprintln(p.err, line)
}

// Flush prints the lines held back.
func (p *printer) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flush()
	p.flushConfig()
}

func (p *printer) flush() {
	for _, l := range p.held {
		fmt.Fprintln(p.err, l)
	}
	p.held = nil
}

// Symbols of the phase lines.
const (
	symStart   = "•"
	symOK      = "✓"
	symFail    = "✗"
	symSkipped = "-"
	symWarn    = "!"
)

// ANSI colours.
const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	dim   = "\x1b[2m"
	yel   = "\x1b[33m"
	reset = "\x1b[0m"
)

func (p *printer) mark(sym, color, text string) string {
	if !p.tty {
		return text
	}
	if p.color {
		return color + sym + reset + " " + text
	}
	return sym + " " + text
}

// format renders e, or "" when it is not worth a line; toOut is set for
// application logs.
func (p *printer) format(e event.Event) (line string, toOut bool) {
	if strings.HasPrefix(e.Message, "warning: ") {
		return p.mark(symWarn, yel, e.Message), false
	}
	if e.Status == event.StatusSkipped && e.Message == loop.Cancelled {
		// A stage Ctrl-C stopped: the iteration's end says so.
		return "", false
	}
	switch e.Phase {
	case event.PhaseIteration:
		return p.iteration(e), false
	case event.PhaseWatch:
		// The iteration's start line names the files already.
		if p.verbose > 0 && len(e.Files) > 0 {
			return p.mark(symStart, dim, "changed: "+strings.Join(e.Files, ", ")), false
		}
	case event.PhaseConfig:
		return p.config(e), false
	case event.PhaseBuild:
		return p.build(e), false
	case event.PhaseSideload:
		return p.sideload(e), false
	case event.PhaseDeploy:
		return p.deploy(e), false
	case event.PhaseRollout:
		switch e.Status {
		case event.StatusFailure:
			// A failed rollout fails the iteration, whose failure line has the
			// same headline and the details below it: shown there. Only when
			// the workload's manifest is known is a located line added here,
			// for editors' problem matchers.
			if e.File != "" {
				head, _, _ := strings.Cut(e.Message, "\n")
				e.Message = e.Resource + ": " + head
				return located(e), false
			}
			return "", false
		case event.StatusSkipped:
			return "", false
		case event.StatusSuccess:
			return p.mark(symOK, green, rollout.FormatEvent(e)), false
		}
		return "  " + rollout.FormatEvent(e), false
	case event.PhasePortForward:
		return p.status(e, e.Message), false
	case event.PhaseLog:
		if e.Status == event.StatusFailure {
			return p.status(e, e.Message), false
		}
		return fmt.Sprintf("[%s] %s", e.Resource, e.Message), true
	}
	return "", false
}

func (p *printer) status(e event.Event, text string) string {
	switch e.Status {
	case event.StatusSuccess:
		return p.mark(symOK, green, text)
	case event.StatusFailure:
		return p.mark(symFail, red, text)
	case event.StatusSkipped:
		return p.mark(symSkipped, dim, text)
	}
	return p.mark(symStart, dim, text)
}

func (p *printer) iteration(e event.Event) string {
	switch e.Status {
	case event.StatusStart:
		if len(e.Files) == 0 {
			return ""
		}
		return p.mark(symStart, dim, fmt.Sprintf("iteration %d started: %s changed", e.Iteration, strings.Join(e.Files, ", ")))
	case event.StatusFailure:
		return p.mark(symFail, red, indentTail(e.Message))
	case event.StatusSkipped:
		if p.hideStopped {
			return ""
		}
	}
	return p.status(e, e.Message)
}

func (p *printer) config(e event.Event) string {
	if e.Status == event.StatusFailure && e.File != "" {
		return positioned(e.File, e.Line, e.Column, e.Message)
	}
	return p.status(e, e.Message)
}

func (p *printer) build(e event.Event) string {
	switch e.Status {
	case event.StatusStart:
		return p.mark(symStart, dim, "building "+e.Artifact)
	case event.StatusSuccess:
		return p.mark(symOK, green, fmt.Sprintf("built %s in %s: %s", e.Artifact, rollout.FormatElapsed(e.Duration), e.Ref))
	case event.StatusFailure:
		if e.File != "" {
			return positioned(e.File, e.Line, e.Column, e.Message)
		}
		return p.mark(symFail, red, fmt.Sprintf("building %s failed: %s", e.Artifact, e.Message))
	case event.StatusSkipped:
		if e.Ref == "" {
			return p.mark(symSkipped, dim, fmt.Sprintf("building %s: %s", e.Artifact, e.Message))
		}
		return p.mark(symSkipped, dim, fmt.Sprintf("%s: %s, reusing %s", e.Artifact, e.Message, e.Ref))
	}
	if p.verbose > 0 && e.Message != "" {
		return "  " + e.Artifact + ": " + e.Message
	}
	return ""
}

func (p *printer) sideload(e event.Event) string {
	switch e.Status {
	case event.StatusStart:
		if p.verbose > 0 {
			return p.mark(symStart, dim, fmt.Sprintf("loading %s into %s", e.Artifact, e.Message))
		}
	case event.StatusSuccess:
		extra := loop.Bytes(e.Bytes)
		if e.BlobsSkipped > 0 {
			extra += fmt.Sprintf(", %d blobs already there", e.BlobsSkipped)
		}
		return p.mark(symOK, green, fmt.Sprintf("loaded %s in %s (%s)", e.Artifact, rollout.FormatElapsed(e.Duration), extra))
	case event.StatusFailure:
		return p.mark(symFail, red, indentTail(e.Message))
	}
	return ""
}

func (p *printer) deploy(e event.Event) string {
	switch e.Status {
	case event.StatusStart:
		if p.verbose > 0 || e.Message == "cleaning up" {
			return p.mark(symStart, dim, e.Message)
		}
		return ""
	case event.StatusProgress:
		if e.Message == "pruned" || p.verbose > 0 {
			return fmt.Sprintf("  %s %s", e.Resource, e.Message)
		}
		return ""
	case event.StatusSuccess:
		if e.Duration > 0 {
			return p.mark(symOK, green, fmt.Sprintf("%s in %s", e.Message, rollout.FormatElapsed(e.Duration)))
		}
	case event.StatusFailure:
		if e.File != "" {
			return located(e)
		}
		return p.mark(symFail, red, indentTail(e.Message))
	}
	return p.status(e, e.Message)
}

// positioned formats a located error the way compilers do, so editors' problem
// matchers pick it up: "file:line:column: error: message".
func positioned(file string, line, col int, msg string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d", line)
		if col > 0 {
			fmt.Fprintf(&b, ":%d", col)
		}
	}
	b.WriteString(": error: " + indentTail(msg))
	return b.String()
}

// indentTail indents every line after the first by two spaces.
func indentTail(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
