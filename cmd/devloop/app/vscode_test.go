package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tasksPath is the VS Code tasks file shipped for users to copy.
const tasksPath = "../../../examples/vscode/tasks.json"

// matcher is a problem matcher of tasks.json, its regexps compiled with Go's
// RE2: they must compile in both RE2 and JavaScript, so tests can run them.
type matcher struct {
	label              string
	pattern            *regexp.Regexp
	file, line, column int
	severity, message  int
	fileLocation       []string
	background         bool
	activeAtBeginning  bool
	begins, ends       *regexp.Regexp
}

// problem is what VS Code's Problems panel shows for a matched line.
type problem struct {
	File, Severity, Message string
	Line, Column            int
}

func loadMatchers(t *testing.T) map[string]matcher {
	t.Helper()
	b, err := os.ReadFile(tasksPath)
	if err != nil {
		t.Fatal(err)
	}
	var tasks struct {
		Version string `json:"version"`
		Tasks   []struct {
			Label          string          `json:"label"`
			IsBackground   bool            `json:"isBackground"`
			ProblemMatcher json.RawMessage `json:"problemMatcher"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal(b, &tasks); err != nil {
		t.Fatalf("%s is not plain JSON: %v", tasksPath, err)
	}
	if tasks.Version != "2.0.0" {
		t.Errorf("tasks.json version = %q, want 2.0.0", tasks.Version)
	}
	out := map[string]matcher{}
	for _, task := range tasks.Tasks {
		var pm struct {
			Owner        string   `json:"owner"`
			FileLocation []string `json:"fileLocation"`
			Pattern      struct {
				Regexp                                string `json:"regexp"`
				File, Line, Column, Severity, Message int
			} `json:"pattern"`
			Background *struct {
				ActiveAtBeginning bool   `json:"activeAtBeginning"`
				BeginsPattern     string `json:"beginsPattern"`
				EndsPattern       string `json:"endsPattern"`
			} `json:"background"`
		}
		if err := json.Unmarshal(task.ProblemMatcher, &pm); err != nil || pm.Pattern.Regexp == "" {
			continue // no matcher ([]) for this task
		}
		m := matcher{
			label: task.Label, fileLocation: pm.FileLocation,
			file: pm.Pattern.File, line: pm.Pattern.Line, column: pm.Pattern.Column,
			severity: pm.Pattern.Severity, message: pm.Pattern.Message,
		}
		if m.pattern, err = regexp.Compile(pm.Pattern.Regexp); err != nil {
			t.Fatalf("%s: pattern: %v", task.Label, err)
		}
		if bg := pm.Background; bg != nil {
			if !task.IsBackground {
				t.Errorf("%s: a background matcher on a task without isBackground", task.Label)
			}
			m.background, m.activeAtBeginning = true, bg.ActiveAtBeginning
			if m.begins, err = regexp.Compile(bg.BeginsPattern); err != nil {
				t.Fatalf("%s: beginsPattern: %v", task.Label, err)
			}
			if m.ends, err = regexp.Compile(bg.EndsPattern); err != nil {
				t.Fatalf("%s: endsPattern: %v", task.Label, err)
			}
		}
		out[task.Label] = m
	}
	for _, l := range []string{"devloop: run", "devloop: dev"} {
		if _, ok := out[l]; !ok {
			t.Fatalf("tasks.json has no problem matcher for %q", l)
		}
	}
	return out
}

// match reads one line the way VS Code's single-line pattern does.
func (m matcher) match(line string) (problem, bool) {
	g := m.pattern.FindStringSubmatch(line)
	if g == nil {
		return problem{}, false
	}
	p := problem{File: g[m.file], Severity: g[m.severity], Message: g[m.message]}
	p.Line, _ = strconv.Atoi(g[m.line])
	if m.column > 0 {
		p.Column, _ = strconv.Atoi(g[m.column])
	}
	return p, true
}

// window is the output of one iteration as a background matcher sees it: the
// problems between a begin line (or the task's start) and an end line.
type window struct {
	Problems []problem
	Ended    bool
}

// collect runs output through m the way VS Code's watching problem collector
// does: a begin line opens a window (clearing the last one's problems) unless
// one is open, an end line closes the open window, other lines are problems.
func (m matcher) collect(output string) []window {
	var ws []window
	active := m.activeAtBeginning
	if active {
		ws = append(ws, window{})
	}
	for _, line := range strings.Split(output, "\n") {
		if !active && m.begins.MatchString(line) {
			active = true
			ws = append(ws, window{})
			continue
		}
		if active && m.ends.MatchString(line) {
			active = false
			ws[len(ws)-1].Ended = true
			continue
		}
		if p, ok := m.match(line); ok {
			if len(ws) == 0 {
				ws = append(ws, window{})
			}
			ws[len(ws)-1].Problems = append(ws[len(ws)-1].Problems, p)
		}
	}
	return ws
}

func TestVSCodeMatchersAgree(t *testing.T) {
	ms := loadMatchers(t)
	run, dev := ms["devloop: run"], ms["devloop: dev"]
	if run.pattern.String() != dev.pattern.String() {
		t.Errorf("the run and dev tasks match errors differently:\n%s\n%s", run.pattern, dev.pattern)
	}
	if !dev.background || !dev.activeAtBeginning {
		t.Errorf("devloop: dev: background %v, activeAtBeginning %v; want both: the first iteration prints no start line", dev.background, dev.activeAtBeginning)
	}
	for _, m := range ms {
		if len(m.fileLocation) == 0 || (m.fileLocation[0] != "absolute" && m.fileLocation[0] != "autoDetect") {
			t.Errorf("%s: fileLocation %q: devloop prints absolute paths", m.label, m.fileLocation)
		}
	}
}

// TestVSCodeDevMatcherOnPrinterOutput runs the printer's output of a dev session
// (the golden events) through the dev task's matcher, on a terminal and not.
func TestVSCodeDevMatcherOnPrinterOutput(t *testing.T) {
	dev := loadMatchers(t)["devloop: dev"]
	want := []window{
		{Ended: true}, // iteration 1
		{Ended: true, Problems: []problem{{File: "/src/web/Dockerfile", Line: 7, Column: 1, Severity: "error", Message: "RUN false: exit code 1"}}},
		{Ended: true, Problems: []problem{{File: "/src/devloop.yaml", Line: 4, Column: 5, Severity: "error", Message: `artifacts[0].context: directory "nope" does not exist (config not reloaded, the previous one keeps running)`}}},
		{Ended: true, Problems: []problem{{File: "/src/k8s/web.yaml", Line: 9, Severity: "error", Message: "document 1: yaml: line 9: mapping values are not allowed in this context"}}},
		{Ended: true, Problems: []problem{{File: "/src/k8s/web.yaml", Line: 1, Severity: "error", Message: "applying deployment/web: failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string"}}},
		{Ended: true}, // iteration 7: a failed rollout whose manifest is unknown has no file
	}
	for _, tc := range []struct {
		name string
		tty  bool
	}{{name: "plain"}, {name: "terminal", tty: true}} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &printer{out: &out, err: &out, tty: tc.tty}
			for _, e := range printerEvents() {
				p.Send(context.Background(), e)
			}
			p.Flush()
			if diff := cmp.Diff(want, dev.collect(out.String())); diff != "" {
				t.Errorf("problems per iteration (-want +got):\n%s\noutput:\n%s", diff, out.String())
			}
		})
	}
}

// TestVSCodeRunMatcherOnConfigErrors runs devloop run on broken devloop.yaml
// files and reads its real output with the run task's matcher.
func TestVSCodeRunMatcherOnConfigErrors(t *testing.T) {
	run := loadMatchers(t)["devloop: run"]
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file, content string
		want                []problem
	}{
		{
			name: "unknown field", file: "unknown.yaml",
			content: "apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    dockerFile: Dockerfile.dev\n",
			want:    []problem{{Line: 5, Column: 5, Severity: "error", Message: `artifacts[0].dockerFile: unknown field`}},
		},
		{
			name: "YAML syntax", file: "syntax.yaml",
			content: "apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: [app\n",
			want:    []problem{{Line: 3, Severity: "error", Message: "invalid YAML"}},
		},
		{
			name: "two problems", file: "two.yaml",
			content: "apiVersion: devloop.dev/v1alpha1\nkind: Config\nartifacts:\n  - image: app\n    dockerFile: x\ndeploy:\n  rolloutTimeout: soon\n",
			want: []problem{
				{Line: 5, Column: 5, Severity: "error", Message: "artifacts[0].dockerFile"},
				{Line: 7, Column: 19, Severity: "error", Message: "deploy.rolloutTimeout"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := write(tc.file, tc.content)
			// Relative -f, as from a task run in the project directory: the
			// lines must still name the file absolutely.
			t.Chdir(dir)
			code, _, stderr := runMain(t, "run", "-f", tc.file)
			if code != ExitUsage {
				t.Errorf("Main(run) = %d, want %d", code, ExitUsage)
			}
			var got []problem
			for _, l := range strings.Split(stderr, "\n") {
				if p, ok := run.match(l); ok {
					got = append(got, p)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("problems = %+v, want %d; stderr:\n%s", got, len(tc.want), stderr)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.File != path || g.Line != w.Line || (w.Column > 0 && g.Column != w.Column) || g.Severity != w.Severity || !strings.HasPrefix(g.Message, w.Message) {
					t.Errorf("problem %d = %+v, want %s:%d:%d %s %q…", i, g, path, w.Line, w.Column, w.Severity, w.Message)
				}
			}
		})
	}
}

// TestVSCodeMatchersIgnoreOtherLines keeps the matchers from catching what is
// not a devloop error: application logs, progress and iteration lines.
func TestVSCodeMatchersIgnoreOtherLines(t *testing.T) {
	dev := loadMatchers(t)["devloop: dev"]
	for _, l := range []string{
		"[web-5d8f-x2x9k] main.go:12:3: error: from the application",
		"iteration 2 failed: building web: /src/web/Dockerfile:7: RUN false: exit code 1",
		"deployment/web: failed: pod web-7d4b9c8f6d-x2x9q: container app: CrashLoopBackOff (9.4s)",
		"  deployment/web: 1/2 ready (3.1s)",
		"built web in 0.6s: web:5f2c0a1b2c3d4e5f",
	} {
		if p, ok := dev.match(l); ok {
			t.Errorf("pattern matched %q as %+v", l, p)
		}
	}
	for _, l := range []string{"iteration 2 started: app.py changed", "• iteration 2 started: app.py changed"} {
		if dev.ends.MatchString(l) {
			t.Errorf("endsPattern matched the start line %q", l)
		}
	}
}
