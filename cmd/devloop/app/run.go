package app

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/loop"
)

type runFlags struct {
	deployFlags
	noWait  bool
	timeout time.Duration
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
			opts := f.options()
			opts.NoWait, opts.Timeout = f.noWait, f.timeout
			return runPipeline(cmd, g, pipeline{opts: opts}, func(_ *session, e *loop.Engine) error { return e.Run(cmd.Context()) })
		},
	}
	f.add(cmd, false, " once ready, until interrupted")
	fl := cmd.Flags()
	fl.BoolVar(&f.noWait, "no-wait", false, "do not wait for the rollouts")
	fl.DurationVar(&f.timeout, "timeout", 0, "how long to wait for the rollouts (default: the config's deploy.rolloutTimeout, 5m)")
	return cmd
}
