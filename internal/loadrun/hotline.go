package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/loadkit"
)

// hotlineStopTimeout is how long the hotline gets to drain after SIGTERM
// before it is killed (its demo drain timeout is 30 s).
const hotlineStopTimeout = 40 * time.Second

// startHotline runs `hotline serve` with SIP and HTTP on free loopback ports,
// the given RTP port range and a data folder under dir, and returns once
// /readyz answers 200. Its softphone takes any free loopback port, so a
// soak and a benchmark can run side by side. Its log goes to logDir/hotline.log. With pprofAddr
// it serves its runtime profiles there. With database (a PostgreSQL URL) it
// keeps its records there instead of the embedded SQLite.
func startHotline(ctx context.Context, bin, dir, logDir, rtpPorts, pprofAddr, database string, log *slog.Logger) (*loadkit.Server, error) {
	log.Info("starting the hotline", "rtp_ports", rtpPorts, "postgres", database != "")
	args := []string{"--rtp-ports", rtpPorts, "--data", filepath.Join(dir, "data"), "--softphone", "127.0.0.1:0"}
	if pprofAddr != "" {
		args = append(args, "--pprof", pprofAddr)
	}
	if database != "" {
		args = append(args, "--database", database)
	}
	return loadkit.StartServer(ctx, loadkit.ServerConfig{
		Bin:         bin,
		Dir:         dir,
		Args:        args,
		LogPath:     filepath.Join(logDir, "hotline.log"),
		StopTimeout: hotlineStopTimeout,
		Log:         log,
	})
}

// problems returns the warning and error lines of the hotline log at path
// (up to n bytes of them) and how many there were.
func problems(path string, n int) (string, int) {
	b, err := os.ReadFile(path)
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

// freeLoopbackAddr returns a loopback TCP address no one listens on now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
