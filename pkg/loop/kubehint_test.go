package loop

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestExplainKube(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:1/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name     string
		err      error
		wantHint bool
	}{
		{name: "nil", err: nil},
		{name: "connection refused", err: fmt.Errorf("applying: %w", refused), wantHint: true},
		{name: "reset mid-watch", err: fmt.Errorf("rollout: %w", syscall.ECONNRESET), wantHint: true},
		{name: "an answer from the server", err: errors.New(`deployments.apps "web" is forbidden`)},
	}
	e := &Engine{stages: &Stages{Kube: KubeContext{Name: "kind-dev", Server: "https://127.0.0.1:1"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.explainKube(tc.err)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("explainKube(nil) = %v, want nil", got)
				}
				return
			}
			hinted := strings.Contains(got.Error(), "cannot reach the Kubernetes API server at https://127.0.0.1:1 (context kind-dev): is the cluster running?")
			if hinted != tc.wantHint {
				t.Errorf("explainKube(%v) = %v, want hint %v", tc.err, got, tc.wantHint)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("explainKube(%v) does not wrap the error", tc.err)
			}
		})
	}
}
