package app

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/pkg/devstatus"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/loop"
)

// TestMainInterrupted cancels a command's context (Ctrl-C) while it waits: exit
// code 1 and one line, whatever error the cancellation made.
func TestMainInterrupted(t *testing.T) {
	cfg, path := waitProject(t)
	w, err := devstatus.NewWriter(path, cfg, os.Getpid(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Send(context.Background(), event.Event{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusStart})
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			var out, errOut bytes.Buffer
			code := Main(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, []string{"wait", "-o", output, "-f", cfg, "--settle", "10ms"})
			if code != ExitFailure || errOut.String() != "interrupted\n" {
				t.Errorf("Main(wait) interrupted = %d, stderr %q; want %d and %q", code, errOut.String(), ExitFailure, "interrupted\n")
			}
		})
	}
}

// TestPrinterInterrupted shows a run and a dev iteration that Ctrl-C stopped
// during a build: the build's cancellation is not shown, and only dev ends the
// iteration with a line (run's is the interrupted line of Main).
func TestPrinterInterrupted(t *testing.T) {
	events := []event.Event{
		{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusStart},
		{Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusStart, Artifact: "web"},
		{Iteration: 1, Phase: event.PhaseBuild, Status: event.StatusSkipped, Artifact: "web", Message: loop.Cancelled},
		{Iteration: 1, Phase: event.PhaseIteration, Status: event.StatusSkipped, Message: "iteration 1 stopped"},
	}
	for _, tc := range []struct {
		name        string
		hideStopped bool
		want        string
	}{
		{name: "run", hideStopped: true, want: "building web\n"},
		{name: "dev", want: "building web\niteration 1 stopped\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &printer{out: &out, err: &out, hideStopped: tc.hideStopped}
			for _, e := range events {
				p.Send(context.Background(), e)
			}
			p.Flush()
			if out.String() != tc.want {
				t.Errorf("printer output = %q, want %q", out.String(), tc.want)
			}
		})
	}
}
