package main

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/loadkit"
	"github.com/hotline/hotline/internal/sipptest"
)

func TestParseFlagsDefaultsAreTheIssueFigures(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 1000, o.Calls)
	require.Equal(t, 1000, o.Concurrency)
	require.Equal(t, 100.0, o.Rate)
	// Ramp 10 s + setup 3.5 s + hold: every caller is up together for > 20 s.
	require.Greater(t, o.Hold+3500*time.Millisecond-time.Duration(float64(o.Calls)/o.Rate*float64(time.Second)), 20*time.Second)
}

func TestParseFlagsSmallRunAndErrors(t *testing.T) {
	o, err := parseFlags([]string{"-calls", "50", "-hold", "5s"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 50, o.Concurrency)
	require.Equal(t, 5*time.Second, o.Hold)
	require.Equal(t, []string{"-calls", "50", "-hold", "5s"}, o.Args)

	for _, args := range [][]string{{"-calls", "0"}, {"-rate", "0"}, {"-hold", "-1s"}, {"-timeout", "0s"}, {"extra"}} {
		_, err := parseFlags(args, io.Discard)
		require.Error(t, err, args)
	}
}

func TestReportTableAndFailures(t *testing.T) {
	u := usage{MeanCPU: 0.3, SteadyCPU: 0.32, SteadySeconds: 20, SteadyLive: 1000, MaxLive: 1000,
		BaseRSS: 20 * 1024, SteadyRSS: 60 * 1024, PeakRSS: 70 * 1024}
	rep := &report{
		Opts:    options{Calls: 1000, Concurrency: 1000, Rate: 100, Hold: 27 * time.Second, Args: []string{"-calls", "1000"}},
		Machine: loadkit.Machine{CPUs: 2, Model: "AMD EPYC", Kernel: "6.1"}, Target: 1000,
		Hotline: sideResult{Usage: u, SIPp: sipptest.Result{Calls: 1000,
			Stats: sipptest.Stats{Successful: 990, Failed: 10}, ExitCode: 1, ErrorLog: "timeout on call 7"}},
		Baseline: &sideResult{Usage: usage{MeanCPU: 0.15, SteadyCPU: 0.16, SteadySeconds: 20, SteadyLive: 1000},
			SIPp: sipptest.Result{Calls: 1000, Stats: sipptest.Stats{Successful: 1000}}},
		P50Deviation: 0.0002,
		P99Deviation: 0.0015,
		Idle:         memBreakdown{RSS: 20 * 1024, HeapInuse: 4 << 20, StackInuse: 512 << 10, Goroutines: 20},
		Full: memBreakdown{Live: 1000, RSS: 20*1024 + 40*1000, HeapInuse: 4<<20 + 20*1024*1000,
			StackInuse: 512<<10 + 8*1024*1000, Goroutines: 1020},
		FullOK:    true,
		Deviation: []bucket{{0.001, 90}, {0.002, 100}, {math.Inf(1), 100}},
		Outcomes:  map[string]float64{"queued": 990, "failed": 10},
	}
	var out bytes.Buffer
	rep.write(&out)
	text := out.String()
	for _, want := range []string{
		"| CPU, steady-state median | 32.0 % | 16.0 % | 2.0× | ≤ 1.6× ✗ |",
		"| CPU, run mean | 30.0 % | 15.0 % | 2.0× | < 50 % ✓ |",
		"| memory per live call (RSS up − before, ÷ calls) | 41.0 KiB | 0.0 KiB | — | ≤ 40 KiB ✗ |",
		"| peak RSS (above steady) | 70.0 MiB (+17 %) |",
		"| 0.20 / 1.50 / ≤ 2 ms | — |  | p99 < 2 ms ✓ |",
		"| resident (RSS) | 20.0 MiB | 59.1 MiB | 40.0 KiB |",
		"| goroutine stacks | 0.5 MiB | 8.3 MiB | 8.0 KiB |",
		"| goroutines | 20 | 1020 | 1.00 |",
		"| calls ok / failed | 990 / 10 (0 retransmissions) | 1000 / 0 (0 retransmissions) |  | all complete ✗ |",
		"calls by outcome: failed=10, queued=990",
		"≤ 1 ms 90.0 %, ≤ 2 ms 100.0 % (of 100 sends)",
		"`go run ./internal/loadrun -calls 1000`",
		"timeout on call 7",
	} {
		require.Contains(t, text, want)
	}
	cells := 0 // each table's rows have as many cells as its header
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| ") {
			cells = 0
			continue
		}
		if cells == 0 {
			cells = strings.Count(line, "|")
		}
		require.Equal(t, cells, strings.Count(line, "|"), "a row with as many cells as its header: %s", line)
	}
	require.Equal(t, []string{"hotline: 990 of 1000 calls succeeded, 10 failed"}, rep.failures())
	rep.Hotline.SIPp = sipptest.Result{Calls: 1000, Stats: sipptest.Stats{Successful: 1000}}
	require.Empty(t, rep.failures())
}

func TestHotlineProblemsPicksWarningsAndErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.log")
	log := "time=1 level=INFO msg=\"call answered\"\n" +
		"time=2 level=WARN msg=\"media timeout\" call_id=a\n" +
		"time=3 level=ERROR msg=\"store write failed\"\n" +
		"time=4 level=WARN msg=\"media timeout\" call_id=b\n"
	require.NoError(t, os.WriteFile(path, []byte(log), 0o644))
	text, n := problems(path, 100)
	require.Equal(t, 3, n)
	require.Equal(t, "time=2 level=WARN msg=\"media timeout\" call_id=a\ntime=3 level=ERROR msg=\"store write failed\"\n", text)
}

func TestParseFlagsSoakCoversItsDuration(t *testing.T) {
	o, err := parseFlags([]string{"-soak", "1h", "-concurrency", "300", "-rate", "10"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 34838, o.Calls, "300 callers of 31 s each start 9.68 calls/s, not 10, for an hour")
	require.Greater(t, o.Timeout, time.Hour, "the bound covers the soak")
	require.Equal(t, time.Minute, o.SoakEvery)
	_, err = parseFlags([]string{"-soak", "1m", "-soak-every", "0s"}, io.Discard)
	require.Error(t, err)
}

func TestSoakVerdict(t *testing.T) {
	flat := func(n int, rss uint64) []soakPoint {
		var ps []soakPoint
		for i := range n {
			ps = append(ps, soakPoint{At: time.Duration(i) * time.Minute, Live: 300, Goroutines: 330, FDs: 640, RSS: rss})
		}
		return ps
	}
	r := &soakReport{Opts: options{Concurrency: 300},
		Idle:  soakPoint{Goroutines: 30, FDs: 40},
		After: soakPoint{Goroutines: 32, FDs: 41}, AfterRead: true,
		Points: flat(12, 60_000)}
	require.Empty(t, r.verdict().Leaks)

	// A run that did not get to its end has no verdict on leftovers.
	r.AfterRead = false
	require.Len(t, r.failures(), 1)
	require.Contains(t, r.failures()[0], "no reading after the last call")
	r.AfterRead = true

	// RSS climbing at the same load is a leak.
	r.Points = append(flat(6, 60_000), flat(6, 90_000)...)
	require.Len(t, r.verdict().Leaks, 1)
	require.Contains(t, r.verdict().Leaks[0], "RSS")

	// Goroutines left over after the last call are a leak, and the report says so.
	r.Points = flat(12, 60_000)
	r.After.Goroutines = 330
	require.Len(t, r.failures(), 1)
	var out bytes.Buffer
	r.write(&out)
	require.Contains(t, out.String(), "verdict: growing: 300 goroutines more than idle")
}
