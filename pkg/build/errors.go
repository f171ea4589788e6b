package build

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/solver/errdefs"
)

// BuildError is a failed build, reduced to what a developer needs to fix it: where
// in the Dockerfile, which step, why, and the last lines that step printed.
type BuildError struct {
	// Artifact is the Name of the Spec that failed.
	Artifact string
	// File is the Dockerfile path as the Spec gave it (joined to the context when
	// relative); Line and Column are 1-based. All three are zero when BuildKit
	// did not locate the error.
	File         string
	Line, Column int
	// Step is the Dockerfile instruction that failed, such as "RUN false".
	Step string
	// Msg is BuildKit's message without its wrapping ("failed to solve: ").
	Msg string
	// Logs are the last lines the failing step wrote, oldest first.
	Logs []string

	err error
}

// Error renders e as `Dockerfile:7: RUN false: <message>`, then the step's last
// output lines, each indented.
func (e *BuildError) Error() string {
	var b strings.Builder
	if e.File != "" && e.Line > 0 {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	}
	if e.Step != "" {
		b.WriteString(e.Step)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	for _, l := range e.Logs {
		b.WriteString("\n    ")
		b.WriteString(l)
	}
	return b.String()
}

// Unwrap returns BuildKit's error, for errors.Is(err, context.Canceled) and the
// errdefs helpers.
func (e *BuildError) Unwrap() error { return e.err }

// newBuildError converts a solve error into a *BuildError. dockerfile is the path
// to report; logs returns the last output lines of a vertex by digest (nil-safe)
// and failed names the vertex the status stream saw failing, used when the error
// does not say.
func newBuildError(artifact, dockerfile string, err error, logs func(vertex string) []string, failed string) *BuildError {
	be := &BuildError{Artifact: artifact, Msg: cleanMessage(err.Error()), err: err}
	if src := dockerfileSource(errdefs.Sources(err)); src != nil {
		be.File = dockerfile
		if r := src.Ranges; len(r) > 0 && r[0].Start != nil {
			be.Line = int(r[0].GetStart().GetLine())
			be.Column = int(r[0].GetStart().GetCharacter()) + 1
		}
		be.Step = sourceLine(string(src.GetInfo().GetData()), be.Line)
	}
	vertex := failed
	var ve *errdefs.VertexError
	if errors.As(err, &ve) && ve.Vertex != nil && ve.Digest != "" {
		vertex = ve.Digest
	}
	if logs != nil && vertex != "" {
		be.Logs = logs(vertex)
	}
	return be
}

// cleanMessage strips the wrappings BuildKit's client, daemon and frontend put
// around the message a developer wants to read.
func cleanMessage(msg string) string {
	prefixes := [...]string{
		"failed to solve: ",
		"failed to solve with frontend dockerfile.v0: ",
		"failed to create LLB definition: ",
		"rpc error: code = Unknown desc = ",
	}
	for again := true; again; {
		again = false
		for _, p := range prefixes {
			if s, ok := strings.CutPrefix(msg, p); ok {
				msg, again = s, true
			}
		}
	}
	return msg
}

// dockerfileSource picks the source location in the Dockerfile among an error's
// locations (innermost first): the innermost one whose language is Dockerfile,
// else the innermost one at all.
func dockerfileSource(srcs []*errdefs.Source) *errdefs.Source {
	var first *errdefs.Source
	for _, s := range srcs {
		if s == nil || s.Info == nil {
			continue
		}
		if strings.EqualFold(s.Info.Language, "dockerfile") {
			return s
		}
		if first == nil {
			first = s
		}
	}
	return first
}

// sourceLine returns line n (1-based) of data trimmed, without a trailing line
// continuation, shortened to keep error lines readable.
func sourceLine(data string, n int) string {
	lines := strings.Split(data, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	l := strings.TrimSpace(lines[n-1])
	l = strings.TrimSpace(strings.TrimSuffix(l, "\\"))
	const max = 80
	if r := []rune(l); len(r) > max {
		l = string(r[:max-1]) + "…"
	}
	return l
}
