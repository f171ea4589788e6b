package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine is what the numbers depend on: the benchmark prints it with them.
type Machine struct {
	CPUs     int
	MemBytes int64
	Kernel   string
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15 minute averages when
	// the benchmark started and ended: on a shared machine they say how noisy the
	// run was.
	LoadStart, LoadEnd string
	Go                 string
}

// readMachine reads the machine's description from /proc; what it cannot read
// stays empty.
func readMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadStart: loadAvg()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemBytes = parseMemTotal(string(b))
	}
	return m
}

// loadAvg returns the three load averages of /proc/loadavg, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// parseMemTotal reads MemTotal (kB) from /proc/meminfo's text.
func parseMemTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// String describes the machine on one line.
func (m Machine) String() string {
	s := fmt.Sprintf("%d CPUs, %.1f GiB RAM, Linux %s, %s; load average %s at start",
		m.CPUs, float64(m.MemBytes)/(1<<30), m.Kernel, m.Go, m.LoadStart)
	if m.LoadEnd != "" {
		s += ", " + m.LoadEnd + " at end"
	}
	return s
}
