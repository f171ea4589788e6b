package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/devloop/devloop/pkg/config"
	"github.com/devloop/devloop/pkg/deploy"
)

// classify marks the errors that are the user's input being wrong (exit 2): a bad
// devloop.yaml and a kube context devloop refuses.
func classify(err error) error {
	var u usageError
	var nl *deploy.NonLocalContextError
	switch {
	case err == nil, errors.As(err, &u):
		return err
	case len(config.Errors(err)) > 0, errors.As(err, &nl):
		return usageError{err}
	}
	return err
}

// printError prints err for a person. Config problems are printed one per line as
// "file:line:column: error: message" so editors' problem matchers find them.
func printError(w io.Writer, err error) {
	if ces := config.Errors(err); len(ces) > 0 {
		for _, ce := range ces {
			fmt.Fprintln(w, positioned(ce.File, ce.Line, ce.Column, ce.Detail()))
		}
		return
	}
	fmt.Fprintf(w, "devloop: %s\n", indentTail(err.Error()))
}
