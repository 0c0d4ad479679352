package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// agentName is the user name of agent i (1-based): agent001, agent002, ….
func agentName(i int) string { return fmt.Sprintf("agent%03d", i) }

// writeConfig writes a hotline config for the run into dir: the demo's SIP,
// IVR and prompts, a support queue whose members are the agents and that
// records as record says, and the softphone on muxPort. The demo's flows,
// prompts and music are linked next to it (relative paths resolve against
// the config's folder).
func writeConfig(dir, root string, agents, muxPort int, record string) (string, error) {
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
  # Every load agent comes from 127.0.0.1, like agents behind one NAT address:
  # the per-source connection cap must allow all of their sockets.
  max_connections_per_source: 2000
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
      record: ` + record + `
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

// addUsers creates users name(1) … name(n) with role and password, with
// `hotline user add`, a few processes at a time (each hashes a password
// with bcrypt).
func addUsers(ctx context.Context, bin, config, data, role string, name func(int) string, n, parallel int, password string) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				cmd := exec.CommandContext(ctx, bin, "user", "add", "--username", name(i),
					"--role", role, "--password-stdin", "--config", config, "--data", data)
				cmd.Stdin = strings.NewReader(password + "\n")
				if out, err := cmd.CombinedOutput(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("hotline user add %s: %w\n%s", name(i), err, out)
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := 1; i <= n; i++ {
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

// scrapeMetrics returns the /metrics text of the hotline serving HTTP on httpAddr.
func scrapeMetrics(ctx context.Context, httpAddr string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
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

// problems returns how many warning and error lines the hotline logged to
// the log at path and the first few of them that are not pion's (ICE and DTLS chatter at
// connection set-up and teardown).
func problems(path string, keep int) (int, []string) {
	b, err := os.ReadFile(path)
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
