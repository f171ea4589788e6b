package loop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is bumped when State's shape changes; a file of another version is
// ignored (the next run rebuilds and re-applies, then overwrites it).
const stateVersion = 1

// State is what devloop remembers between runs of one project, per target
// (kube context, namespace and sideload target), so that a second `devloop run`
// with nothing changed builds, loads and applies nothing.
type State struct {
	Version int                     `json:"version"`
	Targets map[string]*TargetState `json:"targets,omitempty"`
}

// TargetState is the memory for one target.
type TargetState struct {
	// Builds holds, per artifact, the image last built and the hash of the inputs
	// it was built from.
	Builds map[string]BuildState `json:"builds,omitempty"`
	// Applied is the last successful apply; nil when there was none.
	Applied *AppliedState `json:"applied,omitempty"`
}

// BuildState is one artifact's last successful build.
type BuildState struct {
	Inputs    string `json:"inputs"`
	Ref       string `json:"ref"`
	Digest    string `json:"digest"`
	LayoutDir string `json:"layoutDir,omitempty"`
	InDaemon  bool   `json:"inDaemon,omitempty"`
}

// AppliedState is a successful apply: the rendered hash and the images it ran.
type AppliedState struct {
	Hash    string            `json:"hash"`
	Digests map[string]string `json:"digests"` // artifact → image digest
	Refs    map[string]string `json:"refs"`    // artifact → reference the cluster runs
	Time    time.Time         `json:"time"`
}

// StateStore keeps a State in one JSON file.
type StateStore struct {
	path string
}

// NewStateStore returns a store for the file at path; the file and its
// directory are created on the first Save.
func NewStateStore(path string) *StateStore { return &StateStore{path: path} }

// DefaultStatePath is $XDG_CACHE_HOME/devloop/<project>/state.json (the
// platform's user cache directory).
func DefaultStatePath(project string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(dir, "devloop", project, "state.json"), nil
}

// Path returns the file's path.
func (s *StateStore) Path() string { return s.path }

// Load returns the state recorded for key; an empty TargetState when there is
// none, the file is missing or it has another version.
func (s *StateStore) Load(key string) (*TargetState, error) {
	st, err := s.read()
	if err != nil {
		return &TargetState{}, err
	}
	if ts := st.Targets[key]; ts != nil {
		return ts, nil
	}
	return &TargetState{}, nil
}

// Save records ts for key, keeping the other keys. The file is replaced
// atomically so a concurrent reader never sees half of it.
func (s *StateStore) Save(key string, ts *TargetState) error {
	st, err := s.read()
	if err != nil {
		st = &State{}
	}
	st.Version = stateVersion
	if st.Targets == nil {
		st.Targets = map[string]*TargetState{}
	}
	st.Targets[key] = ts
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".state-*.json")
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

func (s *StateStore) read() (*State, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("reading state %s: %w", s.path, err)
	}
	if st.Version != stateVersion {
		return &State{}, nil
	}
	return &st, nil
}
