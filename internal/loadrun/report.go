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

// Goals of the performance issues (3 and 12).
const (
	goalMeanCPU    = 0.5   // cores, hotline run mean
	goalP99        = 0.002 // seconds
	goalPerCallKiB = 40
	goalRatio      = 1.6 // hotline ÷ SIPp UAS, steady CPU
	goalPeakOver   = 1.2 // peak RSS ÷ RSS with every call up
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
	store := "the embedded SQLite"
	if o.Postgres {
		store = "PostgreSQL, a private server on loopback (its own CPU and memory are not in the hotline's figures)"
	}
	fmt.Fprintf(w, "- the hotline's store: %s\n", store)
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
	rss := func(s sideResult) string { return mib(s.Usage.SteadyRSS) + " MiB" }
	row("RSS with the calls up (steady median)", rss(h), baseCol(rss), "", "")
	peak := func(s sideResult) string {
		if s.Usage.SteadyRSS == 0 {
			return mib(s.Usage.PeakRSS) + " MiB"
		}
		return fmt.Sprintf("%s MiB (+%.0f %%)", mib(s.Usage.PeakRSS), 100*(float64(s.Usage.PeakRSS)/float64(s.Usage.SteadyRSS)-1))
	}
	row("peak RSS (above steady)", peak(h), baseCol(peak), "",
		check(h.Usage.SteadyRSS > 0 && float64(h.Usage.PeakRSS) <= goalPeakOver*float64(h.Usage.SteadyRSS), "≤ +20 %"))
	idle := func(s sideResult) string { return mib(s.Usage.BaseRSS) + " MiB" }
	row("RSS before the first call", idle(h), baseCol(idle), "", "")
	perCall := func(s sideResult) string {
		v := s.Usage.PerCallKiB()
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.1f KiB", v)
	}
	ratioPerCall := "—"
	if b != nil && b.Usage.PerCallKiB() > 0 {
		ratioPerCall = fmt.Sprintf("%.1f×", h.Usage.PerCallKiB()/b.Usage.PerCallKiB())
	}
	row("memory per live call (RSS up − before, ÷ calls)", perCall(h), baseCol(perCall), ratioPerCall,
		check(h.Usage.PerCallKiB() <= goalPerCallKiB, "≤ 40 KiB"))
	row("RTP send-interval deviation from 20 ms, p50 / p99 / max", r.pacing(), "—", "",
		check(r.P99Err == nil && !r.P99InInf && r.P99Deviation < goalP99, "p99 < 2 ms"))
	load := func(s sideResult) string { return cmp.Or(s.LoadBefore, "n/a") }
	row("host load average before (1, 5, 15 min)", load(h), baseCol(load), "", "")
	uac := func(s sideResult) string { return pct(s.Usage.UACMeanCPU, s.Usage.UACMeanCPU > 0) }
	row("SIPp callers' own CPU, run mean", uac(h), baseCol(uac), "", "")
	fmt.Fprintln(w)
	r.writeBreakdown(w)

	fmt.Fprintf(w, "- hotline calls by outcome: %s\n", labelList(r.Outcomes))
	fmt.Fprintf(w, "- hotline send-interval deviation, share of sends within: %s\n", shares(r.Deviation))
	fmt.Fprintf(w, "- hotline media pacer, p50 / p99 per wake-up: woke late by %.2f / %.2f ms, worked %.2f / %.2f ms\n",
		r.Lateness[0]*1000, r.Lateness[1]*1000, r.Work[0]*1000, r.Work[1]*1000)
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

// writeBreakdown prints where the hotline's memory per call is, from the
// Go runtime's accounting before the first call and at full load.
func (r *report) writeBreakdown(w io.Writer) {
	if !r.FullOK {
		fmt.Fprintf(w, "- memory breakdown: full load not reached\n\n")
		return
	}
	rss, heap, stack, other, gs := perCall(r.Idle, r.Full)
	fmt.Fprintf(w, "Hotline memory per call at full load (%d calls up; Go runtime accounting, before → full):\n\n", r.Full.Live)
	fmt.Fprintln(w, "| part | before | full load | per call |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fmt.Fprintf(w, "| resident (RSS) | %s MiB | %s MiB | %.1f KiB |\n", mib(r.Idle.RSS), mib(r.Full.RSS), rss)
	fmt.Fprintf(w, "| heap in use | %s MiB | %s MiB | %.1f KiB |\n", mibBytes(r.Idle.HeapInuse), mibBytes(r.Full.HeapInuse), heap)
	fmt.Fprintf(w, "| goroutine stacks | %s MiB | %s MiB | %.1f KiB |\n", mibBytes(r.Idle.StackInuse), mibBytes(r.Full.StackInuse), stack)
	fmt.Fprintf(w, "| runtime (spans, GC, other) | %s MiB | %s MiB | %.1f KiB |\n", mibBytes(r.Idle.OtherSys), mibBytes(r.Full.OtherSys), other)
	fmt.Fprintf(w, "| goroutines | %.0f | %.0f | %.2f |\n\n", r.Idle.Goroutines, r.Full.Goroutines, gs)
	if r.Opts.Profile != "" {
		fmt.Fprintf(w, "- profiles at full load in %s (`go tool pprof -sample_index=inuse_space heap.pprof`); "+
			"profiling costs CPU and may delay frames: take the CPU and pacing figures from a run without -profile\n", r.Opts.Profile)
	}
}

// mibBytes formats bytes as MiB.
func mibBytes(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }

// pacing formats the send-interval p50, p99 and the bound of the highest
// bucket that holds a send.
func (r *report) pacing() string {
	if r.P99Err != nil {
		return "n/a (" + r.P99Err.Error() + ")"
	}
	return fmt.Sprintf("%.2f / %s / %s ms", r.P50Deviation*1000, r.p99(), maxBound(r.Deviation))
}

// maxBound is the upper bound of the lowest bucket that holds every
// observation ("> last bound" when some are above every finite bound).
func maxBound(bs []bucket) string {
	if len(bs) == 0 {
		return "n/a"
	}
	total := bs[len(bs)-1].Count
	for _, b := range bs[:len(bs)-1] {
		if b.Count >= total {
			return fmt.Sprintf("≤ %g", b.UpperBound*1000)
		}
	}
	if len(bs) > 1 {
		return fmt.Sprintf("> %g", bs[len(bs)-2].UpperBound*1000)
	}
	return "n/a"
}

// p99 formats the send-interval p99.
func (r *report) p99() string {
	switch {
	case r.P99Err != nil:
		return "n/a (" + r.P99Err.Error() + ")"
	case r.P99InInf:
		return fmt.Sprintf("> %.1f", r.P99Deviation*1000)
	default:
		return fmt.Sprintf("%.2f", r.P99Deviation*1000)
	}
}

// ratioGoal shows whether the steady CPU is within goalRatio of SIPp's UAS.
func ratioGoal(ok bool, hot float64, b *sideResult) string {
	if !ok {
		return "≤ 1.6×"
	}
	return check(hot/b.Usage.SteadyCPU <= goalRatio, "≤ 1.6×")
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
