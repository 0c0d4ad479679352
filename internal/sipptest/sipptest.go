package sipptest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotInstalled reports that the sipp binary is not on PATH.
var ErrNotInstalled = errors.New("sipp not found on PATH: install it with `apt-get install -y sip-tester`")

// Options configure one SIPp run of a caller scenario.
type Options struct {
	// Scenario is the path of the scenario XML (required). SIPp runs with its
	// folder as the current directory, so the scenario's media files resolve.
	Scenario string
	// Target is the callee, "127.0.0.1:5060" (required).
	Target string
	// Service is the user part of the request URI (SIPp's -s; default "service").
	Service string
	// Calls is the total number of calls (-m; default 1).
	Calls int
	// Rate is new calls per second (-r; default 10).
	Rate float64
	// Concurrency caps simultaneous calls (-l; default: SIPp's own).
	Concurrency int
	// Keys are scenario keywords passed as -key NAME VALUE, e.g. {"hold": "8000"}.
	Keys map[string]string
	// Transport is SIPp's -t (default "u1", UDP with one socket; "t1" for TCP).
	Transport string
	// LocalIP is the address SIPp binds for SIP and media (default 127.0.0.1).
	LocalIP string
	// RecvTimeout aborts a call that waits longer for an expected message
	// (-recv_timeout; default 10 s).
	RecvTimeout time.Duration
	// Timeout bounds the whole run; SIPp is stopped when it passes (default:
	// only ctx bounds the run).
	Timeout time.Duration
	// ExtraArgs are appended to the command line as they are.
	ExtraArgs []string
}

// Result is the outcome of a run.
type Result struct {
	// Stats are SIPp's final cumulative counters.
	Stats
	// Calls is the number of calls asked for.
	Calls int
	// ExitCode is SIPp's exit status: 0 every call succeeded, 1 some failed.
	ExitCode int
	// ErrorLog is SIPp's -trace_err log: unexpected messages and call errors.
	ErrorLog string
	// Output is the tail of SIPp's standard output and error.
	Output string
}

// Err returns nil when every asked-for call succeeded, or an error that
// names the failures and quotes SIPp's error log.
func (r Result) Err() error {
	if r.ExitCode == 0 && r.Failed == 0 && r.Successful == r.Calls {
		return nil
	}
	return fmt.Errorf("sipp: %d of %d calls succeeded, %d failed (exit %d)\nerror log:\n%s\noutput:\n%s",
		r.Successful, r.Calls, r.Failed, r.ExitCode, tail(r.ErrorLog, 4000), r.Output)
}

// outputTail is how much of SIPp's console output Result keeps.
const outputTail = 4000

// stopGrace is how long SIPp gets to exit after SIGTERM before it is killed.
const stopGrace = 5 * time.Second

// Run runs the scenario with sipp until Calls calls are done, ctx ends or
// Timeout passes. It returns an error when sipp is not installed
// (ErrNotInstalled), cannot start, stops early or leaves no statistics;
// failed calls are not an error of Run: see Result.Err.
func Run(ctx context.Context, o Options) (Result, error) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		return Result{}, ErrNotInstalled
	}
	if o.Target == "" {
		return Result{}, errors.New("sipptest: Options.Target is required")
	}
	scenario, err := filepath.Abs(o.Scenario)
	if err != nil {
		return Result{}, err
	}
	if _, err := os.Stat(scenario); err != nil {
		return Result{}, fmt.Errorf("sipptest: scenario: %w", err)
	}
	o.Calls = cmpOr(o.Calls, 1)
	if o.Calls < 0 || o.Rate < 0 || o.Concurrency < 0 {
		return Result{}, errors.New("sipptest: Calls, Rate and Concurrency must not be negative")
	}
	dir, err := os.MkdirTemp("", "sipptest-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)

	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	args, err := runArgs(o, scenario, dir)
	if err != nil {
		return Result{}, err
	}
	out, err := os.Create(filepath.Join(dir, "output.log"))
	if err != nil {
		return Result{}, err
	}
	defer out.Close()

	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(scenario)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	runErr := cmd.Run()
	if cmd.ProcessState == nil {
		return Result{}, fmt.Errorf("sipptest: start sipp: %w", runErr)
	}

	res := Result{Calls: o.Calls, ExitCode: cmd.ProcessState.ExitCode()}
	res.Output = readTail(filepath.Join(dir, "output.log"), outputTail)
	if b, err := os.ReadFile(filepath.Join(dir, "errors.log")); err == nil {
		res.ErrorLog = string(b)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("sipptest: run stopped: %w\noutput:\n%s", context.Cause(ctx), res.Output)
	}
	f, err := os.Open(filepath.Join(dir, "stats.csv"))
	if err != nil {
		return res, fmt.Errorf("sipptest: sipp left no statistics (%v): %w\noutput:\n%s", runErr, err, res.Output)
	}
	defer f.Close()
	if res.Stats, err = ParseStats(f); err != nil {
		return res, fmt.Errorf("sipptest: %w\noutput:\n%s", err, res.Output)
	}
	if res.ExitCode != 0 && res.ExitCode != 1 {
		return res, fmt.Errorf("sipptest: sipp exited with status %d\nerror log:\n%s\noutput:\n%s",
			res.ExitCode, tail(res.ErrorLog, 4000), res.Output)
	}
	return res, nil
}

// runArgs builds the sipp command line for o, writing logs into dir.
func runArgs(o Options, scenario, dir string) ([]string, error) {
	ip := cmpOr(o.LocalIP, "127.0.0.1")
	sipPort, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	mediaPort, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	rate := cmpOr(o.Rate, 10)
	recv := cmpOr(o.RecvTimeout, 10*time.Second)
	args := []string{
		o.Target,
		"-sf", scenario,
		"-i", ip, "-mi", ip,
		"-p", strconv.Itoa(sipPort), "-mp", strconv.Itoa(mediaPort),
		"-t", cmpOr(o.Transport, "u1"),
		"-m", strconv.Itoa(o.Calls),
		"-r", strconv.FormatFloat(rate, 'f', -1, 64),
		"-recv_timeout", strconv.FormatInt(recv.Milliseconds(), 10),
		"-nostdin",
		"-trace_stat", "-stf", filepath.Join(dir, "stats.csv"), "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}
	if o.Service != "" {
		args = append(args, "-s", o.Service)
	}
	if o.Concurrency > 0 {
		args = append(args, "-l", strconv.Itoa(o.Concurrency))
	}
	for _, k := range slices.Sorted(maps.Keys(o.Keys)) {
		if k == "" || strings.ContainsAny(k, " []") {
			return nil, fmt.Errorf("sipptest: bad key name %q", k)
		}
		args = append(args, "-key", k, o.Keys[k])
	}
	return append(args, o.ExtraArgs...), nil
}

// freePort returns a UDP and TCP port that is free on ip right now, and whose
// neighbour two above is free too (SIPp's echo also binds port+2).
func freePort(ip string) (int, error) {
	for range 20 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, fmt.Errorf("sipptest: find a free port: %w", err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ok := portFree(ip, port+2) && tcpPortFree(ip, port)
		pc.Close()
		if ok && port+2 <= 65535 {
			return port, nil
		}
	}
	return 0, errors.New("sipptest: no free port pair found")
}

// portFree reports whether a UDP port can be bound on ip.
func portFree(ip string, port int) bool {
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	pc.Close()
	return true
}

// tcpPortFree reports whether a TCP port can be bound on ip.
func tcpPortFree(ip string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// readTail returns up to n bytes from the end of a file ("" if unreadable).
func readTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return tail(string(b), n)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
