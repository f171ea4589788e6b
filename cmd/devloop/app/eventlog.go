package app

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/event"
)

// machineSink returns the sink of the JSON Lines streams the flags ask for:
// stdout with --output json, the file with --event-log, both, or nil. Each stream
// starts with its own schemaVersion.
func (s *session) machineSink(cmd *cobra.Command, g *globalFlags) (event.Sink, error) {
	var sinks event.Multi
	if g.output == "json" {
		sinks = append(sinks, event.NewJSONLines(cmd.OutOrStdout(), nil))
	}
	if g.eventLog != "" {
		// Truncated: one file holds one stream, as stdout does.
		f, err := os.OpenFile(g.eventLog, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, usagef("--event-log: %v", err)
		}
		s.closers = append(s.closers, f)
		sinks = append(sinks, event.NewJSONLines(f, nil))
	}
	switch len(sinks) {
	case 0:
		return nil, nil
	case 1:
		return sinks[0], nil
	}
	return sinks, nil
}

// sendConfigFailure reports a devloop.yaml that does not load to the JSON
// streams, one event per located problem, in iteration 0: no iteration starts.
// The human output has it from printError already.
func sendConfigFailure(ctx context.Context, sink event.Sink, file string, err error) {
	if sink == nil {
		return
	}
	ces := config.Errors(err)
	if len(ces) == 0 {
		var u usageError
		msg := err.Error()
		if errors.As(err, &u) {
			msg = u.err.Error()
		}
		sink.Send(ctx, event.Event{Phase: event.PhaseConfig, Status: event.StatusFailure, File: file, Message: msg})
		return
	}
	for _, ce := range ces {
		sink.Send(ctx, event.Event{Phase: event.PhaseConfig, Status: event.StatusFailure, File: ce.File, Line: ce.Line, Column: ce.Column, Message: ce.Detail()})
	}
}

// sendStartFailure reports to the JSON streams an error that stopped devloop
// before its first iteration: a refused kube context or a bad kubeconfig (phase
// config: the user's input), or a builder that cannot be reached (phase
// iteration). The human output has it from printError.
func (s *session) sendStartFailure(ctx context.Context, err error) {
	if s.machine == nil {
		return
	}
	phase := event.PhaseIteration
	var u usageError
	if errors.As(classify(err), &u) {
		phase = event.PhaseConfig
	}
	s.machine.Send(ctx, event.Event{Phase: phase, Status: event.StatusFailure, Message: err.Error()})
}

// close closes what the session opened (the --event-log file).
func (s *session) close() {
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
}
