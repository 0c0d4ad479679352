package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Goals of the Performance paragraph.
const (
	goalMeanCPU    = 0.5   // cores, hotline run mean
	goalP99        = 0.002 // seconds
	goalPerCallKiB = 100
	goalRatio      = 2
)

// failures lists what makes the benchmark fail: calls that did not complete.
func (r *report) failures() []string {
	var out []string
	if err := r.Hotline.SIPp.Err(); err != nil {
		out = append(out, fmt.Sprintf("hotline: %d of %d calls succeeded, %d failed",
			r.Hotline.SIPp.Successful, r.Opts.Calls, r.Hotline.SIPp.Failed))
	}
	if r.Baseline != nil {
		if err := r.Baseline.SIPp.Err(); err != nil {
			out = append(out, fmt.Sprintf("SIPp UAS baseline: %d of %d calls succeeded, %d failed",
				r.Baseline.SIPp.Successful, r.Opts.Calls, r.Baseline.SIPp.Failed))
		}
	}
	return out
}

// write prints the report as markdown.
func (r *report) write(w io.Writer) {
	o := r.Opts
	fmt.Fprintf(w, "\n## hotline load benchmark\n\n")
	fmt.Fprintf(w, "- machine: %d CPUs, %s, Linux %s\n", r.Machine.CPUs, r.Machine.Model, r.Machine.Kernel)
	fmt.Fprintf(w, "- command: `%s`\n", strings.Join(append([]string{"go run ./internal/loadrun"}, o.Args...), " "))
	fmt.Fprintf(w, "- load: SIPp `load_caller.xml`, %d calls, at most %d at once, %g new calls/s, %v on hold "+
		"(PCMU streamed for the whole call, RFC 4733 digits 1 1 #, then the support queue's hold music)\n",
		o.Calls, o.Concurrency, o.Rate, o.Hold)
	fmt.Fprintf(w, "- steady state: the seconds with at least %.0f %% of %d calls up; CPU in %% of one core\n\n",
		steadyShare*100, r.Target)

	h, b := r.Hotline, r.Baseline
	fmt.Fprintln(w, "| figure | hotline | SIPp UAS `-rtp_echo` | hotline ÷ SIPp | goal |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	row := func(name, hot, base, ratio, goal string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, hot, base, ratio, goal)
	}
	baseCol := func(f func(sideResult) string) string {
		if b == nil {
			return "—"
		}
		return f(*b)
	}
	ratioOf := func(f func(usage) float64) string {
		if b == nil || f(b.Usage) <= 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f×", f(h.Usage)/f(b.Usage))
	}
	calls := func(s sideResult) string {
		return fmt.Sprintf("%d / %d (%d retransmissions)", s.SIPp.Successful, s.SIPp.Failed, s.SIPp.Retransmissions)
	}
	row("calls ok / failed", calls(h), baseCol(calls), "", check(h.SIPp.Err() == nil, "all complete"))
	live := func(s sideResult) string {
		return fmt.Sprintf("%d (max %d), %d s", s.Usage.SteadyLive, s.Usage.MaxLive, s.Usage.SteadySeconds)
	}
	row("calls up at steady state, seconds of it", live(h), baseCol(live), "", "")
	steady := func(s sideResult) string { return pct(s.Usage.SteadyCPU, s.Usage.SteadySeconds > 0) }
	steadyCPU := func(u usage) float64 { return u.SteadyCPU }
	row("CPU, steady-state median", steady(h), baseCol(steady), ratioOf(steadyCPU),
		ratioGoal(b != nil && b.Usage.SteadyCPU > 0, h.Usage.SteadyCPU, b))
	mean := func(s sideResult) string { return pct(s.Usage.MeanCPU, true) }
	row("CPU, run mean", mean(h), baseCol(mean), ratioOf(func(u usage) float64 { return u.MeanCPU }),
		check(h.Usage.MeanCPU < goalMeanCPU, "< 50 %"))
	sys := func(s sideResult) string { return pct(s.Usage.SystemShare, s.Usage.MeanCPU > 0) }
	row("share of that CPU in the kernel", sys(h), baseCol(sys), "", "")
	mem := func(s sideResult) string {
		return fmt.Sprintf("%s / %s / %s", mib(s.Usage.BaseRSS), mib(s.Usage.SteadyRSS), mib(s.Usage.PeakRSS))
	}
	row("RSS before / steady / peak, MiB", mem(h), baseCol(mem), "", "")
	perCall := func(s sideResult) string {
		v := s.Usage.PerCallKiB()
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.1f KiB", v)
	}
	row("memory per live call", perCall(h), baseCol(perCall), "",
		check(h.Usage.PerCallKiB() < goalPerCallKiB, "< 100 KiB"))
	row("RTP send-interval deviation from 20 ms, p99", r.p99(), "—", "",
		check(r.P99Err == nil && !r.P99InInf && r.P99Deviation < goalP99, "< 2 ms"))
	load := func(s sideResult) string { return cmp.Or(s.LoadBefore, "n/a") }
	row("host load average before (1, 5, 15 min)", load(h), baseCol(load), "", "")
	uac := func(s sideResult) string { return pct(s.Usage.UACMeanCPU, s.Usage.UACMeanCPU > 0) }
	row("SIPp callers' own CPU, run mean", uac(h), baseCol(uac), "", "")
	fmt.Fprintln(w)

	fmt.Fprintf(w, "- hotline calls by outcome: %s\n", labelList(r.Outcomes))
	fmt.Fprintf(w, "- hotline send-interval deviation, share of sends within: %s\n", shares(r.Deviation))
	fmt.Fprintf(w, "- hotline RTP packets: %s; dropped: %s\n", labelList(r.RTPPackets), labelList(r.RTPDropped))
	fmt.Fprintf(w, "- hotline SIP responses by code: %s; SIP dropped: %s\n", labelList(r.SIPResponses), labelList(r.SIPDropped))
	if r.HotlineProblemN > 0 {
		fmt.Fprintf(w, "\nthe hotline logged %d warnings and errors; the first:\n```\n%s```\n", r.HotlineProblemN, r.HotlineProblems)
	}
	for _, side := range []struct {
		name string
		s    *sideResult
	}{{"hotline", &h}, {"SIPp UAS", b}} {
		if side.s != nil && side.s.SIPp.Err() != nil && side.s.SIPp.ErrorLog != "" {
			fmt.Fprintf(w, "\nSIPp error log against the %s (head):\n```\n%s\n```\n", side.name, head(side.s.SIPp.ErrorLog, 3000))
		}
	}
}

// p99 formats the send-interval p99.
func (r *report) p99() string {
	switch {
	case r.P99Err != nil:
		return "n/a (" + r.P99Err.Error() + ")"
	case r.P99InInf:
		return fmt.Sprintf("> %.1f ms", r.P99Deviation*1000)
	default:
		return fmt.Sprintf("%.2f ms", r.P99Deviation*1000)
	}
}

// ratioGoal shows whether the steady CPU is within 2× of SIPp's UAS.
func ratioGoal(ok bool, hot float64, b *sideResult) string {
	if !ok {
		return "≤ 2× (aim)"
	}
	return check(hot/b.Usage.SteadyCPU <= goalRatio, "≤ 2× (aim)")
}

// check marks a goal as met or missed.
func check(ok bool, goal string) string {
	if ok {
		return goal + " ✓"
	}
	return goal + " ✗"
}

// pct formats cores as a percentage of one core.
func pct(cores float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", cores*100)
}

// mib formats KiB as MiB.
func mib(kib uint64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }

// labelList formats label → value pairs sorted by label: "a=1, b=2".
func labelList(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// shares formats a histogram as the cumulative share of observations
// within each finite bound: "≤ 0.1 ms 40.0 %, ≤ 0.25 ms 70.0 %, …".
func shares(bs []bucket) string {
	if len(bs) == 0 || bs[len(bs)-1].Count == 0 {
		return "n/a"
	}
	total := bs[len(bs)-1].Count
	var parts []string
	for _, b := range bs[:len(bs)-1] {
		parts = append(parts, fmt.Sprintf("≤ %g ms %.1f %%", b.UpperBound*1000, 100*b.Count/total))
	}
	return fmt.Sprintf("%s (of %.0f sends)", strings.Join(parts, ", "), total)
}

// head returns the first n bytes of s.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
