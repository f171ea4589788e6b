package app

import "github.com/spf13/cobra"

// pipelineCommands are the commands that run devloop's stages.
func pipelineCommands(g *globalFlags) []*cobra.Command {
	return nil
}
