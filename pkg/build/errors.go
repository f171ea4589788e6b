package build

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/solver/errdefs"
	digest "github.com/opencontainers/go-digest"
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
// to report and data its content; tr (nil-safe) supplies the failing vertex when
// the error does not name it, and that vertex's output.
//
// BuildKit attaches the Dockerfile location to its errors; Docker 20.10's older
// BuildKit does not, so the location is then recovered from the message ("parse
// error line 4") or from the failing step's name matched against the Dockerfile.
func newBuildError(artifact, dockerfile string, data []byte, err error, tr *tracker) *BuildError {
	be := &BuildError{Artifact: artifact, Msg: cleanMessage(err.Error()), err: err}
	vertex := ""
	if tr != nil {
		vertex = string(tr.failed)
	}
	var ve *errdefs.VertexError
	if errors.As(err, &ve) && ve.Vertex != nil && ve.Digest != "" {
		vertex = ve.Digest
	}
	if src := dockerfileSource(errdefs.Sources(err)); src != nil {
		be.File = dockerfile
		if r := src.Ranges; len(r) > 0 && r[0].Start != nil {
			be.Line = int(r[0].GetStart().GetLine())
			be.Column = int(r[0].GetStart().GetCharacter()) + 1
		}
		be.Step = sourceLine(string(src.GetInfo().GetData()), be.Line)
	} else if n := parseErrorLine(be.Msg); n > 0 {
		be.File, be.Line, be.Column = dockerfile, n, 1
		be.Step = sourceLine(string(data), n)
	} else if tr != nil && vertex != "" {
		if step := stepText(tr.names[digest.Digest(vertex)]); step != "" {
			be.Step = step
			if n := findStep(string(data), step); n > 0 {
				be.File, be.Line, be.Column = dockerfile, n, 1
			}
		}
	}
	if tr != nil && vertex != "" {
		be.Logs = tr.logs(vertex)
	}
	return be
}

// parseErrorLine finds the line in an older frontend's syntax error message,
// "dockerfile parse error line 4: …" or "… parse error on line 4: …".
func parseErrorLine(msg string) int {
	for _, marker := range [...]string{"parse error on line ", "parse error line "} {
		_, rest, ok := strings.Cut(msg, marker)
		if !ok {
			continue
		}
		n := 0
		for _, c := range rest {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	return 0
}

// stepText strips the "[2/3] " label from a step vertex's name.
func stepText(vertexName string) string {
	if !isStep(vertexName) {
		return ""
	}
	_, rest, _ := strings.Cut(vertexName, "] ")
	return strings.TrimSpace(rest)
}

// findStep returns the 1-based line of the only Dockerfile line reading step
// (instruction keyword in any case, spacing ignored), or 0 when there is no single one.
func findStep(data, step string) int {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	want, found := norm(step), 0
	for i, l := range strings.Split(data, "\n") {
		if norm(l) == want {
			if found > 0 {
				return 0
			}
			found = i + 1
		}
	}
	return found
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
