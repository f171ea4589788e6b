package loop

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// explainKube adds what to do to an error of the deploy or rollout phase that
// says the Kubernetes API server could not be reached: client-go's own message
// ("dial tcp 127.0.0.1:6443: connect: connection refused") names an address,
// not the component, and not the cure.
func (e *Engine) explainKube(err error) error {
	if err == nil || !unreachable(err) {
		return err
	}
	return fmt.Errorf("%w: cannot reach the Kubernetes API server at %s (context %s): is the cluster running?",
		err, e.stages.Kube.Server, e.stages.Kube.Name)
}

// unreachable reports whether err is a failure to connect, not an answer.
func unreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
