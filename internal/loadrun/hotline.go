package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// moduleRoot returns the folder of the go.mod that `go` sees from the
// current directory.
func moduleRoot(ctx context.Context, goBin string) (string, error) {
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the hotline module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

// buildHotline compiles ./cmd/hotline of the module at root into dir.
func buildHotline(ctx context.Context, goBin, root, dir string) (string, error) {
	bin := filepath.Join(dir, "hotline")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/hotline")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hotline: %w\n%s", err, out)
	}
	return bin, nil
}

// hotline is a running `hotline serve` process.
type hotline struct {
	cmd      *exec.Cmd
	sipAddr  string
	httpAddr string
	logPath  string
	log      *slog.Logger

	done      chan struct{} // closed when the process has exited
	waitErr   error         // set before done is closed
	closeOnce sync.Once
	closeErr  error
}

// hotlineStartTimeout bounds how long the hotline may take to listen and be ready.
const hotlineStartTimeout = 30 * time.Second

// hotlineStopTimeout is how long the hotline gets to drain after SIGTERM
// before it is killed (its demo drain timeout is 30 s).
const hotlineStopTimeout = 40 * time.Second

// bannerRE matches serve's first line of output: where SIP and HTTP listen.
var bannerRE = regexp.MustCompile(`SIP on (\S+) .*HTTP on http://(\S+)`)

// startHotline runs `hotline serve` with SIP and HTTP on free loopback ports
// (port 0; the real ones are read from its banner), the given RTP port range
// and a data folder under dir, and returns once /readyz answers 200. Its log
// goes to logDir/hotline.log.
func startHotline(ctx context.Context, bin, dir, logDir, rtpPorts string, log *slog.Logger) (*hotline, error) {
	logPath := filepath.Join(logDir, "hotline.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve",
		"--sip", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--rtp-ports", rtpPorts, "--data", filepath.Join(dir, "data"))
	cmd.Dir = dir
	cmd.Stderr = logf
	// If the benchmark dies, the kernel kills the hotline too: no leftovers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start hotline: %w", err)
	}
	h := &hotline{cmd: cmd, logPath: logPath, log: log, done: make(chan struct{})}
	banner := make(chan []string, 1)
	go func() {
		// Read the banner, then drain stdout so the process never blocks on it.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := bannerRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case banner <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		h.waitErr = cmd.Wait()
		logf.Close()
		close(h.done)
	}()

	fail := func(err error) (*hotline, error) {
		_ = h.Close()
		return nil, fmt.Errorf("%w\nhotline log:\n%s", err, h.LogTail(3000))
	}
	timer := time.NewTimer(hotlineStartTimeout)
	defer timer.Stop()
	select {
	case m := <-banner:
		h.sipAddr, h.httpAddr = m[1], m[2]
	case <-h.done:
		return fail(fmt.Errorf("hotline exited at start: %v", h.waitErr))
	case <-timer.C:
		return fail(fmt.Errorf("hotline printed no listen addresses within %v", hotlineStartTimeout))
	case <-ctx.Done():
		return fail(context.Cause(ctx))
	}
	if err := h.waitReady(ctx, timer.C); err != nil {
		return fail(err)
	}
	log.Info("hotline ready", "pid", h.PID(), "sip", h.sipAddr, "http", h.httpAddr, "rtp_ports", rtpPorts)
	return h, nil
}

// waitReady polls /readyz until it answers 200.
func (h *hotline) waitReady(ctx context.Context, deadline <-chan time.Time) error {
	url := "http://" + h.httpAddr + "/readyz"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-h.done:
			return fmt.Errorf("hotline exited before ready: %v", h.waitErr)
		case <-deadline:
			return fmt.Errorf("hotline %s not ready within %v", url, hotlineStartTimeout)
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// PID is the hotline's process id.
func (h *hotline) PID() int { return h.cmd.Process.Pid }

// LogTail returns up to n bytes from the end of the hotline's log.
func (h *hotline) LogTail(n int) string {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Problems returns the hotline log's warning and error lines (up to n bytes
// of them) and how many there were.
func (h *hotline) Problems(n int) (string, int) {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		return "", 0
	}
	var out strings.Builder
	count := 0
	for line := range strings.Lines(string(b)) {
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		count++
		if out.Len()+len(line) <= n {
			out.WriteString(line)
		}
	}
	return out.String(), count
}

// Close stops the hotline with SIGTERM (it drains), kills it if it has not
// exited after hotlineStopTimeout, and waits for it. It is idempotent.
func (h *hotline) Close() error {
	h.closeOnce.Do(func() {
		select {
		case <-h.done:
		default:
			_ = h.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-h.done:
			case <-time.After(hotlineStopTimeout):
				h.log.Warn("hotline did not stop after SIGTERM; killing it", "pid", h.PID())
				_ = h.cmd.Process.Kill()
				<-h.done
				h.closeErr = errors.New("hotline did not stop within the drain time; killed")
			}
		}
		var exit *exec.ExitError
		if h.closeErr == nil && h.waitErr != nil && !errors.As(h.waitErr, &exit) {
			h.closeErr = fmt.Errorf("hotline: %w", h.waitErr)
		}
		if h.closeErr == nil && exit != nil && !exit.Exited() {
			h.closeErr = nil // ended by a signal: ours
		} else if h.closeErr == nil && exit != nil {
			h.closeErr = fmt.Errorf("hotline exited with status %d", exit.ExitCode())
		}
	})
	return h.closeErr
}
