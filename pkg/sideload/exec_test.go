package sideload

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestExecRunner(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ctx := context.Background()
	var out strings.Builder
	if err := (ExecRunner{}).Run(ctx, strings.NewReader("hello"), &out, nil, "sh", "-c", "cat; echo"); err != nil {
		t.Fatalf("Run(cat) = %v", err)
	}
	if got, want := out.String(), "hello\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}

	err := (ExecRunner{}).Run(ctx, nil, nil, nil, "sh", "-c", "echo first >&2; echo 'ctr: not found' >&2; exit 3")
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("Run(exit 3) = %v, want a *RunError", err)
	}
	if got, want := err.Error(), `command "sh -c echo first >&2; echo 'ctr: not found' >&2; exit 3" failed: exit status 3: ctr: not found`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := string(re.Output), "first\nctr: not found\n"; got != want {
		t.Errorf("Output = %q, want %q", got, want)
	}
}

// TestExecRunnerCancel checks that cancelling ctx kills the command, even one whose
// child holds the output pipe open.
func TestExecRunnerCancel(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep")
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := (ExecRunner{WaitDelay: 200 * time.Millisecond}).Run(ctx, nil, io.Discard, nil, "sh", "-c", "sleep 30 & sleep 30")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run() = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run() returned after %v, want soon after cancel", d)
	}
}

func TestStream(t *testing.T) {
	boom := errors.New("layout blob vanished")
	tests := []struct {
		name    string
		produce func(io.Writer) (transfer, error)
		consume func(io.Reader) error
		want    string
	}{
		{
			name: "both fine",
			produce: func(w io.Writer) (transfer, error) {
				_, err := io.WriteString(w, "data")
				return transfer{bytes: 4}, err
			},
			consume: func(r io.Reader) error { _, err := io.ReadAll(r); return err },
		},
		{
			name:    "producer failure wins",
			produce: func(w io.Writer) (transfer, error) { _, _ = io.WriteString(w, "da"); return transfer{}, boom },
			consume: func(r io.Reader) error { _, err := io.ReadAll(r); return err },
			want:    boom.Error(),
		},
		{
			name:    "consumer fails",
			produce: func(w io.Writer) (transfer, error) { _, err := w.Write(make([]byte, 1<<20)); return transfer{}, err },
			consume: func(io.Reader) error { return errors.New("ctr: unexpected EOF") },
			want:    "ctr: unexpected EOF",
		},
		{
			name:    "consumer stops early",
			produce: func(w io.Writer) (transfer, error) { _, err := w.Write(make([]byte, 1<<20)); return transfer{}, err },
			consume: func(r io.Reader) error { _, err := r.Read(make([]byte, 10)); return err },
			want:    "the importer exited before reading the whole archive",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stream(tc.produce, tc.consume)
			if got := errString(err); got != tc.want {
				t.Errorf("stream() = %q, want %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
