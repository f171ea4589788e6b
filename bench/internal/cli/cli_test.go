package cli

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		testbed string
		args    []string
		want    string
	}{
		{"unknown flag", "1", []string{"-nope"}, "flag provided but not defined"},
		{"stray argument", "1", []string{"kind"}, `unexpected arguments ["kind"]`},
		{"no test bed", "", nil, "the test bed is not set up"},
		{"unknown scenario", "1", []string{"-only", "kind,minikube"}, `unknown scenario "minikube"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DEVLOOP_TESTBED", tc.testbed)
			var stdout strings.Builder
			err := Run(context.Background(), tc.args, &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("Run(%q) printed %q on stdout, want nothing", tc.args, stdout.String())
			}
		})
	}
}

func TestFindKind(t *testing.T) {
	if got := findKind("none"); got != "" {
		t.Errorf(`findKind("none") = %q, want ""`, got)
	}
	if got := findKind("/opt/kind"); got != "/opt/kind" {
		t.Errorf(`findKind("/opt/kind") = %q`, got)
	}
}
