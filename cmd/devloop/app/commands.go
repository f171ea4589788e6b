package app

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/build"
	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
	"github.com/devloop/devloop/pkg/loop"
)

// pipelineCommands are the commands that run devloop's stages.
func pipelineCommands(g *globalFlags) []*cobra.Command {
	return []*cobra.Command{newBuildCmd(g), newRunCmd(g), newDevCmd(g), newWaitCmd(g)}
}

// session is what every pipeline command sets up: the config, the sink that
// shows events, and how BuildKit shows progress.
type session struct {
	cfg     *config.Config
	sink    event.Sink
	machine event.Sink // the JSON Lines streams alone (stdout, --event-log); nil without them
	printer *printer   // nil with --output json
	wiring  wiring
	json    bool
	closers []io.Closer // closed by close
}

// deployFlags are the flags of the commands that deploy: run and dev.
type deployFlags struct {
	tail, portForward bool
	allow             []string
}

// add registers the flags on cmd; tail is --tail's default and when ends the
// help of --tail and --port-forward, saying when they start and stop.
func (f *deployFlags) add(cmd *cobra.Command, tail bool, when string) {
	fl := cmd.Flags()
	fl.BoolVar(&f.tail, "tail", tail, "stream the deployed pods' logs"+when)
	fl.BoolVar(&f.portForward, "port-forward", false, "forward the config's ports"+when)
	fl.StringArrayVar(&f.allow, "allow-context", nil, "allow deploying to this kube context although it does not look local (repeatable)")
}

// options are the Engine options the flags set.
func (f *deployFlags) options() loop.Options {
	return loop.Options{Tail: f.tail, PortForward: f.portForward, AllowContexts: f.allow}
}

// pipeline is what tells the pipeline commands' sessions apart.
type pipeline struct {
	// opts are the command's Engine options; AllowContexts also reaches the
	// wiring, which checks the context before it talks to the cluster.
	opts loop.Options
	// buildOnly makes only the builder (devloop build needs no cluster).
	buildOnly bool
	// dev is devloop dev: the session publishes its status for devloop wait,
	// and Ctrl-C ends it as it should end (a stopped iteration gets its end
	// line), where it fails the other commands, which say interrupted.
	dev bool
}

// runPipeline is the body of every pipeline command: it opens the session, makes
// the Engine for p and gives both to run, whose error decides the exit code.
func runPipeline(cmd *cobra.Command, g *globalFlags, p pipeline, run func(*session, *loop.Engine) error) error {
	s, err := newSession(cmd, g)
	if err != nil {
		return err
	}
	defer s.close()
	if p.dev {
		s.announce(cmd.Context())
	}
	if s.printer != nil {
		s.printer.hideStopped = !p.dev
	}
	s.wiring.buildOnly, s.wiring.allow = p.buildOnly, p.opts.AllowContexts
	e, err := s.engine(cmd.Context(), p.opts)
	if err != nil {
		s.sendStartFailure(cmd.Context(), err)
		return err
	}
	defer e.Close()
	return s.done(run(s, e))
}

// newSession loads the config and picks the output: JSON Lines events on stdout,
// or a human printer on stderr; and with --event-log, JSON Lines to a file too.
// The caller closes the session.
func newSession(cmd *cobra.Command, g *globalFlags) (*session, error) {
	s := &session{wiring: wiring{g: g}}
	machine, err := s.machineSink(cmd, g)
	if err != nil {
		return nil, err
	}
	s.machine = machine
	cfg, err := loadConfig(g)
	if err != nil {
		sendConfigFailure(cmd.Context(), machine, g.filename, err)
		s.close()
		return nil, err
	}
	s.cfg = cfg
	errOut := cmd.ErrOrStderr()
	if g.output == "json" {
		s.json = true
		s.sink = machine
		s.wiring.progress = build.ProgressEvents
		return s, nil
	}
	p := newPrinter(cmd, g.verbose)
	s.printer, s.sink = p, p
	if machine != nil {
		s.sink = event.Multi{p, machine}
	}
	s.wiring.progressOut = errOut
	switch {
	case p.tty:
		s.wiring.progress = build.ProgressTTY
		p.holdBuild = true
	case machine != nil && g.verbose == 0:
		// The event log gets BuildKit's steps; stderr keeps devloop's own lines.
		s.wiring.progress = build.ProgressEvents
	default:
		// Not a terminal (CI logs, editor tasks): BuildKit's plain display, as
		// `docker build` prints it.
		s.wiring.progress = build.ProgressPlain
	}
	return s, nil
}

// loadConfig loads devloop.yaml with the requested profiles. Every problem is a
// usage error (exit 2). It makes g.filename absolute first, so that every
// file:line an editor reads is, whatever the working directory of the task that
// ran devloop.
func loadConfig(g *globalFlags) (*config.Config, error) {
	if abs, err := filepath.Abs(g.filename); err == nil {
		g.filename = abs
	}
	cfg, err := config.Load(g.filename, g.profiles...)
	if err == nil {
		return cfg, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("no config: %s does not exist (use -f to name another file)", g.filename)
	}
	return nil, usageError{err}
}

// engine makes the Engine for the session.
func (s *session) engine(ctx context.Context, opts loop.Options) (*loop.Engine, error) {
	opts.NewStages = s.wiring.stages
	opts.Sink = s.sink
	if !s.wiring.buildOnly {
		if p, err := loop.DefaultStatePath(s.cfg.Name); err == nil {
			opts.State = loop.NewStateStore(p)
		}
	}
	e, err := loop.New(ctx, s.cfg, opts)
	if err != nil {
		return nil, classify(err)
	}
	return e, nil
}

// done finishes the output and marks an error the printer already showed, so
// Main does not print it twice.
func (s *session) done(err error) error {
	if s.printer != nil {
		s.printer.Flush()
	}
	if err == nil {
		return nil
	}
	err = classify(err)
	var u usageError
	if s.printer != nil && !errors.As(err, &u) {
		return reportedError{err}
	}
	return err
}

// reportedError is an error the events already showed to the user.
type reportedError struct{ err error }

func (r reportedError) Error() string { return r.err.Error() }
func (r reportedError) Unwrap() error { return r.err }

func checkArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
