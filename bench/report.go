package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is one benchmark run: where it ran, with what, and what it found.
type Report struct {
	Started  time.Time
	Duration time.Duration
	Machine  Machine
	// Setup describes the fixtures, one line each (image sizes, runs).
	Setup []string
	// Rows are the timed results; the first row of each scenario is devloop's and
	// the others are compared with it.
	Rows []Row
	// Facts are results that are not timings of a tool (the watcher's), as
	// name/value pairs per section.
	Facts []Fact
	// Skipped says which scenarios did not run and why.
	Skipped []string
}

// Fact is one measured value that is not a tool's time, such as the watcher's
// idle CPU.
type Fact struct {
	Section, Name, Value string
}

// Write prints the report as plain text: the header, the table with ratios, the
// remarks and the facts.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "devloop benchmark, %s (took %s)\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Duration.Round(time.Second))
	fmt.Fprintf(&b, "machine: %s\n", r.Machine)
	for _, s := range r.Setup {
		fmt.Fprintf(&b, "%s\n", s)
	}
	if len(r.Rows) > 0 {
		b.WriteString("\n")
		writeTable(&b, r.Rows)
		notes := remarks(r.Rows)
		if len(notes) > 0 {
			b.WriteString("\n")
			for _, n := range notes {
				fmt.Fprintf(&b, "%s\n", n)
			}
		}
	}
	section := ""
	for _, f := range r.Facts {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(&b, "\n%s:\n", section)
		}
		fmt.Fprintf(&b, "  %-34s %s\n", f.Name, f.Value)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\nnot run:\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable prints the rows; each scenario's first row is the baseline the
// others' ratios are relative to.
func writeTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ttool\tmedian\tmin–max\truns\tmoved\tof image\tdevloop: time\tdevloop: bytes")
	var base Row
	for i, r := range rows {
		scenario := r.Scenario
		first := i == 0 || rows[i-1].Scenario != r.Scenario
		if first {
			base = r
		} else {
			scenario = ""
		}
		ratioT, ratioB := "—", "—"
		if !first {
			ratioT = timeRatio(base, r)
			ratioB = bytesRatio(base, r)
		}
		runs := fmt.Sprint(len(r.Samples))
		if r.Err != nil {
			runs += " (failed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", scenario, r.Tool, medianText(r), spread(r),
			runs, humanBytes(r.Moved), percent(r.Moved, r.Of), ratioT, ratioB)
	}
	tw.Flush()
}

// remarks lists the rows' notes and errors, numbered by scenario and tool.
func remarks(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if r.Note != "" {
			out = append(out, fmt.Sprintf("* %s / %s: %s", r.Scenario, r.Tool, r.Note))
		}
		if r.Err != nil {
			out = append(out, fmt.Sprintf("! %s / %s failed: %v", r.Scenario, r.Tool, r.Err))
		}
	}
	return out
}

func medianText(r Row) string {
	if len(r.Samples) == 0 {
		return "—"
	}
	return seconds(r.Median())
}

func spread(r Row) string {
	if len(r.Samples) < 2 {
		return ""
	}
	lo, hi := r.Samples[0], r.Samples[0]
	for _, s := range r.Samples {
		lo, hi = min(lo, s), max(hi, s)
	}
	return seconds(lo) + "–" + seconds(hi)
}

// timeRatio says how many times faster devloop (base) was than r.
func timeRatio(base, r Row) string {
	if len(base.Samples) == 0 || len(r.Samples) == 0 || base.Median() <= 0 {
		return "—"
	}
	x := float64(r.Median()) / float64(base.Median())
	if x >= 1 {
		return ratio(x) + " faster"
	}
	return ratio(1/x) + " slower"
}

// bytesRatio says how many times fewer bytes devloop (base) moved than r.
func bytesRatio(base, r Row) string {
	if base.Moved < 0 || r.Moved < 0 {
		return "—"
	}
	if base.Moved == 0 {
		if r.Moved == 0 {
			return "same"
		}
		return "none vs " + humanBytes(r.Moved)
	}
	x := float64(r.Moved) / float64(base.Moved)
	if x >= 1 {
		return ratio(x) + " fewer"
	}
	return ratio(1/x) + " more"
}

func ratio(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	default:
		return fmt.Sprintf("%.2f×", x)
	}
}

// seconds prints a duration in seconds with a precision that suits its size.
func seconds(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 1:
		return fmt.Sprintf("%.3fs", s)
	case s < 100:
		return fmt.Sprintf("%.2fs", s)
	default:
		return fmt.Sprintf("%.0fs", s)
	}
}

// millis prints a short duration in milliseconds.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// humanBytes prints n in decimal units (1 MB = 10^6 bytes); "—" when unknown.
func humanBytes(n int64) string {
	switch {
	case n < 0:
		return "—"
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
}

// percent prints n as a share of of; empty when either is unknown.
func percent(n, of int64) string {
	if n < 0 || of <= 0 {
		return ""
	}
	p := 100 * float64(n) / float64(of)
	switch {
	case p == 0:
		return "0%"
	case p < 0.01:
		return fmt.Sprintf("%.4f%%", p)
	case p < 10:
		return fmt.Sprintf("%.2f%%", p)
	default:
		return fmt.Sprintf("%.0f%%", p)
	}
}
