// Command devloop is the Kubernetes inner loop: build, sideload, deploy, watch.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/devloop/devloop/cmd/devloop/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, app.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}
