// Command devloop-bench runs devloop's benchmark on the local test bed and prints
// the table of medians, bytes moved and ratios. bench/run.sh is the one command
// that prepares what it needs and runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/devloop/devloop/bench/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the benchmark cleans up; a second one kills it.
	context.AfterFunc(ctx, stop)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devloop-bench:", err)
		os.Exit(1)
	}
}
