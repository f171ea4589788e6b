package app

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/loop"
)

type runFlags struct {
	tail, portForward, noWait bool
	timeout                   time.Duration
	allow                     []string
}

func newRunCmd(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Build, load, deploy and wait until every workload is ready, once",
		Long: `Build every artifact, load the images into the cluster, apply the manifests with
the new image references, prune the project's objects that left them, and wait until
every workload is ready. Running it again with nothing changed builds, loads and applies
nothing.

With --port-forward or --tail it then keeps forwarding ports and streaming logs until
interrupted.

Exit codes: 0 ready, 1 the build, load, apply or rollout failed, 2 usage or config error.`,
		Args: checkArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newSession(cmd, g)
			if err != nil {
				return err
			}
			defer s.close()
			s.wiring.allow = f.allow
			e, err := s.engine(cmd.Context(), loop.Options{
				NoWait:      f.noWait,
				Timeout:     f.timeout,
				PortForward: f.portForward,
				Tail:        f.tail,
			})
			if err != nil {
				return err
			}
			defer e.Close()
			return s.done(e.Run(cmd.Context()))
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.tail, "tail", false, "stream the deployed pods' logs once ready, until interrupted")
	fl.BoolVar(&f.portForward, "port-forward", false, "forward the config's ports once ready, until interrupted")
	fl.BoolVar(&f.noWait, "no-wait", false, "do not wait for the rollouts")
	fl.DurationVar(&f.timeout, "timeout", 0, "how long to wait for the rollouts (default: the config's deploy.rolloutTimeout, 5m)")
	fl.StringArrayVar(&f.allow, "allow-context", nil, "allow deploying to this kube context although it does not look local (repeatable)")
	return cmd
}
