package sideload

import (
	"errors"
	"testing"
)

func TestNodeGone(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{msg: "Error response from daemon: Container fd30 is not running", want: true},
		{msg: "Error: No such container: devloop-control-plane", want: true},
		{msg: `command "docker exec -i n ctr images import -" failed: exit status 137`, want: true},
		{msg: `command "docker exec -i n ctr images import -" failed: exit status 126`, want: true},
		{msg: "ctr: content digest sha256:abc: not found", want: false},
	}
	for _, tc := range tests {
		if got := nodeGone(errors.New(tc.msg)); got != tc.want {
			t.Errorf("nodeGone(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}
