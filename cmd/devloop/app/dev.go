package app

import (
	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/loop"
)

type devFlags struct {
	cleanup, portForward, tail bool
	allow                      []string
}

func newDevCmd(g *globalFlags) *cobra.Command {
	f := &devFlags{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Deploy, then rebuild and redeploy on every change until interrupted",
		Long: `Run a first iteration like devloop run, then watch the artifacts' build contexts,
the manifests and devloop.yaml. A source change rebuilds only the artifacts it belongs
to, a manifest change re-applies without building, a devloop.yaml change reloads the
config (an invalid edit is reported and the running config stays). A change arriving
during a build cancels it and the next iteration does both.

Ctrl-C stops within two seconds and leaves the deployment running; with --cleanup it
deletes what devloop applied (only objects carrying its labels).`,
		Args: checkArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newSession(cmd, g)
			if err != nil {
				return err
			}
			defer s.close()
			s.announce(cmd.Context())
			s.wiring.allow = f.allow
			e, err := s.engine(cmd.Context(), loop.Options{
				PortForward: f.portForward,
				Tail:        f.tail,
				Cleanup:     f.cleanup,
				Reload:      func() (*config.Config, error) { return config.Load(g.filename, g.profiles...) },
			})
			if err != nil {
				return err
			}
			defer e.Close()
			return s.done(e.Dev(cmd.Context()))
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.cleanup, "cleanup", false, "delete what devloop applied when stopping")
	fl.BoolVar(&f.portForward, "port-forward", false, "forward the config's ports, following new pods")
	fl.BoolVar(&f.tail, "tail", true, "stream the deployed pods' logs, following new pods")
	fl.StringArrayVar(&f.allow, "allow-context", nil, "allow deploying to this kube context although it does not look local (repeatable)")
	return cmd
}
