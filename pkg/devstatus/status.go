package devstatus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// State is where a dev session is.
type State string

// The states of a session.
const (
	// StateRunning: an iteration runs, or changes arrived that an iteration
	// will pick up.
	StateRunning State = "running"
	// StateReady: the last iteration succeeded and no change waits.
	StateReady State = "ready"
	// StateFailed: the last iteration failed and no change waits.
	StateFailed State = "failed"
)

// Status is the content of the status file.
type Status struct {
	// PID is the dev process; a file whose process is gone is stale.
	PID int `json:"pid"`
	// Config is the absolute path of the devloop.yaml the session runs.
	Config    string `json:"config"`
	Iteration int    `json:"iteration"`
	State     State  `json:"state"`
	// Message is the last finished iteration's summary or error.
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// DefaultPath is $XDG_CACHE_HOME/devloop/<project>/dev-status.json (the
// platform's user cache directory), next to the project's state file.
func DefaultPath(project string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(dir, "devloop", project, "dev-status.json"), nil
}

// Read reads the status file at path.
func Read(path string) (Status, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return Status{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return st, nil
}

// write replaces the file at path atomically, so a reader never sees half of it.
func write(path string, st Status) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-status-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
