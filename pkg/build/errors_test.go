package build

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

const testDockerfile = "FROM busybox\n" +
	"WORKDIR /app\n" +
	"COPY . .\n" +
	"RUN echo one && \\\n" +
	"    echo two\n" +
	"ENV A=b\n" +
	"RUN false\n"

func sourceErr(err error, line int32) error {
	return errdefs.WithSource(err, &errdefs.Source{
		Info:   &pb.SourceInfo{Filename: "Dockerfile", Data: []byte(testDockerfile), Language: "Dockerfile"},
		Ranges: []*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}},
	})
}

// failingTracker has seen vertex fail after printing two lines.
func failingTracker(vertex digest.Digest, name string) *tracker {
	tr := newTracker("app")
	tr.update(&client.SolveStatus{
		Vertexes: []*client.Vertex{{Digest: vertex, Name: name, Completed: &time.Time{}, Error: "exit code: 1"}},
		Logs:     []*client.VertexLog{{Vertex: vertex, Data: []byte("about to fail\nfailing now\n")}},
	})
	return tr
}

func TestNewBuildError(t *testing.T) {
	vertex := digest.FromString("run false")
	exit := errors.New(`process "/bin/sh -c false" did not complete successfully: exit code: 1`)
	for _, tc := range []struct {
		name string
		err  error
		tr   *tracker
		want *BuildError
		text string
	}{{
		name: "failing RUN with its vertex",
		err:  fmt.Errorf("failed to solve: %w", sourceErr(errdefs.WrapVertex(exit, vertex), 7)),
		tr:   failingTracker(vertex, "[3/3] RUN false"),
		want: &BuildError{
			Artifact: "app", File: "/src/app/Dockerfile", Line: 7, Column: 1, Step: "RUN false",
			Msg:  `process "/bin/sh -c false" did not complete successfully: exit code: 1`,
			Logs: []string{"about to fail", "failing now"},
		},
		text: "/src/app/Dockerfile:7: RUN false: process \"/bin/sh -c false\" did not complete successfully: exit code: 1\n" +
			"    about to fail\n    failing now",
	}, {
		name: "vertex known only from the status stream",
		err:  fmt.Errorf("failed to solve: %w", sourceErr(exit, 7)),
		tr:   failingTracker(vertex, "[3/3] RUN false"),
		want: &BuildError{
			Artifact: "app", File: "/src/app/Dockerfile", Line: 7, Column: 1, Step: "RUN false",
			Msg:  `process "/bin/sh -c false" did not complete successfully: exit code: 1`,
			Logs: []string{"about to fail", "failing now"},
		},
	}, {
		name: "multi-line step shows its first line",
		err:  sourceErr(errors.New("exit code: 2"), 4),
		want: &BuildError{
			Artifact: "app", File: "/src/app/Dockerfile", Line: 4, Column: 1, Step: "RUN echo one &&",
			Msg: "exit code: 2",
		},
	}, {
		name: "syntax error located by BuildKit",
		err: fmt.Errorf("failed to solve: %w", sourceErr(errors.New(
			"dockerfile parse error on line 6: unknown instruction: ENVV"), 6)),
		want: &BuildError{
			Artifact: "app", File: "/src/app/Dockerfile", Line: 6, Column: 1, Step: "ENV A=b",
			Msg: "dockerfile parse error on line 6: unknown instruction: ENVV",
		},
		text: "/src/app/Dockerfile:6: ENV A=b: dockerfile parse error on line 6: unknown instruction: ENVV",
	}, {
		name: "syntax error from Docker 20.10, located from the message",
		err:  errors.New("failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 6: unknown instruction: ENVV"),
		want: &BuildError{
			Artifact: "app", File: "/src/app/Dockerfile", Line: 6, Column: 1, Step: "ENV A=b",
			Msg: "dockerfile parse error line 6: unknown instruction: ENVV",
		},
	}, {
		name: "step failure from Docker 20.10, located from the failing step",
		err:  errors.New(`failed to compute cache key: "/missing.txt" not found: not found`),
		tr:   failingTracker(vertex, "[2/3] COPY . ."),
		want: &BuildError{
			Artifact: "app", File: "/src/app/Dockerfile", Line: 3, Column: 1, Step: "COPY . .",
			Msg:  `failed to compute cache key: "/missing.txt" not found: not found`,
			Logs: []string{"about to fail", "failing now"},
		},
	}, {
		name: "no location",
		err:  errors.New("failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory"),
		want: &BuildError{Artifact: "app", Msg: "failed to read dockerfile: open Dockerfile: no such file or directory"},
		text: "failed to read dockerfile: open Dockerfile: no such file or directory",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := newBuildError("app", "/src/app/Dockerfile", []byte(testDockerfile), tc.err, tc.tr)
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(BuildError{})); diff != "" {
				t.Errorf("newBuildError() mismatch (-want +got):\n%s", diff)
			}
			if tc.text != "" && got.Error() != tc.text {
				t.Errorf("newBuildError().Error() = %q, want %q", got.Error(), tc.text)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("errors.Is(newBuildError(err), err) = false, want true")
			}
		})
	}
}

func TestBuildErrorUnwrapsCancellation(t *testing.T) {
	err := newBuildError("app", "Dockerfile", nil, fmt.Errorf("failed to solve: %w", context.Canceled), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false, want true", err)
	}
}

func TestSourceLine(t *testing.T) {
	long := "RUN echo " + strings.Repeat("x", 100)
	for _, tc := range []struct {
		data string
		n    int
		want string
	}{
		{data: testDockerfile, n: 1, want: "FROM busybox"},
		{data: testDockerfile, n: 0, want: ""},
		{data: testDockerfile, n: 99, want: ""},
		{data: "  RUN a \\\n b", n: 1, want: "RUN a"},
		{data: long, n: 1, want: long[:79] + "…"},
	} {
		if got := sourceLine(tc.data, tc.n); got != tc.want {
			t.Errorf("sourceLine(%q, %d) = %q, want %q", tc.data, tc.n, got, tc.want)
		}
	}
}
