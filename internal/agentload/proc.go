package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ: /proc CPU times count these per second.
const clockTicks = 100

// procSample is one reading of a process.
type procSample struct {
	At       time.Time
	CPUTicks int64 // utime + stime
	RSSKiB   int64
}

// readProc reads pid's CPU time and resident memory from /proc.
func readProc(pid int) (procSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	ticks, err := parseStatTicks(stat)
	if err != nil {
		return procSample{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, err
	}
	return procSample{At: time.Now(), CPUTicks: ticks, RSSKiB: parseRSS(status)}, nil
}

// parseStatTicks returns utime + stime from a /proc/PID/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatTicks(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("proc stat: too few fields")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("proc stat: %w", err)
	}
	return u + s, nil
}

// parseRSS returns VmRSS in KiB from /proc/PID/status, 0 if absent.
func parseRSS(status []byte) int64 {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) == 0 {
			return 0
		}
		v, _ := strconv.ParseInt(f[0], 10, 64)
		return v
	}
	return 0
}

// sampleProcs reads each pid once a second until ctx ends and returns the
// readings, one slice per pid.
func sampleProcs(ctx context.Context, pids ...int) [][]procSample {
	out := make([][]procSample, len(pids))
	read := func() {
		for i, pid := range pids {
			if s, err := readProc(pid); err == nil {
				out[i] = append(out[i], s)
			}
		}
	}
	read()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			read()
			return out
		case <-t.C:
			read()
		}
	}
}

// cpuBetween is the share of one core a process used between from and to,
// from its samples (0 when fewer than two fall in the window).
func cpuBetween(s []procSample, from, to time.Time) float64 {
	var first, last *procSample
	for i := range s {
		if s[i].At.Before(from) || s[i].At.After(to) {
			continue
		}
		if first == nil {
			first = &s[i]
		}
		last = &s[i]
	}
	if first == nil || last == first {
		return 0
	}
	secs := last.At.Sub(first.At).Seconds()
	return float64(last.CPUTicks-first.CPUTicks) / clockTicks / secs
}

// peakRSS is the highest resident memory in the samples, in KiB.
func peakRSS(s []procSample) int64 {
	var peak int64
	for _, x := range s {
		peak = max(peak, x.RSSKiB)
	}
	return peak
}
