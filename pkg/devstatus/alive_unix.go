//go:build unix

package devstatus

import (
	"errors"
	"syscall"
)

// alive sends signal 0: no error, or EPERM (someone else's process), means it runs.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
