package sideload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// Runner runs a command on this machine: ctr against a local containerd, or docker
// (docker ps, docker exec -i NODE ctr …) for kind nodes. Loaders take one so tests
// can record and fake every command.
type Runner interface {
	// Run runs args[0] with args[1:], feeding it stdin (nil: no input) and copying its
	// output to stdout and stderr (nil: discarded). It returns a *RunError when the
	// command cannot start or exits non-zero, and stops the command when ctx ends.
	Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error
}

// ExecRunner is the Runner that starts real processes.
type ExecRunner struct {
	// WaitDelay bounds how long Run waits for a killed command's output pipes to
	// close (docker exec children can hold them open); default 5s.
	WaitDelay time.Duration
}

var _ Runner = ExecRunner{}

// maxErrorOutput bounds the output kept for a RunError.
const maxErrorOutput = 64 << 10

// Run implements Runner. The command is killed when ctx is done.
func (r ExecRunner) Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error {
	if len(args) == 0 {
		return errors.New("no command to run")
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	cmd.Stdin = stdin
	tail := &tailBuffer{max: maxErrorOutput}
	cmd.Stdout = stdout
	cmd.Stderr = tail
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, stderr)
	}
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return &RunError{Command: args, Output: tail.Bytes(), Err: err}
}

// RunError is a command that failed, with what it printed on stderr. Its message is
// one line; Output holds the rest for the top level to print.
type RunError struct {
	// Command is the command line that ran.
	Command []string
	// Output is the tail of what it wrote to stderr.
	Output []byte
	// Err is how it failed: *exec.ExitError, a start error, or the context's error.
	Err error
}

// Error implements error: the command, how it failed and its last line of output.
func (e *RunError) Error() string {
	msg := fmt.Sprintf("command %q failed: %v", strings.Join(e.Command, " "), e.Err)
	if l := lastLine(e.Output); l != "" {
		msg += ": " + l
	}
	return msg
}

// Unwrap returns the underlying error (e.g. *exec.ExitError, context.Canceled).
func (e *RunError) Unwrap() error { return e.Err }

// lastLine is the last non-empty line of out, shortened to stay readable.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 300 {
		l = l[:300] + "…"
	}
	return l
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte { return bytes.Clone(t.buf.Bytes()) }

// output runs a command and returns its stdout.
func output(ctx context.Context, r Runner, args ...string) ([]byte, error) {
	var out bytes.Buffer
	err := r.Run(ctx, nil, &out, nil, args...)
	return out.Bytes(), err
}

// errConsumerDone tells the archive producer that its reader went away.
var errConsumerDone = errors.New("archive consumer stopped reading")

// stream runs produce and consume concurrently, joined by an io.Pipe, so an archive
// flows into its consumer without touching the disk. A producer failure wins over
// the consumer failure it causes; a consumer that returns before reading everything
// is an error too.
func stream(produce func(io.Writer) (transfer, error), consume func(io.Reader) error) (transfer, error) {
	pr, pw := io.Pipe()
	type produced struct {
		tr  transfer
		err error
	}
	done := make(chan produced, 1)
	go func() {
		tr, err := produce(pw)
		pw.CloseWithError(err) // nil: the consumer reads io.EOF
		done <- produced{tr, err}
	}()
	cerr := consume(pr)
	pr.CloseWithError(errConsumerDone)
	p := <-done
	switch {
	case p.err != nil && !errors.Is(p.err, errConsumerDone):
		return p.tr, p.err
	case cerr != nil:
		return p.tr, cerr
	case p.err != nil:
		return p.tr, errors.New("the importer exited before reading the whole archive")
	}
	return p.tr, nil
}
