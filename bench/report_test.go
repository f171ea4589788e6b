package bench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkGolden compares got with testdata/name; UPDATE_GOLDEN=1 rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), run with UPDATE_GOLDEN=1 if intended:\n%s", name, diff)
	}
}

func secs(fs ...float64) []time.Duration {
	var ds []time.Duration
	for _, f := range fs {
		ds = append(ds, time.Duration(f*float64(time.Second)))
	}
	return ds
}

func sampleReport() *Report {
	const image = 170_000_000
	return &Report{
		Started:  time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		Duration: 4*time.Minute + 10*time.Second,
		Machine:  Machine{CPUs: 2, MemBytes: 24 << 30, Kernel: "6.1.0", Go: "go1.26.8", LoadStart: "1.00 2.00 3.00", LoadEnd: "2.00 2.00 3.00"},
		Setup:    []string{"image: a test image"},
		Rows: []Row{
			{Scenario: "kind node, one-line change", Tool: "devloop", Samples: secs(0.41, 0.38, 0.52), Moved: 9100, Of: image},
			{Scenario: "kind node, one-line change", Tool: "kind load docker-image", Samples: secs(10.2, 9.8, 11.5), Moved: 219_800_000, Of: image},
			{Scenario: "kind node, one-line change", Tool: "broken peer", Samples: secs(3), Moved: unknownBytes, Of: image, Err: errors.New("exit status 1")},
			{Scenario: "docker daemon, one-line rebuild in place", Tool: "devloop", Samples: secs(0.3), Moved: unknownBytes, Note: "a note"},
			{Scenario: "docker daemon, one-line rebuild in place", Tool: "docker build", Samples: secs(0.2), Moved: 150_000_000},
		},
		Facts:   []Fact{{"watcher", "idle CPU", "0.02%"}, {"watcher", "inotify watches", "203"}},
		Skipped: []string{"dev: no devloop binary"},
	}
}

func TestReportWrite(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().Write(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.golden", b.String())
}

func TestRatios(t *testing.T) {
	base := Row{Samples: secs(0.5), Moved: 1000}
	tests := []struct {
		name       string
		r          Row
		time, byts string
	}{
		{"peer slower and heavier", Row{Samples: secs(12.5), Moved: 200_000_000}, "25.0× faster", "200000× fewer"},
		{"peer faster and lighter", Row{Samples: secs(0.25), Moved: 500}, "2.00× slower", "2.00× more"},
		{"peer without samples", Row{Moved: unknownBytes}, "—", "—"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := timeRatio(base, tc.r); got != tc.time {
				t.Errorf("timeRatio() = %q, want %q", got, tc.time)
			}
			if got := bytesRatio(base, tc.r); got != tc.byts {
				t.Errorf("bytesRatio() = %q, want %q", got, tc.byts)
			}
		})
	}
	if got := bytesRatio(Row{Moved: 0}, Row{Moved: 5_000_000}); got != "none vs 5.0 MB" {
		t.Errorf("bytesRatio(nothing moved) = %q", got)
	}
}

func TestUnits(t *testing.T) {
	bytesCases := map[int64]string{-1: "—", 0: "0 B", 999: "999 B", 9100: "9.1 KB", 219_800_000: "219.8 MB", 3_100_000_000: "3.10 GB"}
	for n, want := range bytesCases {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	pctCases := []struct {
		n, of int64
		want  string
	}{{9100, 170_000_000, "0.0054%"}, {1_700_000, 170_000_000, "1.00%"}, {219_800_000, 170_000_000, "129%"}, {5, 0, ""}, {unknownBytes, 10, ""}}
	for _, c := range pctCases {
		if got := percent(c.n, c.of); got != c.want {
			t.Errorf("percent(%d, %d) = %q, want %q", c.n, c.of, got, c.want)
		}
	}
	secCases := map[time.Duration]string{412 * time.Millisecond: "0.412s", 10200 * time.Millisecond: "10.20s", 250 * time.Second: "250s"}
	for d, want := range secCases {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestReplaceBlock(t *testing.T) {
	doc := "# Benchmarks\nprose\n" + recordBegin + "\nold output\n" + recordEnd + "\nmore prose\n"
	got, err := replaceBlock(doc, recordBegin+"\nnew\n"+recordEnd)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\nprose\n" + recordBegin + "\nnew\n" + recordEnd + "\nmore prose\n"
	if got != want {
		t.Errorf("replaceBlock() = %q, want %q", got, want)
	}
	if _, err := replaceBlock("no markers", "x"); err == nil {
		t.Error("replaceBlock(without markers) = nil error, want one")
	}
}

func TestParseMemTotal(t *testing.T) {
	if got := parseMemTotal("MemFree: 5 kB\nMemTotal:       24568312 kB\n"); got != 24568312*1024 {
		t.Errorf("parseMemTotal() = %d", got)
	}
	if got := parseMemTotal("garbage"); got != 0 {
		t.Errorf("parseMemTotal(garbage) = %d, want 0", got)
	}
}
