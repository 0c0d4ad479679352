package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// memBreakdown is where the hotline's memory is, read from its /metrics
// (the Go runtime's own accounting) and /proc.
type memBreakdown struct {
	Live       int     // calls up
	RSS        uint64  // KiB, /proc
	HeapInuse  float64 // bytes in heap spans in use (objects and their slack)
	StackInuse float64 // bytes of goroutine stacks
	OtherSys   float64 // the runtime's other structures: spans, GC metadata, buckets, …
	Goroutines float64
}

// Metric names of the Go collector read for the breakdown.
const (
	metricHeapInuse  = "go_memstats_heap_inuse_bytes"
	metricStackInuse = "go_memstats_stack_inuse_bytes"
	metricOtherSys   = "go_memstats_other_sys_bytes"
	metricMSpan      = "go_memstats_mspan_inuse_bytes"
	metricGCSys      = "go_memstats_gc_sys_bytes"
	metricGoroutines = "go_goroutines"
)

// readBreakdown scrapes the hotline once and reads its RSS.
func readBreakdown(ctx context.Context, client *http.Client, httpAddr string, pid int) (memBreakdown, error) {
	ms, err := scrape(ctx, client, httpAddr)
	if err != nil {
		return memBreakdown{}, err
	}
	v := func(name string) float64 { x, _ := metricValue(ms, name, nil); return x }
	b := memBreakdown{
		Live:       int(v(metricActive)),
		HeapInuse:  v(metricHeapInuse),
		StackInuse: v(metricStackInuse),
		OtherSys:   v(metricOtherSys) + v(metricMSpan) + v(metricGCSys),
		Goroutines: v(metricGoroutines),
	}
	if mem, err := readProcMem(pid); err == nil {
		b.RSS = mem.RSS
	}
	return b, nil
}

// perCall divides what full has beyond idle by its live calls, in KiB (the
// goroutine count as a plain count).
func perCall(idle, full memBreakdown) (rss, heap, stack, other, goroutines float64) {
	if full.Live <= 0 {
		nan := math.NaN()
		return nan, nan, nan, nan, nan
	}
	n := float64(full.Live)
	return (float64(full.RSS) - float64(idle.RSS)) / n,
		(full.HeapInuse - idle.HeapInuse) / 1024 / n,
		(full.StackInuse - idle.StackInuse) / 1024 / n,
		(full.OtherSys - idle.OtherSys) / 1024 / n,
		(full.Goroutines - idle.Goroutines) / n
}

// fullLoadSettle is how long the calls must stay at full load before the
// breakdown and the profiles are taken.
const fullLoadSettle = 3 * time.Second

// cpuProfileSeconds is the length of the CPU profile taken at full load.
const cpuProfileSeconds = 10

// atFullLoad waits until at least steadyShare of target calls have been up
// for fullLoadSettle, then reads the memory breakdown and, when dir is not
// empty, saves the heap, goroutine and CPU profiles served on pprofAddr
// there. It returns ok false when ctx ended before full load.
func atFullLoad(ctx context.Context, client *http.Client, httpAddr, pprofAddr string, pid, target int, dir string, log *slog.Logger) (memBreakdown, bool) {
	threshold := int(math.Ceil(steadyShare * float64(target)))
	live := activeCalls(client, httpAddr)
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return memBreakdown{}, false
		case <-time.After(500 * time.Millisecond):
		}
		if live(ctx) < threshold {
			since = time.Time{}
			continue
		}
		if since.IsZero() {
			since = time.Now()
		}
		if time.Since(since) >= fullLoadSettle {
			break
		}
	}
	b, err := readBreakdown(ctx, client, httpAddr, pid)
	if err != nil {
		log.Warn("memory breakdown at full load", "err", err)
		return memBreakdown{}, false
	}
	if pprofAddr != "" {
		if gc, err := afterCollections(ctx, client, httpAddr, pprofAddr, pid); err == nil {
			log.Info("memory after two forced collections", "live", gc.Live, "rss_kib", gc.RSS,
				"heap_inuse", gc.HeapInuse, "stack_inuse", gc.StackInuse)
		}
	}
	if dir != "" && pprofAddr != "" {
		saveProfiles(ctx, pprofAddr, dir, log)
	}
	return b, true
}

// afterCollections forces two garbage collections in the hotline (through
// its pprof server) and reads the breakdown again: what the heap and the
// stacks come down to (a collection also shrinks stacks that use under a
// quarter of their size), against what they were between collections.
func afterCollections(ctx context.Context, client *http.Client, httpAddr, pprofAddr string, pid int) (memBreakdown, error) {
	if err := forceCollections(ctx, client, pprofAddr); err != nil {
		return memBreakdown{}, err
	}
	return readBreakdown(ctx, client, httpAddr, pid)
}

// saveProfiles writes heap.pprof, goroutine.pprof and cpu.pprof (a
// cpuProfileSeconds profile) from the hotline's pprof server into dir.
func saveProfiles(ctx context.Context, pprofAddr, dir string, log *slog.Logger) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Warn("profiles", "err", err)
		return
	}
	client := &http.Client{Timeout: (cpuProfileSeconds + 10) * time.Second}
	defer client.CloseIdleConnections()
	for _, p := range []struct{ file, path string }{
		{"heap.pprof", "/debug/pprof/heap"},
		{"goroutine.pprof", "/debug/pprof/goroutine"},
		{"cpu.pprof", fmt.Sprintf("/debug/pprof/profile?seconds=%d", cpuProfileSeconds)},
	} {
		if err := fetchTo(ctx, client, "http://"+pprofAddr+p.path, filepath.Join(dir, p.file)); err != nil {
			log.Warn("profile not saved", "file", p.file, "err", err)
			continue
		}
		log.Info("profile saved", "file", filepath.Join(dir, p.file))
	}
}

// fetchTo GETs url into the file path.
func fetchTo(ctx context.Context, client *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
