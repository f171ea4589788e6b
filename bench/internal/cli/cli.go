// Package cli is devloop-bench's command line: flags in, a bench.Config out, the
// report on stdout, progress on stderr.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/devloop/devloop/bench"
	"github.com/devloop/devloop/internal/testbed"
)

// testbedKind is where hack/testbed/lib/build.sh kind puts the kind binary.
const testbedKind = "/var/cache/devloop-testbed/bin/kind"

// Run parses args, runs the benchmark and prints its report to stdout. It returns
// an error only when something failed, never because of a timing.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devloop-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small and fast: a ~20 MB image, 1 run each, a small tree (what CI runs)")
	runs := fs.Int("runs", 0, "timed runs per tool and scenario (default 3, or 1 with -quick)")
	only := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(bench.Scenarios(), ","))
	kind := fs.String("kind", "", "kind binary (default: kind on PATH, else "+testbedKind+"); \"none\" leaves kind out")
	devloop := fs.String("devloop", "", "devloop binary for the dev scenario (default: skip it)")
	devRuns := fs.Int("dev-runs", 0, "one-line changes timed by the dev scenario (default 5, or 1 with -quick)")
	example := fs.String("example", "examples/flask-redis", "example project the dev scenario copies and edits")
	base := fs.String("base", "", "base image of the benchmark image (default python:3.11-slim, busybox:latest with -quick)")
	assetMB := fs.Int("asset-mb", 0, "MiB of the large asset layer (default 128, or 16 with -quick)")
	vendorMB := fs.Int("vendor-mb", 0, "MiB of the dependencies layer (default 16, or 2 with -quick)")
	tmp := fs.String("tmp", "", "parent of the temporary directory (default $TMPDIR)")
	record := fs.String("record", "", "also write the report into this markdown file (BENCHMARKS.md) between its markers")
	command := fs.String("command", "", "the command line to record with the report (default: this one)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	env, ok := testbed.FromEnviron()
	if !ok {
		return errors.New(`the test bed is not set up in this shell: hack/testbed/testbed up && eval "$(hack/testbed/testbed env)"`)
	}
	cfg := bench.DefaultConfig(env, *quick)
	cfg.Log = stderr
	if *quiet {
		cfg.Log = io.Discard
	}
	setInt(&cfg.Runs, *runs)
	setInt(&cfg.DevRuns, *devRuns)
	setInt(&cfg.AssetMB, *assetMB)
	setInt(&cfg.VendorMB, *vendorMB)
	if *base != "" {
		cfg.Base = *base
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	cfg.Kind = findKind(*kind)
	cfg.Devloop = *devloop
	cfg.DevExample = *example
	cfg.TempDir = *tmp

	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		if cfg.Kind == "" {
			rep.Skipped = append(rep.Skipped, "kind load docker-image: no kind binary (hack/testbed/lib/build.sh kind)")
		}
		if werr := rep.Write(stdout); werr != nil {
			err = errors.Join(err, werr)
		}
		switch {
		case *record != "" && err != nil:
			fmt.Fprintf(stderr, "not recorded in %s: the run failed\n", *record)
		case *record != "":
			cmd := *command
			if cmd == "" {
				cmd = strings.Join(append([]string{"devloop-bench"}, args...), " ")
			}
			if rerr := bench.Record(*record, cmd, rep); rerr != nil {
				err = errors.Join(err, rerr)
			} else {
				fmt.Fprintf(stderr, "recorded in %s\n", *record)
			}
		}
	}
	return err
}

func setInt(dst *int, v int) {
	if v > 0 {
		*dst = v
	}
}

// findKind resolves the -kind flag to a binary, or "" when there is none.
func findKind(flagValue string) string {
	switch flagValue {
	case "none":
		return ""
	case "":
		if p, err := exec.LookPath("kind"); err == nil {
			return p
		}
		if _, err := os.Stat(testbedKind); err == nil {
			return testbedKind
		}
		return ""
	default:
		return flagValue
	}
}
