package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/devstatus"
	"github.com/devloop/devloop/pkg/event"
)

type waitFlags struct {
	timeout, settle time.Duration
}

func newWaitCmd(g *globalFlags) *cobra.Command {
	f := &waitFlags{}
	cmd := &cobra.Command{
		Use:   "wait",
		Short: "Wait until the running devloop dev is ready; exit code as devloop run",
		Long: `Wait until the devloop dev running for this devloop.yaml has finished its current
iteration, including one started by changes saved just before, and exit like devloop
run would have: 0 ready, 1 failed (or no devloop dev running, or --timeout), 2 usage
or config error. For editor pre-launch tasks and scripts:

  devloop wait && curl -fsS localhost:8080/

It prints the iteration's summary or error on stderr, or with --output json its
iteration event on stdout.`,
		Args: checkArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			path, err := devstatus.DefaultPath(cfg.Name)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if f.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("--timeout %s reached", f.timeout))
				defer cancel()
			}
			st, err := devstatus.Wait(ctx, path, devstatus.WaitOptions{Settle: f.settle})
			switch {
			case errors.Is(err, devstatus.ErrNoSession):
				return fmt.Errorf("%w for %s: start it first", err, cfg.File)
			case err != nil:
				return fmt.Errorf("iteration %d still running: %w", st.Iteration, err)
			}
			return reportStatus(cmd, g, st)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.timeout, "timeout", 0, "give up after this long (exit 1); 0 waits as long as it takes")
	fl.DurationVar(&f.settle, "settle", devstatus.DefaultSettle, "how long changes saved just before have to reach devloop dev")
	return cmd
}

// reportStatus shows the finished iteration and turns a failed one into exit 1.
func reportStatus(cmd *cobra.Command, g *globalFlags, st devstatus.Status) error {
	e := event.Event{Time: st.Time, Iteration: st.Iteration, Phase: event.PhaseIteration, Status: event.StatusSuccess, Message: st.Message}
	if st.State == devstatus.StateFailed {
		e.Status = event.StatusFailure
	}
	if g.output == "json" {
		event.NewJSONLines(cmd.OutOrStdout(), nil).Send(cmd.Context(), e)
	} else {
		newPrinter(cmd, 0).Send(cmd.Context(), e)
	}
	if e.Status == event.StatusFailure {
		return reportedError{errors.New(st.Message)}
	}
	return nil
}

// announce publishes the dev session's status for devloop wait, until the
// session closes. Without it dev still works: the problem is a warning.
func (s *session) announce(ctx context.Context) {
	path, err := devstatus.DefaultPath(s.cfg.Name)
	if err == nil {
		var w *devstatus.Writer
		if w, err = devstatus.NewWriter(path, s.cfg.File, os.Getpid(), nil); err == nil {
			s.sink = event.Multi{s.sink, w}
			s.closers = append(s.closers, w)
			return
		}
	}
	s.sink.Send(ctx, event.Event{Phase: event.PhaseIteration, Status: event.StatusProgress, Message: "warning: devloop wait will not see this session: " + err.Error()})
}
