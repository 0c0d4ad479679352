package loadkit

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
)

// Machine describes the host a benchmark ran on.
type Machine struct {
	CPUs   int
	Model  string // the CPU's model name, "unknown" if unreadable
	Kernel string // the Linux release, "unknown" if unreadable
	Load   string // 1, 5 and 15 minute load averages when described, "" if unreadable
}

// DescribeMachine describes this host from runtime and /proc.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Model: "unknown", Kernel: "unknown", Load: LoadAverage()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m.Model = CPUModel(f)
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// CPUModel returns the first "model name" of a /proc/cpuinfo text, or
// "unknown".
func CPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return "unknown"
}

// LoadAverage returns the host's 1, 5 and 15 minute load averages, "" if
// unreadable. Other work on the host skews every figure.
func LoadAverage() string {
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
