package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// Exit codes, documented in the README.
const (
	ExitOK      = 0 // the work succeeded
	ExitFailure = 1 // the work failed: build, load, apply or rollout
	ExitUsage   = 2 // bad flags or a bad devloop.yaml
)

// Streams are the command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// globalFlags are the flags every command takes.
type globalFlags struct {
	filename   string
	profiles   []string
	output     string
	eventLog   string
	verbose    int
	kubeconfig string
	context    string
	namespace  string
}

// usageError marks an error as the user's input being wrong (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// Main runs devloop with args and returns the process exit code.
func Main(ctx context.Context, s Streams, args []string) int {
	root := newRoot(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var u usageError
	usage := errors.As(err, &u) || isFlagError(err)
	var r reportedError
	switch {
	case ctx.Err() != nil && !usage:
		// Whatever the stages made of the cancellation, the cause is Ctrl-C.
		fmt.Fprintln(s.Err, "interrupted")
	case !errors.As(err, &r):
		printError(s.Err, err)
	}
	if usage {
		return ExitUsage
	}
	return ExitFailure
}

func newRoot(s Streams) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "devloop",
		Short: "The Kubernetes inner loop: edit code, and seconds later it runs in your local cluster",
		Long: `devloop builds your images with BuildKit, puts them straight into your local cluster
(kind nodes, minikube's Docker, a containerd node or a local registry) moving only the
bytes that changed, applies your manifests with server-side apply and waits until the
new pods are Ready.

Exit codes: 0 success, 1 the work failed (build, load, apply, rollout), 2 usage or config error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&g.filename, "filename", "f", "devloop.yaml", "path of the devloop config")
	pf.StringSliceVarP(&g.profiles, "profile", "p", nil, "activate a profile from the config (repeatable)")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text (human progress on stderr) or json (JSON Lines events on stdout)")
	pf.StringVar(&g.eventLog, "event-log", "", "also write the JSON Lines events to this file (docs/events.md), whatever --output says")
	pf.CountVarP(&g.verbose, "verbose", "v", "more detail (repeat for more)")
	pf.StringVar(&g.kubeconfig, "kubeconfig", "", "path of the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	pf.StringVar(&g.context, "context", "", "kube context to use (default: the current context)")
	pf.StringVarP(&g.namespace, "namespace", "n", "", "namespace to deploy to (default: the config's, then the context's)")
	_ = root.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.output != "text" && g.output != "json" {
			return usagef("--output must be text or json, not %q", g.output)
		}
		quietLibraries(g.verbose)
		return nil
	}
	root.AddCommand(newVersionCmd())
	root.AddCommand(pipelineCommands(g)...)
	return root
}

// quietLibraries silences the process-wide loggers of libraries devloop uses
// (BuildKit's logrus, client-go's klog) unless -vv asks for them: libraries are
// silent by default and report through events.
func quietLibraries(verbose int) {
	if verbose >= 2 {
		return
	}
	logrus.SetOutput(io.Discard)
	klog.SetLogger(logr.Discard())
}

func isFlagError(err error) bool {
	// cobra reports unknown commands and bad args as plain errors
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// isTerminal reports whether f is a character device (a TTY).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
