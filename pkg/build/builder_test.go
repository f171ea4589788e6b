package build

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/devloop/devloop/pkg/sideload"
)

func TestAwaitCanceledWhileWaitingForBase(t *testing.T) {
	b := &Builder{opts: Options{}.withDefaults()}
	results := make([]Result, 2)
	done := []chan struct{}{make(chan struct{}), make(chan struct{})} // the base never finishes
	p := specPlan{key: "app", inSet: []int{1}, deps: []dependency{{artifact: "base", contextName: "base"}}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)

	r := b.await(ctx, Spec{Name: "app"}, p, results, done, make(chan struct{}, 1), &display{done: make(chan struct{})})
	if !errors.Is(r.Err, context.Canceled) {
		t.Errorf("await() error = %v, want context.Canceled", r.Err)
	}
}

func TestAwaitSkipsWhenBaseFailed(t *testing.T) {
	b := &Builder{opts: Options{}.withDefaults()}
	results := []Result{{}, {Artifact: "base", Err: errors.New("boom")}}
	done := []chan struct{}{make(chan struct{}), make(chan struct{})}
	close(done[1])
	p := specPlan{key: "app", inSet: []int{1}, deps: []dependency{{artifact: "base", contextName: "base"}}}

	r := b.await(context.Background(), Spec{Name: "app"}, p, results, done, make(chan struct{}, 1), &display{done: make(chan struct{})})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "not built because base, which it builds FROM, failed") {
		t.Errorf("await() error = %v, want the failed base named", r.Err)
	}
}

func TestPlan(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a/Dockerfile": "FROM b\nFROM c\n",
		"b/Dockerfile": "FROM c\n",
		"c/Dockerfile": "FROM scratch\n",
		"x/Dockerfile": "FROM y\n",
		"y/Dockerfile": "FROM x\n",
	})
	b := &Builder{last: map[string]sideload.Image{"old": {}}}
	plans, err := b.plan([]Spec{{Name: "a", Context: dir + "/a"}, {Name: "b", Context: dir + "/b"}, {Name: "c", Context: dir + "/c"}})
	if err != nil {
		t.Fatalf("plan() error = %v", err)
	}
	if got := plans[0].inSet; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("plan(a).inSet = %v, want [1 2]", got)
	}
	if _, err := b.plan([]Spec{{Name: "x", Context: dir + "/x"}, {Name: "y", Context: dir + "/y"}}); err == nil || !strings.Contains(err.Error(), "depend on each other") {
		t.Errorf("plan(cycle) error = %v, want a cycle", err)
	}
	writeFiles(t, dir, map[string]string{"n/Dockerfile": "FROM old\n"})
	plans, err = b.plan([]Spec{{Name: "n", Context: dir + "/n"}})
	if err != nil || len(plans[0].outside) != 1 || plans[0].outside[0] != "old" {
		t.Errorf("plan(n) = %+v, %v, want the earlier build of old used", plans, err)
	}
}
