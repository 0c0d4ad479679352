package loadkit

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
	"regexp"
	"sync"
	"syscall"
	"time"
)

// StartTimeout bounds how long `hotline serve` may take to print its
// addresses and answer /readyz.
const StartTimeout = 30 * time.Second

// bannerRE matches serve's first line of output: where SIP and HTTP listen.
var bannerRE = regexp.MustCompile(`SIP on (\S+) .*HTTP on http://(\S+)`)

// ServerConfig says how to run `hotline serve`.
type ServerConfig struct {
	Bin  string   // the hotline binary
	Dir  string   // its working folder
	Args []string // flags after "serve"; SIP and HTTP on free loopback ports are added
	// LogPath is the file its standard error (its log) goes to.
	LogPath string
	// StopTimeout is how long Close lets it drain after SIGTERM before
	// killing it.
	StopTimeout time.Duration
	// Log gets "hotline ready" and a warning on a kill; nil discards them.
	Log *slog.Logger
}

// Server is a running `hotline serve`. A goroutine it owns reads the
// process's output and waits for it; Close waits for that goroutine.
type Server struct {
	cmd         *exec.Cmd
	sipAddr     string
	httpAddr    string
	logPath     string
	stopTimeout time.Duration
	log         *slog.Logger

	done      chan struct{} // closed when the process has exited
	waitErr   error         // set before done is closed
	closeOnce sync.Once
	closeErr  error
}

// StartServer runs `hotline serve` with SIP and HTTP on loopback port 0
// (the real ports are read from its banner) and returns once /readyz
// answers 200. The process is killed if this one dies.
func StartServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	logf, err := os.Create(cfg.LogPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve"}, cfg.Args...)
	args = append(args, "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0")
	cmd := exec.Command(cfg.Bin, args...)
	cmd.Dir = cfg.Dir
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
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cmd: cmd, logPath: cfg.LogPath, stopTimeout: cfg.StopTimeout, log: log, done: make(chan struct{})}
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
		s.waitErr = cmd.Wait()
		logf.Close()
		close(s.done)
	}()

	fail := func(err error) (*Server, error) {
		_ = s.Close()
		return nil, fmt.Errorf("%w\nhotline log (tail):\n%s", err, s.LogTail(3000))
	}
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case m := <-banner:
		s.sipAddr, s.httpAddr = m[1], m[2]
	case <-s.done:
		return fail(fmt.Errorf("hotline exited at start: %v", s.waitErr))
	case <-timer.C:
		return fail(fmt.Errorf("hotline printed no listen addresses within %v", StartTimeout))
	case <-ctx.Done():
		return fail(context.Cause(ctx))
	}
	if err := s.waitReady(ctx, timer.C); err != nil {
		return fail(err)
	}
	log.Info("hotline ready", "pid", s.PID(), "sip", s.sipAddr, "http", s.httpAddr)
	return s, nil
}

// waitReady polls /readyz until it answers 200.
func (s *Server) waitReady(ctx context.Context, deadline <-chan time.Time) error {
	url := "http://" + s.httpAddr + "/readyz"
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
		case <-s.done:
			return fmt.Errorf("hotline exited before ready: %v", s.waitErr)
		case <-deadline:
			return fmt.Errorf("hotline %s not ready within %v", url, StartTimeout)
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SIPAddr is where the hotline listens for SIP (host:port).
func (s *Server) SIPAddr() string { return s.sipAddr }

// HTTPAddr is where the hotline serves HTTP (host:port).
func (s *Server) HTTPAddr() string { return s.httpAddr }

// PID is the hotline's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// LogPath is the file the hotline logs to.
func (s *Server) LogPath() string { return s.logPath }

// LogTail returns up to n bytes from the end of the hotline's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Close stops the hotline with SIGTERM (it drains), kills it if it has not
// exited after the stop timeout, and waits for it and its goroutine. It
// reports a kill or an exit status other than by a signal. It is
// idempotent: later calls return the first call's error.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(s.stopTimeout):
				s.log.Warn("hotline did not stop after SIGTERM; killing it", "pid", s.PID())
				_ = s.cmd.Process.Kill()
				<-s.done
				s.closeErr = errors.New("hotline did not stop within the drain time; killed")
			}
		}
		var exit *exec.ExitError
		if s.closeErr == nil && s.waitErr != nil && !errors.As(s.waitErr, &exit) {
			s.closeErr = fmt.Errorf("hotline: %w", s.waitErr)
		}
		if s.closeErr == nil && exit != nil && exit.Exited() {
			s.closeErr = fmt.Errorf("hotline exited with status %d", exit.ExitCode())
		}
	})
	return s.closeErr
}
