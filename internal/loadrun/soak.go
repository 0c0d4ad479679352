package main

// The soak (`make soak`, `-soak DURATION`): the same SIPp callers as the
// benchmark, but few at once and cycling for a long time, with the
// hotline's goroutines, open file descriptors and memory read at a fixed
// period. A leak shows as a line that climbs while the load is flat, or as
// figures that do not come back down once the last call has ended.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/loadkit"
	"github.com/hotline/hotline/internal/sipptest"
)

// soakPoint is one reading of the hotline during a soak.
type soakPoint struct {
	At         time.Duration // since the callers started
	Live       int           // calls up
	Ended      float64       // calls ended so far (hotline_calls_total)
	Goroutines float64
	FDs        int
	RSS        uint64  // KiB
	HeapInuse  float64 // bytes
}

// Leak thresholds: what the soak tolerates before it says "growing".
const (
	// soakSlackCount is how many goroutines or descriptors above the idle
	// figure may remain once every call has ended (timers, idle HTTP
	// connections of the scraper, pooled threads).
	soakSlackCount = 10
	// soakGrowth is how much the load-flat readings of the last quarter may
	// exceed those of the second quarter (RSS and heap).
	soakGrowth = 1.10
)

// soakReport is what the soak prints.
type soakReport struct {
	Opts    options
	Machine loadkit.Machine
	Calls   int // calls asked of SIPp
	SIPp    sipptest.Result
	// Idle and After are read with no call up, after two forced
	// collections: before the first call and once the last has ended.
	Idle, After soakPoint
	AfterRead   bool // After was read: the run got to its end
	Points      []soakPoint
	Problems    string
	ProblemN    int
}

// soakCalls is the number of calls that keeps the callers cycling for
// o.Soak: at o.Rate, or slower when o.Concurrency callers each up for
// about callSetup + o.Hold cap it (300 callers of 31 s start at most 9.7
// calls a second, not 10), so that SIPp finishes within its bound.
func soakCalls(o options) int {
	rate := o.Rate
	if o.Concurrency > 0 {
		rate = min(rate, float64(o.Concurrency)/(callSetup+o.Hold).Seconds())
	}
	return max(1, int(math.Floor(o.Soak.Seconds()*rate)))
}

// runSoak starts the hotline, runs the cycling callers for o.Soak and reads
// the hotline every o.SoakEvery.
func runSoak(ctx context.Context, o options, log *slog.Logger) (*soakReport, error) {
	rep := &soakReport{Opts: o, Machine: loadkit.DescribeMachine(), Calls: o.Calls}
	ws, err := loadkit.NewWorkspace(ctx, o.Go, "hotline-soak-", o.Logs, o.Hotline, log)
	if err != nil {
		return nil, err
	}
	defer ws.Remove()
	scenario := o.Scenario
	if !filepath.IsAbs(scenario) {
		scenario = filepath.Join(ws.Root, scenario)
	}
	pprofAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	h, err := startHotline(ctx, ws.Bin, ws.Dir, ws.LogDir, o.RTPPorts, pprofAddr, "", log)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	client := &http.Client{Timeout: scrapeTimeout}
	defer client.CloseIdleConnections()
	read := func(ctx context.Context, since time.Time) (soakPoint, error) {
		return readSoakPoint(ctx, client, h.HTTPAddr(), h.PID(), since)
	}
	start := time.Now()
	if err := forceCollections(ctx, client, pprofAddr); err != nil {
		return rep, err
	}
	if rep.Idle, err = read(ctx, start); err != nil {
		return rep, err
	}

	sampleCtx, stopSampling := context.WithCancel(ctx)
	points := make(chan []soakPoint, 1)
	go func() {
		var out []soakPoint
		t := time.NewTicker(o.SoakEvery)
		defer t.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				points <- out
				return
			case <-t.C:
				if p, err := read(sampleCtx, start); err == nil {
					out = append(out, p)
					log.Info("soak", "at", p.At.Round(time.Second), "live", p.Live, "goroutines", p.Goroutines,
						"fds", p.FDs, "rss_mib", mib(p.RSS))
				}
			}
		}
	}()
	log.Info("soak: SIPp callers → hotline", "duration", o.Soak, "calls", rep.Calls,
		"concurrency", o.Concurrency, "rate", o.Rate, "hold", o.Hold)
	res, runErr := sipptest.Run(ctx, sipptest.Options{
		Scenario:    scenario,
		Target:      h.SIPAddr(),
		Service:     "support",
		Calls:       rep.Calls,
		Rate:        o.Rate,
		Concurrency: o.Concurrency,
		Keys:        map[string]string{"hold": fmt.Sprint(o.Hold.Milliseconds())},
		Timeout:     o.Soak + callSetup + o.Hold + sippSlack,
	})
	stopSampling()
	rep.Points = <-points
	rep.SIPp = res
	keepLog(ws.LogDir, "sipp-errors-soak.log", res.ErrorLog, log)
	if runErr != nil {
		return rep, fmt.Errorf("soak run: %w\nhotline log (tail):\n%s", runErr, h.LogTail(3000))
	}
	waitIdle(ctx, client, h.HTTPAddr(), 30*time.Second)
	// Let the ended calls' timers (media timeout, wrap-up of the records)
	// run out before the last reading.
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	client.CloseIdleConnections()
	if err := forceCollections(ctx, client, pprofAddr); err != nil {
		return rep, err
	}
	if rep.After, err = read(ctx, start); err != nil {
		return rep, err
	}
	rep.AfterRead = true
	rep.Problems, rep.ProblemN = problems(h.LogPath(), 3000)
	return rep, h.Close()
}

// forceCollections runs two garbage collections in the hotline through its
// pprof server, so heap and stack figures are what is really retained.
func forceCollections(ctx context.Context, client *http.Client, pprofAddr string) error {
	for range 2 {
		if err := fetchTo(ctx, client, "http://"+pprofAddr+"/debug/pprof/heap?gc=1", os.DevNull); err != nil {
			return err
		}
	}
	return nil
}

// readSoakPoint scrapes the hotline and reads its /proc entries.
func readSoakPoint(ctx context.Context, client *http.Client, httpAddr string, pid int, since time.Time) (soakPoint, error) {
	ms, err := scrape(ctx, client, httpAddr)
	if err != nil {
		return soakPoint{}, err
	}
	v := func(name string) float64 { x, _ := metricValue(ms, name, nil); return x }
	p := soakPoint{
		At:         time.Since(since),
		Live:       int(v(metricActive)),
		Goroutines: v(metricGoroutines),
		HeapInuse:  v(metricHeapInuse),
	}
	for _, n := range byLabel(ms, metricCalls, "outcome") {
		p.Ended += n
	}
	if p.FDs, err = countFDs(pid); err != nil {
		return soakPoint{}, err
	}
	mem, err := readProcMem(pid)
	if err != nil {
		return soakPoint{}, err
	}
	p.RSS = mem.RSS
	return p, nil
}

// countFDs counts the open file descriptors of pid.
func countFDs(pid int) (int, error) {
	es, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return 0, err
	}
	return len(es), nil
}

// soakVerdict is the soak's judgement, one line per figure that grew.
type soakVerdict struct {
	Leaks []string
}

// verdict compares the readings: what remains after the last call against
// idle, and, among readings taken at full load, the last quarter against
// the second quarter (the first is warm-up).
func (r *soakReport) verdict() soakVerdict {
	var v soakVerdict
	if !r.AfterRead {
		v.Leaks = append(v.Leaks, "no reading after the last call (the run did not get to its end), so leftovers are not known")
	} else if d := r.After.Goroutines - r.Idle.Goroutines; d > soakSlackCount {
		v.Leaks = append(v.Leaks, fmt.Sprintf("%.0f goroutines more than idle after the last call", d))
	}
	if d := r.After.FDs - r.Idle.FDs; r.AfterRead && d > soakSlackCount {
		v.Leaks = append(v.Leaks, fmt.Sprintf("%d file descriptors more than idle after the last call", d))
	}
	full := r.fullLoad()
	if len(full) < 4 {
		return v
	}
	q := len(full) / 4
	second, last := full[q:2*q], full[len(full)-q:]
	grew := func(name string, f func(soakPoint) float64) {
		a, b := medianOf(second, f), medianOf(last, f)
		if a > 0 && b > a*soakGrowth {
			v.Leaks = append(v.Leaks, fmt.Sprintf("%s grew %.0f %% at the same load (%.0f → %.0f)", name, (b/a-1)*100, a, b))
		}
	}
	grew("RSS KiB", func(p soakPoint) float64 { return float64(p.RSS) })
	grew("goroutines per call", func(p soakPoint) float64 { return p.Goroutines / float64(max(p.Live, 1)) })
	grew("descriptors per call", func(p soakPoint) float64 { return float64(p.FDs) / float64(max(p.Live, 1)) })
	return v
}

// fullLoad returns the readings with at least steadyShare of the
// concurrency up.
func (r *soakReport) fullLoad() []soakPoint {
	threshold := int(math.Ceil(steadyShare * float64(r.Opts.Concurrency)))
	var out []soakPoint
	for _, p := range r.Points {
		if p.Live >= threshold {
			out = append(out, p)
		}
	}
	return out
}

// medianOf returns the median of f over ps.
func medianOf(ps []soakPoint, f func(soakPoint) float64) float64 {
	xs := make([]float64, len(ps))
	for i, p := range ps {
		xs[i] = f(p)
	}
	return median(xs)
}

// failures lists what makes the soak fail: failed calls and leaks.
func (r *soakReport) failures() []string {
	var out []string
	if err := r.SIPp.Err(); err != nil {
		out = append(out, fmt.Sprintf("%d of %d calls succeeded, %d failed", r.SIPp.Successful, r.Calls, r.SIPp.Failed))
	}
	return append(out, r.verdict().Leaks...)
}

// write prints the soak report as markdown.
func (r *soakReport) write(w io.Writer) {
	o := r.Opts
	fmt.Fprintf(w, "\n## hotline soak\n\n")
	fmt.Fprintf(w, "- machine: %d CPUs, %s, Linux %s\n", r.Machine.CPUs, r.Machine.Model, r.Machine.Kernel)
	fmt.Fprintf(w, "- command: `%s`\n", strings.Join(append([]string{"go run ./internal/loadrun"}, o.Args...), " "))
	fmt.Fprintf(w, "- load: SIPp `load_caller.xml` for %v: %d calls, at most %d at once, %g new calls/s, %v on hold\n",
		o.Soak, r.Calls, o.Concurrency, o.Rate, o.Hold)
	fmt.Fprintf(w, "- calls: %d succeeded, %d failed, %d retransmissions\n\n", r.SIPp.Successful, r.SIPp.Failed, r.SIPp.Retransmissions)
	fmt.Fprintln(w, "| at | calls up | calls ended | goroutines | descriptors | RSS MiB | heap in use MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	row := func(at string, p soakPoint) {
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %d | %s | %s |\n", at, p.Live, p.Ended, p.Goroutines, p.FDs, mib(p.RSS), mibBytes(p.HeapInuse))
	}
	row("idle, before (after GC)", r.Idle)
	for _, p := range r.Points {
		row(p.At.Round(time.Second).String(), p)
	}
	if r.AfterRead {
		row("idle, after (after GC)", r.After)
	}
	v := r.verdict()
	if len(v.Leaks) == 0 {
		fmt.Fprintf(w, "\nverdict: flat (after the last call: %+.0f goroutines, %+d descriptors, %+.1f MiB heap against idle)\n",
			r.After.Goroutines-r.Idle.Goroutines, r.After.FDs-r.Idle.FDs, (r.After.HeapInuse-r.Idle.HeapInuse)/(1<<20))
	} else {
		fmt.Fprintf(w, "\nverdict: growing: %s\n", strings.Join(v.Leaks, "; "))
	}
	if r.ProblemN > 0 {
		fmt.Fprintf(w, "\nhotline log: %d warning/error lines; the first:\n\n```\n%s```\n", r.ProblemN, r.Problems)
	}
}
