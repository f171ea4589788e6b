package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/devloop/devloop/pkg/loop"
)

func newBuildCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "build",
		Short: "Build every artifact and print the image references",
		Long: `Build every artifact of devloop.yaml with BuildKit and print one image reference
per line on stdout (with --output json, build events instead). Tags are derived from
the image content, so an unchanged rebuild prints the same references. Nothing is
loaded into a cluster or deployed.`,
		Args: checkArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPipeline(cmd, g, pipeline{buildOnly: true}, func(s *session, e *loop.Engine) error {
				res, err := e.Build(cmd.Context())
				if err != nil {
					return err
				}
				if s.printer != nil {
					s.printer.Flush()
				}
				if !s.json {
					for _, r := range res {
						fmt.Fprintln(cmd.OutOrStdout(), r.Image.Ref.String())
					}
				}
				return nil
			})
		},
	}
}
