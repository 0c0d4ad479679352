package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. The
// Linux ABI fixes it at 100 for every architecture's user space.
const clockTicks = 100

// procStat holds the fields of /proc/PID/stat the benchmark uses.
type procStat struct {
	Comm  string // executable name, without the parentheses
	PPID  int
	UTime uint64 // user CPU, clock ticks
	STime uint64 // system CPU, clock ticks
}

// CPUTicks is user plus system CPU time in clock ticks.
func (s procStat) CPUTicks() uint64 { return s.UTime + s.STime }

// parseProcStat parses one /proc/PID/stat line. The command name sits in
// parentheses and may itself hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return procStat{}, errors.New("proc stat: no (comm)")
	}
	st := procStat{Comm: string(b[open+1 : closing])}
	// After ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8)
	// flags(9) minflt(10) cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15).
	f := strings.Fields(string(b[closing+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("proc stat: %d fields after comm, want at least 13", len(f))
	}
	var err error
	if st.PPID, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, fmt.Errorf("proc stat: ppid %q", f[1])
	}
	if st.UTime, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("proc stat: utime %q", f[11])
	}
	if st.STime, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("proc stat: stime %q", f[12])
	}
	return st, nil
}

// readProcStat reads /proc/PID/stat.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// procMem is resident memory from /proc/PID/status, in KiB.
type procMem struct {
	RSS  uint64 // VmRSS: resident now
	Peak uint64 // VmHWM: the highest VmRSS since the process started
}

// parseProcStatus reads VmRSS and VmHWM from /proc/PID/status. Both must be
// present (a zombie has neither).
func parseProcStatus(r io.Reader) (procMem, error) {
	var m procMem
	var haveRSS, havePeak bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return procMem{}, fmt.Errorf("proc status: %s: want `N kB`, got %q", name, rest)
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return procMem{}, fmt.Errorf("proc status: %s: %q", name, f[0])
		}
		if name == "VmRSS" {
			m.RSS, haveRSS = v, true
		} else {
			m.Peak, havePeak = v, true
		}
	}
	if err := sc.Err(); err != nil {
		return procMem{}, fmt.Errorf("proc status: %w", err)
	}
	if !haveRSS || !havePeak {
		return procMem{}, errors.New("proc status: no VmRSS/VmHWM (process gone?)")
	}
	return m, nil
}

// readProcMem reads /proc/PID/status.
func readProcMem(pid int) (procMem, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return procMem{}, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

// findChild returns the pid of a live child of parent whose executable name
// is comm, skipping the pids in skip, or 0 if there is none.
func findChild(parent int, comm string, skip ...int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
next:
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, s := range skip {
			if pid == s {
				continue next
			}
		}
		st, err := readProcStat(pid)
		if err == nil && st.PPID == parent && st.Comm == comm {
			return pid
		}
	}
	return 0
}
