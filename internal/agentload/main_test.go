package main

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseFlagsDefaultsAreTheBenchmark(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 300, o.Calls)
	require.Equal(t, 30.0, o.Rate)
	require.Equal(t, 30000, o.rtpLo)
	require.Equal(t, 32767, o.rtpHi)
	// 300 calls at 30/s take 10 s to arrive; with 3.5 s of IVR each, all are
	// bridged together for hold − 13.5 s, which must reach the 20 s goal.
	together := o.Hold - time.Duration(float64(o.Calls)/o.Rate*float64(time.Second)) - digitsTime
	require.GreaterOrEqual(t, together, goalTogether)
}

func TestParseFlagsRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-calls", "0"}, {"-rate", "0"}, {"-hold", "0s"}, {"-rtp-ports", "30000"},
		{"-rtp-ports", "3000-2000"}, {"extra"},
	} {
		_, err := parseFlags(args, io.Discard)
		require.Error(t, err, "%q", args)
	}
}

func TestParseStatTicksWithSpacesInName(t *testing.T) {
	stat := "1234 (hot line) S 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 1000000 2000 18446744073709551615"
	ticks, err := parseStatTicks([]byte(stat))
	require.NoError(t, err)
	require.Equal(t, int64(300), ticks)
	_, err = parseStatTicks([]byte("garbage"))
	require.Error(t, err)
}

func TestCPUBetweenUsesTheWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := []procSample{
		{At: t0, CPUTicks: 0, RSSKiB: 10},
		{At: t0.Add(time.Second), CPUTicks: 50, RSSKiB: 30},
		{At: t0.Add(3 * time.Second), CPUTicks: 150, RSSKiB: 20},
	}
	require.InDelta(t, 0.5, cpuBetween(s, t0.Add(time.Second), t0.Add(3*time.Second)), 1e-9)
	require.Zero(t, cpuBetween(s, t0.Add(10*time.Second), t0.Add(20*time.Second)))
	require.Equal(t, int64(30), peakRSS(s))
	require.Equal(t, int64(2048), parseRSS([]byte("Name:\thotline\nVmRSS:\t    2048 kB\n")))
}

func TestReportNamesFailedCalls(t *testing.T) {
	r := &report{Opts: options{Calls: 2}, Offered: 2, Connected: 1, Ended: 2}
	r.SIPp.Calls, r.SIPp.Successful, r.SIPp.Failed, r.SIPp.ExitCode = 2, 1, 1, 1
	problems := strings.Join(r.failures(), "; ")
	require.Contains(t, problems, "SIPp: 1 of 2 calls succeeded, 1 failed")
	require.Contains(t, problems, "1 heard the caller")
	var out strings.Builder
	r.write(&out)
	require.Contains(t, out.String(), "| calls completed (SIPp) | 1 of 2")
	require.Contains(t, out.String(), "✗")
}

func TestCaptureFilterAssembles(t *testing.T) {
	prog, err := captureFilter(captureConfig{MuxPort: 50000, SIPPort: 5060, RTPLo: 20000, RTPHi: 29999})
	require.NoError(t, err)
	require.Len(t, prog, 19)
}

func TestKernelTimeReadsTimestampMessage(t *testing.T) {
	_, ok := kernelTime(nil)
	require.False(t, ok)
	_, ok = kernelTime(make([]byte, 8))
	require.False(t, ok)
}

func TestKernelTimeFromControlMessage(t *testing.T) {
	oob := make([]byte, 32)
	binary.NativeEndian.PutUint64(oob, 32)
	binary.NativeEndian.PutUint32(oob[8:], uint32(unix.SOL_SOCKET))
	binary.NativeEndian.PutUint32(oob[12:], uint32(unix.SCM_TIMESTAMPNS))
	binary.NativeEndian.PutUint64(oob[16:], 1700000000)
	binary.NativeEndian.PutUint64(oob[24:], 123456789)
	at, ok := kernelTime(oob)
	require.True(t, ok)
	require.Equal(t, time.Unix(1700000000, 123456789), at)
}

func TestParseFlagsBoundsSupervisors(t *testing.T) {
	o, err := parseFlags([]string{"-supervisors", "20", "-monitor", "20"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 20, o.Supervisors)
	require.Equal(t, 20, o.Monitor)
	for _, args := range [][]string{
		{"-supervisors", "-1"}, {"-supervisors", "101"}, {"-monitor", "1"},
		{"-supervisors", "5", "-monitor", "6"}, {"-calls", "2", "-supervisors", "5", "-monitor", "3"},
	} {
		_, err := parseFlags(args, io.Discard)
		require.Error(t, err, "%q", args)
	}
}

// Each supervisor's first sighting of a call counts against the moment its
// agent was told it connected; a pair never seen is missing, and the run
// fails on it.
func TestPushLatencyPairsSupervisorsWithCalls(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := &watchers{seen: []map[string]time.Time{
		{"c1": t0.Add(100 * time.Millisecond), "c2": t0.Add(300 * time.Millisecond)},
		{"c1": t0.Add(-time.Millisecond)}, // ahead of the agent's own message: 0
	}}
	calls := []callRecord{
		{CallID: "c1", ConnectedAt: t0},
		{CallID: "c2", ConnectedAt: t0.Add(100 * time.Millisecond)},
		{CallID: "c3"}, // never connected: not counted
	}
	lat, missing := w.pushes(calls)
	require.ElementsMatch(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 0}, lat)
	require.Equal(t, 1, missing, "the second supervisor never saw c2")

	r := &report{Opts: options{Calls: 2, Supervisors: 2, Monitor: 1}, watchers: w}
	r.analyze(nil, &pool{calls: calls})
	require.Equal(t, 1, r.Supervision.PushMissing)
	problems := strings.Join(r.failures(), "; ")
	require.Contains(t, problems, "1 call sightings missing")
	require.Contains(t, problems, "0 of 1 monitors heard their call")
	var out strings.Builder
	r.write(&out)
	require.Contains(t, out.String(), "| **push latency**")
	require.Contains(t, out.String(), "| calls monitored at once (listen, one supervisor each) | 0 of 1")
}
