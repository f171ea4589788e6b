package app

import (
	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/loop"
)

type devFlags struct {
	deployFlags
	cleanup bool
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
			opts := f.options()
			opts.Cleanup = f.cleanup
			opts.Reload = func() (*config.Config, error) { return config.Load(g.filename, g.profiles...) }
			return runPipeline(cmd, g, pipeline{opts: opts, dev: true}, func(_ *session, e *loop.Engine) error { return e.Dev(cmd.Context()) })
		},
	}
	f.add(cmd, true, ", following new pods")
	cmd.Flags().BoolVar(&f.cleanup, "cleanup", false, "delete what devloop applied when stopping")
	return cmd
}
