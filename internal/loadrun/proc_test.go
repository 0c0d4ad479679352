package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// statLine is a real /proc/PID/stat line whose command name holds a space and
// a parenthesis; utime 1234, stime 567, ppid 42.
const statLine = "4321 (hot line) x) S 42 4321 4321 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 9 0 12345 1000000 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

func TestParseProcStat(t *testing.T) {
	st, err := parseProcStat([]byte(statLine))
	require.NoError(t, err)
	require.Equal(t, procStat{Comm: "hot line) x", PPID: 42, UTime: 1234, STime: 567}, st)
	require.EqualValues(t, 1801, st.CPUTicks())
}

func TestParseProcStatRejectsTruncatedLines(t *testing.T) {
	for _, line := range []string{"", "12 sipp S 1", "12 (sipp) S 1 2 3", "12 (sipp) S x 2 3 4 5 6 7 8 9 10 11 12 13"} {
		_, err := parseProcStat([]byte(line))
		require.Error(t, err, line)
	}
}

func TestReadProcStatOfThisProcess(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	require.NoError(t, err)
	require.Equal(t, os.Getppid(), st.PPID)
	mem, err := readProcMem(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, mem.RSS)
	require.GreaterOrEqual(t, mem.Peak, mem.RSS)
}

func TestParseProcStatus(t *testing.T) {
	text := "Name:\thotline\nVmPeak:\t 1300000 kB\nVmHWM:\t   90112 kB\nVmRSS:\t   81920 kB\nThreads:\t9\n"
	m, err := parseProcStatus(strings.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, procMem{RSS: 81920, Peak: 90112}, m)

	_, err = parseProcStatus(strings.NewReader("Name:\tzombie\nState:\tZ (zombie)\n"))
	require.ErrorContains(t, err, "process gone")
	_, err = parseProcStatus(strings.NewReader("VmRSS:\t 12 MB\nVmHWM:\t 1 kB\n"))
	require.ErrorContains(t, err, "VmRSS")
}

// readings builds one reading per second, with the CPU ticks, live calls
// and resident memory given for each.
func readings(ticks []uint64, live []int, rss []uint64) []sample {
	t0 := time.Unix(1_700_000_000, 0)
	out := make([]sample, len(ticks))
	for i := range ticks {
		out[i] = sample{At: t0.Add(time.Duration(i) * time.Second), Ticks: ticks[i], Live: live[i],
			Mem: procMem{RSS: rss[i], Peak: rss[i] + 10}}
	}
	return out
}

func TestSummarizeSteadyStateAndMean(t *testing.T) {
	// 100 calls targeted: ramp for 2 s, up for 4 s (95 ≥ the 95 % bar
	// counts), then down. CPU: 10, 20, 30, 30, 40, 30, 10, 0 ticks a second.
	s := readings(
		[]uint64{0, 10, 30, 60, 90, 130, 160, 170, 170},
		[]int{0, 50, 95, 100, 100, 99, 96, 20, 0},
		[]uint64{10000, 12000, 15000, 16000, 16100, 16000, 16050, 12000, 11000},
	)
	u := summarize(s, 100)
	require.InDelta(t, 170.0/100/8, u.MeanCPU, 1e-9)
	// Steady intervals end at readings 3..6: 30, 30, 40, 30 ticks → median 0.30.
	require.Equal(t, 4, u.SteadySeconds)
	require.InDelta(t, 0.30, u.SteadyCPU, 1e-9)
	require.Equal(t, 99, u.SteadyLive) // (99 + 100) / 2, rounded down
	require.Equal(t, 100, u.MaxLive)
	require.EqualValues(t, 10000, u.BaseRSS)
	require.EqualValues(t, 16025, u.SteadyRSS)
	require.EqualValues(t, 16110, u.PeakRSS)
	require.InDelta(t, 6025.0/99, u.PerCallKiB(), 1e-9)
	require.Equal(t, 8*time.Second, u.Duration)
	require.Zero(t, u.SystemShare)

	s[len(s)-1].STime = 85
	require.InDelta(t, 0.5, summarize(s, 100).SystemShare, 1e-9)
}

func TestSummarizeWithoutSteadyState(t *testing.T) {
	s := readings([]uint64{0, 5, 9}, []int{0, 10, -1}, []uint64{1, 2, 3})
	u := summarize(s, 100)
	require.Zero(t, u.SteadySeconds)
	require.True(t, u.PerCallKiB() != u.PerCallKiB(), "NaN per call without a steady state")
	require.InDelta(t, 0.045, u.MeanCPU, 1e-9)
	require.Equal(t, usage{}, summarize(nil, 10))
}

func TestMedian(t *testing.T) {
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	require.EqualValues(t, 5, median([]uint64{9, 1, 5}))
	xs := []int{3, 1, 2}
	median(xs)
	require.Equal(t, []int{3, 1, 2}, xs, "median must not reorder its input")
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte(statLine))
	f.Add([]byte("1 (a) R 0 0 0 0 0 0 0 0 0 0 0 0\n"))
	f.Add([]byte("1 ((() R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseProcStat(b)
		if err != nil {
			return
		}
		require.Contains(t, string(b), "("+st.Comm+")")
	})
}
