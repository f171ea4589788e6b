package bench

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/internal/testbed"
)

// TestIntegrationQuick runs the quick benchmark on the test bed, as CI does, to
// prove it still works. It never fails on a timing: only on errors, missing
// rows, and a one-line change that moved the whole image (the loaders' job is to
// move only the change; a number that large means the benchmark measured the
// wrong thing).
func TestIntegrationQuick(t *testing.T) {
	env := testbed.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cfg := DefaultConfig(env, true)
	cfg.Only = []string{ScenarioKind, ScenarioDocker, ScenarioRegistry, ScenarioWatch}
	cfg.Log = testLog{t}
	if p, err := exec.LookPath("kind"); err == nil {
		cfg.Kind = p
	} else if _, err := os.Stat("/var/cache/devloop-testbed/bin/kind"); err == nil {
		cfg.Kind = "/var/cache/devloop-testbed/bin/kind"
	} else {
		t.Log("no kind binary (hack/testbed/lib/build.sh kind): kind load docker-image is left out")
	}
	rep, err := Run(ctx, cfg)
	if rep != nil {
		var b strings.Builder
		_ = rep.Write(&b)
		t.Logf("report:\n%s", b.String())
	}
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	scenarios := map[string]int{}
	for _, r := range rep.Rows {
		scenarios[r.Scenario]++
		if len(r.Samples) != cfg.Runs {
			t.Errorf("%s / %s: %d samples, want %d", r.Scenario, r.Tool, len(r.Samples), cfg.Runs)
		}
		if strings.HasPrefix(r.Tool, "devloop") && strings.Contains(r.Scenario, "one-line change") &&
			(r.Moved <= 0 || r.Moved >= r.Of/2) {
			t.Errorf("%s / %s moved %d bytes of %d, want a small part", r.Scenario, r.Tool, r.Moved, r.Of)
		}
	}
	if len(scenarios) != 5 {
		t.Errorf("scenarios %v, want 5 (kind ×2, docker ×2, registry)", scenarios)
	}
	if len(rep.Facts) == 0 {
		t.Error("no watcher facts")
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
