// Command agentload is the agents' load benchmark (`make bench-agents`):
// SIPp callers dial the demo IVR (1 1 #) into the support queue while
// pure-Go agents (package agentclient: a real WebSocket and a real pion
// WebRTC peer each) take every call, so N calls are bridged caller RTP ⇄
// agent WebRTC at once on loopback, with audio both ways: the callers
// stream comfort noise, the agents a 1 kHz tone.
//
// It measures:
//   - every call completing: SIPp's count, and each agent seeing its call
//     connect and end;
//   - the send-interval deviation |gap − 20 ms| on both legs the hotline
//     sends: to the callers (the hotline's own histogram
//     hotline_rtp_send_interval_deviation_seconds, and a packet capture as
//     a cross-check) and to the agents (packet capture of the SRTP headers
//     leaving the softphone port, kernel timestamps);
//   - the time from accept to two-way audio: from the agent sending accept
//     until both (a) the agent's client has decoded the caller's audio and
//     (b) the hotline sends the agent's tone to that caller (the first of
//     10 consecutive frames dominated by 1 kHz in the caller's RTP, tied to
//     the call through the From of the hotline's 200 OK and its SDP port);
//   - the hotline's CPU while all calls are bridged, and its peak memory;
//   - with -supervisors N -monitor M: N supervisors watch the wallboard
//     socket, and the report gives the push latency (an agent's client
//     told "call connected" → each supervisor's wallboard shows that agent
//     on the call); M of them each listen to one live call through their
//     own softphone and must hear its agent (see supervisors.go).
//
// It prints a markdown table and exits 1 when any call failed or a part
// could not run, 2 on bad flags. Run it from the repository as root (SIPp
// replays digits through a raw socket; the capture uses a packet socket):
//
//	go run ./internal/agentload                          # 300 calls at once
//	go run ./internal/agentload -calls 50 -hold 10s      # a quick run
//	go run ./internal/agentload -supervisors 20 -monitor 20
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotline/hotline/internal/loadkit"
	"github.com/hotline/hotline/internal/sipptest"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr, log))
}

// options are the benchmark's flags.
type options struct {
	Calls    int
	Rate     float64
	Hold     time.Duration
	RTPPorts string
	Timeout  time.Duration
	Go       string
	Hotline  string
	Logs     string
	CPUProf  string
	Record   string
	// Supervisors watch the wallboard for the whole run; the first
	// Monitor of them each listen to one live call.
	Supervisors int
	Monitor     int
	Args        []string
	rtpLo       int
	rtpHi       int
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fl := flag.NewFlagSet("agentload", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.IntVar(&o.Calls, "calls", 300, "`N` callers and N agents, all calls up at once")
	fl.Float64Var(&o.Rate, "rate", 30, "new calls per second")
	fl.DurationVar(&o.Hold, "hold", 35*time.Second, "how long each caller stays in the queue and then the bridged call")
	fl.StringVar(&o.RTPPorts, "rtp-ports", "30000-32767", "the hotline's RTP port range `LO-HI`: below the ephemeral ports, apart from bench-load's 20000-29999")
	fl.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "bound on the whole benchmark")
	fl.StringVar(&o.Go, "go", "go", "the go command that builds the hotline")
	fl.StringVar(&o.Hotline, "hotline", "", "use this hotline `BINARY` instead of building ./cmd/hotline")
	fl.StringVar(&o.Logs, "logs", "", "keep the hotline's log and SIPp's error log in `DIR`")
	fl.StringVar(&o.CPUProf, "cpuprofile", "", "write the load generator's own CPU profile to `FILE` (where its time goes)")
	fl.StringVar(&o.Record, "record", "bridged", "what the support queue records: `bridged` (every bridged call) or off")
	fl.IntVar(&o.Supervisors, "supervisors", 0, "`N` supervisors watch the wallboard socket all run long (push latency in the report)")
	fl.IntVar(&o.Monitor, "monitor", 0, "`M` of the supervisors each listen to one live call (softphone and mixer) while all are bridged")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	if fl.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fl.Args())
	}
	lo, hi, ok := strings.Cut(o.RTPPorts, "-")
	var err1, err2 error
	o.rtpLo, err1 = strconv.Atoi(lo)
	o.rtpHi, err2 = strconv.Atoi(hi)
	switch {
	case o.Calls < 1 || o.Calls > 999:
		return o, errors.New("-calls must be 1..999")
	case !(o.Rate > 0):
		return o, errors.New("-rate must be above 0")
	case o.Hold < time.Second:
		return o, errors.New("-hold must be at least 1s")
	case o.Timeout <= 0:
		return o, errors.New("-timeout must be above 0")
	case o.Supervisors < 0 || o.Supervisors > 100:
		return o, errors.New("-supervisors must be 0..100")
	case o.Monitor < 0 || o.Monitor > o.Supervisors || o.Monitor > o.Calls:
		return o, errors.New("-monitor must be 0..min(-supervisors, -calls)")
	case o.Record != "bridged" && o.Record != "off":
		return o, errors.New("-record must be bridged or off")
	case !ok || err1 != nil || err2 != nil || o.rtpLo < 1024 || o.rtpHi > 65535 || o.rtpLo >= o.rtpHi:
		return o, fmt.Errorf("-rtp-ports %q: want LO-HI, 1024 ≤ LO < HI ≤ 65535", o.RTPPorts)
	}
	o.Args = args
	return o, nil
}

// cli runs the benchmark and returns the exit status.
func cli(args []string, stdout, stderr io.Writer, log *slog.Logger) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "agentload:", err)
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, fmt.Errorf("benchmark timeout %v passed", o.Timeout))
	defer cancel()

	if o.CPUProf != "" {
		f, err := os.Create(o.CPUProf)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "agentload: -cpuprofile:", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	rep, err := run(ctx, o, log)
	if rep != nil {
		rep.write(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "agentload:", err)
		return 1
	}
	if problems := rep.failures(); len(problems) > 0 {
		fmt.Fprintln(stderr, "agentload: "+strings.Join(problems, "; "))
		return 1
	}
	return 0
}

// password is every benchmark agent's password (a throwaway store).
const password = "agentload-benchmark"

// stopTimeout is how long serve gets after SIGTERM before it is killed.
const stopTimeout = 20 * time.Second

// digitsTime is how long a caller takes from answer into the queue: the
// scenario's 1 s pause and 2.5 s of digits.
const digitsTime = 3500 * time.Millisecond

// run does the whole benchmark and returns what it measured.
func run(ctx context.Context, o options, log *slog.Logger) (*report, error) {
	rep := &report{Opts: o, Machine: loadkit.DescribeMachine()}
	ws, err := loadkit.NewWorkspace(ctx, o.Go, "hotline-agentload-", o.Logs, o.Hotline, log)
	if err != nil {
		return nil, err
	}
	defer ws.Remove()
	root, dir, logDir, bin := ws.Root, ws.Dir, ws.LogDir, ws.Bin
	muxPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	config, err := writeConfig(dir, root, o.Calls, muxPort, o.Record)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	start := time.Now()
	log.Info("creating agents", "n", o.Calls, "supervisors", o.Supervisors)
	if err := addUsers(ctx, bin, config, data, "agent", agentName, o.Calls, 4, password); err != nil {
		return nil, err
	}
	if err := addUsers(ctx, bin, config, data, "supervisor", supervisorName, o.Supervisors, 4, password); err != nil {
		return nil, err
	}
	rep.SetupAgents = time.Since(start)

	srv, err := loadkit.StartServer(ctx, loadkit.ServerConfig{
		Bin:         bin,
		Dir:         filepath.Dir(config),
		Args:        []string{"--config", config, "--data", data, "--rtp-ports", o.RTPPorts},
		LogPath:     filepath.Join(logDir, "hotline.log"),
		StopTimeout: stopTimeout,
		Log:         log,
	})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	_, sipPort, err := splitPort(srv.SIPAddr())
	if err != nil {
		return nil, err
	}
	capt, err := startCapture(captureConfig{MuxPort: muxPort, SIPPort: sipPort, RTPLo: o.rtpLo, RTPHi: o.rtpHi, ToneHz: agentTone})
	if err != nil {
		return nil, err
	}
	captured := false
	defer func() {
		if !captured {
			capt.Stop()
		}
	}()

	start = time.Now()
	log.Info("signing agents in", "n", o.Calls)
	agentCtx, stopAgents := context.WithCancel(ctx)
	defer stopAgents()
	agents, err := signIn(agentCtx, srv.HTTPAddr(), o.Calls, 8, password, log)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w\nhotline log (tail):\n%s", err, srv.LogTail(2000))
	}
	defer agents.Close()
	if o.Supervisors > 0 {
		log.Info("signing supervisors in", "n", o.Supervisors, "monitoring", o.Monitor)
		rep.watchers, err = startSupervisors(ctx, srv.HTTPAddr(), o.Supervisors, o.Monitor, password, log)
		if err != nil {
			return nil, fmt.Errorf("supervisors: %w", err)
		}
		defer rep.watchers.Close()
	}
	rep.SetupSignIn = time.Since(start)

	sampleCtx, stopSampling := context.WithCancel(ctx)
	samples := make(chan [][]procSample, 1)
	go func() { samples <- sampleProcs(sampleCtx, srv.PID(), os.Getpid()) }()

	log.Info("load: SIPp callers → hotline → agents", "calls", o.Calls, "rate", o.Rate, "hold", o.Hold)
	expected := time.Duration(float64(o.Calls)/o.Rate*float64(time.Second)) + digitsTime + o.Hold
	var monitoring sync.WaitGroup
	if o.Monitor > 0 {
		monitoring.Go(func() {
			calls := waitAllLive(ctx, agents, o.Calls, expected)
			log.Info("supervisors listening", "calls", min(o.Monitor, len(calls)))
			rep.watchers.monitor(ctx, calls)
		})
	}
	rep.SIPp, err = sipptest.Run(ctx, sipptest.Options{
		Scenario:    filepath.Join(root, "internal", "sipptest", "testdata", "load_caller.xml"),
		Target:      srv.SIPAddr(),
		Service:     "support",
		Calls:       o.Calls,
		Rate:        o.Rate,
		Concurrency: o.Calls,
		Keys:        map[string]string{"hold": strconv.FormatInt(o.Hold.Milliseconds(), 10)},
		Timeout:     expected + 45*time.Second,
	})
	if rep.SIPp.ErrorLog != "" {
		_ = os.WriteFile(filepath.Join(logDir, "sipp-errors.log"), []byte(rep.SIPp.ErrorLog), 0o644)
	}
	monitoring.Wait()
	if err != nil {
		stopSampling()
		<-samples
		return rep, fmt.Errorf("sipp: %w", err)
	}
	waitAllEnded(ctx, agents, o.Calls, 5*time.Second)
	stopSampling()
	s := <-samples
	rep.HotlineSamples, rep.SelfSamples = s[0], s[1]
	captured = true
	rep.Capture = capt.Stop()

	metrics, err := scrapeMetrics(ctx, srv.HTTPAddr())
	if err != nil {
		return rep, err
	}
	rep.analyze(metrics, agents)
	rep.Warnings, rep.FirstWarnings = problems(srv.LogPath(), 5)
	stopAgents()
	agents.Close()
	if rep.watchers != nil {
		rep.watchers.Close()
	}
	if err := srv.Close(); err != nil {
		return rep, err
	}
	return rep, nil
}

// waitAllEnded waits until the agents saw n calls end, or wait passed.
func waitAllEnded(ctx context.Context, p *pool, n int, wait time.Duration) {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		calls, _ := p.result()
		ended := 0
		for _, c := range calls {
			if !c.EndedAt.IsZero() {
				ended++
			}
		}
		if ended >= n {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitAllLive waits until n calls are connected at once (or wait passed)
// and returns the live calls then.
func waitAllLive(ctx context.Context, p *pool, n int, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		live := p.liveCalls()
		if len(live) >= n || time.Now().After(deadline) || ctx.Err() != nil {
			return live
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// splitPort returns the host and port of "host:port".
func splitPort(addr string) (string, int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("address %q has no port", addr)
	}
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	return addr[:i], p, nil
}
