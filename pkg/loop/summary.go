package loop

import (
	"fmt"
	"strings"
	"time"
)

// timings are what an iteration did and how long each phase took.
type timings struct {
	build, load, apply, rollout time.Duration
	built, reused, loaded       int
	applied                     int
	bytes                       int64
	nothingChanged, waited      bool
}

// summary is the iteration's one line:
//
//	iteration 3: app.py → build 0.6s, load 0.3s (12 KB), apply 0.1s, rollout 2.1s
func (t timings) summary(n int, files []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "iteration %d: ", n)
	if len(files) > 0 {
		b.WriteString(fileList(files, 3) + " → ")
	}
	var parts []string
	if t.built > 0 {
		parts = append(parts, "build "+seconds(t.build))
	}
	if t.nothingChanged {
		parts = append(parts, t.nothingChangedMessage())
	} else {
		if t.loaded > 0 {
			parts = append(parts, fmt.Sprintf("load %s (%s)", seconds(t.load), Bytes(t.bytes)))
		}
		if t.applied > 0 {
			parts = append(parts, "apply "+seconds(t.apply))
		}
	}
	if t.waited {
		parts = append(parts, "rollout "+seconds(t.rollout))
	}
	if len(parts) == 0 {
		parts = append(parts, "built")
	}
	b.WriteString(strings.Join(parts, ", "))
	return b.String()
}

// nothingChangedMessage says which phases were skipped because nothing changed.
func (t timings) nothingChangedMessage() string {
	if t.built == 0 {
		return "nothing changed: no build, no load, no apply"
	}
	return "nothing changed: no load, no apply"
}

// fileList shows up to n names and how many more there are.
func fileList(files []string, n int) string {
	if len(files) <= n {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:n], ", "), len(files)-n)
}

// seconds shows a duration the way phase lines do: "0.6s", "12.3s", "1m5s".
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// Bytes shows a byte count for humans, in decimal units: "512 B", "12 KB", "3.4 MB".
func Bytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.0f KB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
