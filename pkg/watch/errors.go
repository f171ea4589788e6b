package watch

import "fmt"

// Kernel limits a LimitError can name, with the value its hint suggests.
const (
	SysctlMaxUserWatches   = "fs.inotify.max_user_watches"
	SysctlMaxUserInstances = "fs.inotify.max_user_instances"
)

// LimitError reports that the kernel refused an inotify resource. For watches
// (ENOSPC) the watcher keeps running with the watches it got and reports the error
// once through Options.Warn; changes below the unwatched directories are missed. For
// instances (EMFILE) New fails with it.
type LimitError struct {
	Sysctl  string // SysctlMaxUserWatches or SysctlMaxUserInstances
	Path    string // the directory that could not be watched, if any
	Watches int    // watches this watcher held at the time
	Err     error  // the kernel's error
}

// Error describes the limit and how to raise it, on one line.
func (e *LimitError) Error() string {
	if e.Sysctl == SysctlMaxUserInstances {
		return fmt.Sprintf("inotify instance limit reached: %v; raise it with `%s`", e.Err, e.Hint())
	}
	return fmt.Sprintf("inotify watch limit reached watching %s (%d watches in use), changes in unwatched directories will be missed; raise it with `%s`",
		e.Path, e.Watches, e.Hint())
}

// Unwrap returns the kernel's error.
func (e *LimitError) Unwrap() error { return e.Err }

// Hint returns the command that raises the limit.
func (e *LimitError) Hint() string {
	if e.Sysctl == SysctlMaxUserInstances {
		return "sudo sysctl " + SysctlMaxUserInstances + "=512"
	}
	return "sudo sysctl " + SysctlMaxUserWatches + "=524288"
}
