package config

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{{
		name: "everything",
		err:  &Error{File: "devloop.yaml", Line: 14, Column: 14, Field: "artifacts[1].context", Msg: `directory "web" does not exist`},
		want: `devloop.yaml:14: artifacts[1].context: directory "web" does not exist`,
	}, {
		name: "no field",
		err:  &Error{File: "devloop.yaml", Line: 3, Msg: "invalid YAML: oops"},
		want: "devloop.yaml:3: invalid YAML: oops",
	}, {
		name: "no line",
		err:  &Error{File: "sub/devloop.yaml", Field: "profiles", Msg: `no profile named "x"`},
		want: `sub/devloop.yaml: profiles: no profile named "x"`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	a := &Error{File: "f", Line: 1, Msg: "a"}
	b := &Error{File: "f", Line: 2, Msg: "b"}
	tests := []struct {
		name string
		err  error
		want []*Error
	}{
		{name: "nil", err: nil, want: nil},
		{name: "single", err: a, want: []*Error{a}},
		{name: "joined", err: errors.Join(a, b), want: []*Error{a, b}},
		{name: "wrapped join", err: fmt.Errorf("loading: %w", errors.Join(a, b)), want: []*Error{a, b}},
		{name: "other", err: errors.New("x"), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Errors(tc.err)); diff != "" {
				t.Errorf("Errors(%v) mismatch (-want +got):\n%s", tc.err, diff)
			}
		})
	}
}

func TestJoinErrorsSortsByPosition(t *testing.T) {
	errs := []*Error{{Line: 9, Msg: "late"}, {Line: 2, Column: 5, Msg: "b"}, {Line: 2, Column: 1, Msg: "a"}}
	got := Errors(joinErrors(errs))
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Msg)
	}
	if diff := cmp.Diff([]string{"a", "b", "late"}, msgs); diff != "" {
		t.Errorf("joinErrors order mismatch (-want +got):\n%s", diff)
	}
}
