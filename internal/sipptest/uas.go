package sipptest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// UASOptions configure StartUAS.
type UASOptions struct {
	// LocalIP is the address the UAS listens on (default 127.0.0.1).
	LocalIP string
	// ExtraArgs are appended to the sipp command line as they are.
	ExtraArgs []string
	// Logger receives start and stop messages (default slog.Default()).
	Logger *slog.Logger
}

// UAS is a running `sipp -sn uas -rtp_echo`: it answers every call and
// echoes RTP. Close stops it.
type UAS struct {
	addr      string
	mediaPort int
	dir       string
	cmd       *exec.Cmd
	log       *slog.Logger
	done      chan struct{} // closed when the process has exited
	waitErr   error         // set before done is closed
	closeOnce sync.Once
	closeErr  error
}

// uasStartTimeout bounds how long StartUAS waits for SIPp to bind its port.
const uasStartTimeout = 10 * time.Second

// StartUAS starts SIPp's built-in UAS with RTP echo on free loopback ports
// and returns once it listens for SIP. ctx bounds the UAS's whole life.
func StartUAS(ctx context.Context, o UASOptions) (*UAS, error) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		return nil, ErrNotInstalled
	}
	ip := cmpOr(o.LocalIP, "127.0.0.1")
	log := cmpOr(o.Logger, slog.Default())
	sipPort, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	mediaPort, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sipptest-uas-")
	if err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "output.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := append([]string{
		"-sn", "uas",
		"-i", ip, "-mi", ip,
		"-p", strconv.Itoa(sipPort), "-mp", strconv.Itoa(mediaPort),
		"-rtp_echo", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}, o.ExtraArgs...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Start(); err != nil {
		out.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("sipptest: start sipp uas: %w", err)
	}
	u := &UAS{
		addr:      net.JoinHostPort(ip, strconv.Itoa(sipPort)),
		mediaPort: mediaPort,
		dir:       dir,
		cmd:       cmd,
		log:       log,
		done:      make(chan struct{}),
	}
	go func() {
		u.waitErr = cmd.Wait()
		out.Close()
		close(u.done)
	}()
	if err := u.waitListening(ip, sipPort); err != nil {
		_ = u.Close()
		return nil, err
	}
	log.Info("sipp uas started", "addr", u.addr, "media_port", mediaPort, "pid", cmd.Process.Pid)
	return u, nil
}

// waitListening polls until SIPp holds its SIP port, or fails if it exits.
func (u *UAS) waitListening(ip string, port int) error {
	deadline := time.Now().Add(uasStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-u.done:
			return fmt.Errorf("sipptest: sipp uas exited at start (%v)\noutput:\n%s",
				u.waitErr, readTail(filepath.Join(u.dir, "output.log"), outputTail))
		case <-time.After(20 * time.Millisecond):
		}
		if !portFree(ip, port) {
			return nil
		}
	}
	return fmt.Errorf("sipptest: sipp uas did not listen on %s within %v", u.addr, uasStartTimeout)
}

// Addr is the UAS's SIP address, "127.0.0.1:PORT", to use as Options.Target.
func (u *UAS) Addr() string { return u.addr }

// MediaPort is the UDP port the UAS names in its SDP and echoes RTP on.
func (u *UAS) MediaPort() int { return u.mediaPort }

// PID is the sipp process id, for CPU and memory sampling from /proc.
func (u *UAS) PID() int { return u.cmd.Process.Pid }

// ErrorLog returns what SIPp's -trace_err has logged so far: unexpected
// messages and failed calls.
func (u *UAS) ErrorLog() string {
	b, err := os.ReadFile(filepath.Join(u.dir, "errors.log"))
	if err != nil {
		return ""
	}
	return string(b)
}

// Close stops the UAS (SIGTERM, then SIGKILL after a grace period), waits for
// it to exit and removes its files. It is safe to call more than once.
func (u *UAS) Close() error {
	u.closeOnce.Do(func() {
		select {
		case <-u.done:
		default:
			_ = u.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-u.done:
			case <-time.After(stopGrace):
				_ = u.cmd.Process.Kill()
				<-u.done
			}
		}
		var exitErr *exec.ExitError
		// A signal exit (our SIGTERM, or ctx ending) is the normal way to stop.
		if u.waitErr != nil && !errors.As(u.waitErr, &exitErr) &&
			!errors.Is(u.waitErr, context.Canceled) && !errors.Is(u.waitErr, context.DeadlineExceeded) {
			u.closeErr = fmt.Errorf("sipptest: sipp uas: %w", u.waitErr)
		}
		if err := os.RemoveAll(u.dir); err != nil && u.closeErr == nil {
			u.closeErr = err
		}
		u.log.Info("sipp uas stopped", "addr", u.addr)
	})
	return u.closeErr
}
