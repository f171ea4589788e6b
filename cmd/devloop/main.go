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
	// The first Ctrl-C cancels ctx and devloop winds down; restoring the default
	// handling then makes a second Ctrl-C end the process at once.
	context.AfterFunc(ctx, stop)
	code := app.Main(ctx, app.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}
