package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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

// agentName is the user name of agent i (1-based): agent001, agent002, ….
func agentName(i int) string { return fmt.Sprintf("agent%03d", i) }

// writeConfig writes a hotline config for the run into dir: the demo's SIP,
// IVR and prompts, a support queue whose members are the agents, and the
// softphone on muxPort. The demo's flows, prompts and music are linked
// next to it (relative paths resolve against the config's folder).
func writeConfig(dir, root string, agents, muxPort int) (string, error) {
	for _, d := range []string{"flows", "prompts", "music"} {
		if err := os.Symlink(filepath.Join(root, "internal", "demo", d), filepath.Join(dir, d)); err != nil {
			return "", fmt.Errorf("link demo %s: %w", d, err)
		}
	}
	var members strings.Builder
	for i := 1; i <= agents; i++ {
		fmt.Fprintf(&members, "        - {agent: %s}\n", agentName(i))
	}
	cfg := `# Written by internal/agentload for one benchmark run.
sip:
  addr: 127.0.0.1:0
  max_calls: 5000
  invite_rate: 1000
  invite_burst: 2000
  trunks:
    - name: load
      allow: []
      flow: demo
      inband_dtmf: auto
http:
  addr: 127.0.0.1:0
rtp:
  ip: 127.0.0.1
  media_timeout: 30s
store:
  data_dir: data
prompts:
  dir: prompts
  languages: [en, ru]
  default_language: en
hold_music: music/hold.wav
flows:
  demo: flows/demo.yaml
acd:
  not_ready_reasons: [break]
  queues:
    - name: support
      strategy: longest-idle
      members:
` + members.String() + `      ring_timeout: 10s
      wrap_up: 0s
      max_wait: 20m
      join_when_empty: true
    - name: billing
      members:
        - {agent: agent001}
      join_when_empty: true
    - name: operator
      members:
        - {agent: agent001}
      join_when_empty: true
softphone:
  udp_addr: 127.0.0.1:` + fmt.Sprint(muxPort) + `
shutdown:
  drain_timeout: 5s
log:
  level: info
  format: text
`
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o644)
}

// freeUDPPort returns a loopback UDP port that is free right now.
func freeUDPPort() (int, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}

// addAgents creates the agents with `hotline user add`, a few processes at
// a time (each hashes a password with bcrypt), all with password.
func addAgents(ctx context.Context, bin, config, data string, agents, parallel int, password string) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				cmd := exec.CommandContext(ctx, bin, "user", "add", "--username", agentName(i),
					"--role", "agent", "--password-stdin", "--config", config, "--data", data)
				cmd.Stdin = strings.NewReader(password + "\n")
				if out, err := cmd.CombinedOutput(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("hotline user add %s: %w\n%s", agentName(i), err, out)
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := 1; i <= agents; i++ {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return firstErr
}

// server is a running `hotline serve`.
type server struct {
	cmd      *exec.Cmd
	SIPAddr  string
	HTTPAddr string
	logPath  string

	done      chan struct{} // closed once the process has exited
	waitErr   error
	closeOnce sync.Once
}

// startTimeout bounds how long serve may take to print its addresses and be ready.
const startTimeout = 30 * time.Second

// stopTimeout is how long serve gets after SIGTERM before it is killed.
const stopTimeout = 20 * time.Second

// bannerRE reads serve's first line: where SIP and HTTP listen.
var bannerRE = regexp.MustCompile(`SIP on (\S+) .*HTTP on http://(\S+)`)

// startServer runs `hotline serve` with the config, RTP ports and data
// folder given; it logs to logPath and returns once /readyz answers 200.
func startServer(ctx context.Context, bin, config, data, rtpPorts, logPath string, log *slog.Logger) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", config, "--data", data, "--rtp-ports", rtpPorts,
		"--sip", "127.0.0.1:0", "--http", "127.0.0.1:0")
	cmd.Dir = filepath.Dir(config)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the benchmark
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start hotline: %w", err)
	}
	s := &server{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	banner := make(chan []string, 1)
	go func() { // owned by s: ends when the process exits; Close waits for done
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
	fail := func(err error) (*server, error) {
		s.Close()
		return nil, fmt.Errorf("%w\nhotline log (tail):\n%s", err, s.LogTail(3000))
	}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	select {
	case m := <-banner:
		s.SIPAddr, s.HTTPAddr = m[1], m[2]
	case <-s.done:
		return fail(fmt.Errorf("hotline exited at start: %v", s.waitErr))
	case <-deadline.C:
		return fail(fmt.Errorf("hotline printed no addresses within %v", startTimeout))
	case <-ctx.Done():
		return fail(context.Cause(ctx))
	}
	for {
		if status, err := httpGet(ctx, "http://"+s.HTTPAddr+"/readyz"); err == nil && status == http.StatusOK {
			break
		}
		select {
		case <-s.done:
			return fail(fmt.Errorf("hotline exited before ready: %v", s.waitErr))
		case <-deadline.C:
			return fail(fmt.Errorf("hotline not ready within %v", startTimeout))
		case <-ctx.Done():
			return fail(context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
	log.Info("hotline ready", "pid", s.PID(), "sip", s.SIPAddr, "http", s.HTTPAddr)
	return s, nil
}

// httpGet returns the status of a GET.
func httpGet(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// scrapeMetrics returns the hotline's /metrics text.
func (s *server) scrapeMetrics(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTPAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape /metrics: HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

// PID is the hotline's process id.
func (s *server) PID() int { return s.cmd.Process.Pid }

// LogTail returns up to n bytes from the end of the hotline's log.
func (s *server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Problems returns how many warning and error lines the hotline logged and
// the first few of them that are not pion's (ICE and DTLS chatter at
// connection set-up and teardown).
func (s *server) Problems(keep int) (int, []string) {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return 0, nil
	}
	count := 0
	var first []string
	for line := range bytes.Lines(b) {
		if !bytes.Contains(line, []byte("level=WARN")) && !bytes.Contains(line, []byte("level=ERROR")) {
			continue
		}
		count++
		if len(first) < keep && !bytes.Contains(line, []byte("pion=")) {
			first = append(first, strings.TrimSpace(string(line)))
		}
	}
	return count, first
}

// Close stops the hotline with SIGTERM, kills it after stopTimeout, and
// waits for it. It is idempotent and reports a kill.
func (s *server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.done
			err = errors.New("hotline did not stop within its drain time; killed")
		}
	})
	return err
}
