// Command loadrun is the hotline's load benchmark (`make bench-load`): SIPp
// callers that stream RTP for the whole call, navigate the demo IVR with
// RFC 4733 digits and wait in the support queue's hold music, first against
// `hotline serve`, then against SIPp's own echoing UAS. It samples each
// server's CPU and memory from /proc once a second and prints a markdown
// table: CPU (run mean and steady-state median), resident memory per live
// call, the RTP send-interval p99 deviation from the hotline's /metrics, and
// the CPU ratio hotline ÷ SIPp UAS.
//
// Run it from the repository as root (SIPp replays the digits through a raw
// socket):
//
//	go run ./internal/loadrun                       # 1,000 calls up at once
//	go run ./internal/loadrun -calls 50 -hold 5s    # a quick, small run
//
// It exits 1 when any call failed or a part could not run, 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hotline/hotline/internal/loadkit"
	"github.com/hotline/hotline/internal/sipptest"
	"github.com/hotline/hotline/internal/store/pgtest"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	os.Exit(cli(os.Args[1:], os.Stdout, log))
}

// options are the benchmark's flags.
type options struct {
	Calls       int
	Concurrency int
	Rate        float64
	Hold        time.Duration
	RTPPorts    string
	Scenario    string
	Timeout     time.Duration
	Baseline    bool
	Go          string
	Logs        string
	Hotline     string
	// Profile, when set, is the folder the hotline's heap, goroutine and
	// CPU profiles at full load are saved in.
	Profile string
	// Postgres runs the hotline on a private PostgreSQL server (started
	// and stopped by the benchmark) instead of the embedded SQLite.
	Postgres bool
	// Soak, when above 0, runs the soak instead of the benchmark: the
	// callers cycle for this long, at most Concurrency at once, and the
	// hotline is read every SoakEvery.
	Soak      time.Duration
	SoakEvery time.Duration
	Args      []string // the command line, for the report
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fl := flag.NewFlagSet("loadrun", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.IntVar(&o.Calls, "calls", 1000, "total `N` calls")
	fl.IntVar(&o.Concurrency, "concurrency", 0, "most calls up at once (0: -calls)")
	fl.Float64Var(&o.Rate, "rate", 100, "new calls per second")
	fl.DurationVar(&o.Hold, "hold", 27*time.Second, "time each caller waits in the queue's hold music")
	fl.StringVar(&o.RTPPorts, "rtp-ports", "20000-29999", "the hotline's RTP port range `LO-HI`")
	fl.StringVar(&o.Scenario, "scenario", "internal/sipptest/testdata/load_caller.xml", "SIPp caller scenario, relative to the module root")
	fl.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "bound on the whole benchmark")
	fl.BoolVar(&o.Baseline, "baseline", true, "also run the callers against SIPp's -rtp_echo UAS and print the CPU ratio")
	fl.StringVar(&o.Go, "go", "go", "the go command that builds the hotline")
	fl.StringVar(&o.Hotline, "hotline", "", "use this hotline `BINARY` instead of building ./cmd/hotline")
	fl.StringVar(&o.Profile, "profile", "", "save the hotline's heap, goroutine and CPU profiles at full load in `DIR`")
	fl.BoolVar(&o.Postgres, "postgres", false, "keep the hotline's records on a private PostgreSQL server on loopback (initdb and pg_ctl of the postgresql package), not the embedded SQLite")
	fl.StringVar(&o.Logs, "logs", "", "keep the hotline's log and SIPp's error logs in `DIR` (default: discarded)")
	fl.DurationVar(&o.Soak, "soak", 0, "run the soak instead: callers cycle for `DURATION` (-calls is ignored), no baseline")
	fl.DurationVar(&o.SoakEvery, "soak-every", time.Minute, "with -soak: read goroutines, descriptors and memory every `PERIOD`")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	if fl.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fl.Args())
	}
	if o.Concurrency == 0 {
		o.Concurrency = o.Calls
	}
	switch {
	case o.Calls < 1:
		return o, errors.New("-calls must be at least 1")
	case o.Concurrency < 1:
		return o, errors.New("-concurrency must be at least 1")
	case !(o.Rate > 0):
		return o, errors.New("-rate must be above 0")
	case o.Hold < 0:
		return o, errors.New("-hold must not be negative")
	case o.Timeout <= 0:
		return o, errors.New("-timeout must be above 0")
	case o.Soak < 0:
		return o, errors.New("-soak must not be negative")
	case o.SoakEvery <= 0:
		return o, errors.New("-soak-every must be above 0")
	}
	if o.Soak > 0 {
		// The bound covers the soak itself, whatever -timeout says.
		o.Calls = soakCalls(o)
		o.Timeout = max(o.Timeout, o.Soak+callSetup+o.Hold+sippSlack+2*time.Minute)
	}
	o.Args = args
	return o, nil
}

// cli runs the benchmark and returns the exit status.
func cli(args []string, stdout io.Writer, log *slog.Logger) int {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadrun:", err)
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, fmt.Errorf("benchmark timeout %v passed", o.Timeout))
	defer cancel()

	if o.Soak > 0 {
		rep, err := runSoak(ctx, o, log)
		return finish(rep, err, stdout)
	}
	rep, err := run(ctx, o, log)
	return finish(rep, err, stdout)
}

// result is a report that can be printed and judged.
type result interface {
	write(io.Writer)
	failures() []string
}

// finish prints rep (when there is one) and returns the exit status.
func finish[R interface {
	*report | *soakReport
	result
}](rep R, err error, stdout io.Writer) int {
	if rep != nil {
		rep.write(stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		return 1
	}
	if problems := rep.failures(); len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "loadrun: "+strings.Join(problems, "; "))
		return 1
	}
	return 0
}

// sideResult is one server's half of the benchmark.
type sideResult struct {
	Usage   usage
	SIPp    sipptest.Result
	Samples []sample
	// LoadBefore is the host's load average (1, 5, 15 min) before the run.
	LoadBefore string
}

// report is everything the benchmark prints.
type report struct {
	Opts    options
	Machine loadkit.Machine
	Target  int // calls meant to be up at once

	Hotline  sideResult
	Baseline *sideResult // nil when not run

	P50Deviation    float64 // seconds
	P99Deviation    float64 // seconds
	P99InInf        bool    // the p99 is above the highest bucket
	P99Err          error
	Deviation       []bucket   // the send-interval histogram, for the report
	Lateness, Work  [2]float64 // the pacer's wake-up lateness and work per wake-up, p50 and p99, seconds
	Outcomes        map[string]float64
	RTPPackets      map[string]float64
	RTPDropped      map[string]float64
	SIPDropped      map[string]float64
	SIPResponses    map[string]float64
	HotlineProblems string // the hotline log's first warnings and errors
	HotlineProblemN int    // how many warning and error lines it logged

	// Idle and Full are the hotline's memory before the first call and at
	// full load (FullOK false: full load was not reached).
	Idle, Full memBreakdown
	FullOK     bool
}

// run builds and starts the hotline, loads it, then loads SIPp's UAS.
func run(ctx context.Context, o options, log *slog.Logger) (*report, error) {
	rep := &report{Opts: o, Machine: loadkit.DescribeMachine(), Target: min(o.Calls, o.Concurrency)}
	ws, err := loadkit.NewWorkspace(ctx, o.Go, "hotline-loadrun-", o.Logs, o.Hotline, log)
	if err != nil {
		return nil, err
	}
	defer ws.Remove()
	root, dir, logDir, bin := ws.Root, ws.Dir, ws.LogDir, ws.Bin
	scenario := o.Scenario
	if !filepath.IsAbs(scenario) {
		scenario = filepath.Join(root, scenario)
	}
	if err := runHotline(ctx, o, rep, bin, dir, logDir, scenario, log); err != nil {
		return rep, err
	}
	if !o.Baseline {
		return rep, nil
	}
	return rep, runBaseline(ctx, o, rep, dir, logDir, scenario, log)
}

// runHotline loads `hotline serve` and fills the hotline half of rep.
func runHotline(ctx context.Context, o options, rep *report, bin, dir, logDir, scenario string, log *slog.Logger) error {
	pprofAddr := ""
	var err error
	if o.Profile != "" {
		if pprofAddr, err = freeLoopbackAddr(); err != nil {
			return err
		}
	}
	database := ""
	if o.Postgres {
		pg, err := pgtest.New()
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		defer pg.Stop()
		database = pg.URL("postgres")
	}
	h, err := startHotline(ctx, bin, dir, logDir, o.RTPPorts, pprofAddr, database, log)
	if err != nil {
		return err
	}
	defer h.Close()
	client := &http.Client{Timeout: scrapeTimeout}
	defer client.CloseIdleConnections()
	if rep.Idle, err = readBreakdown(ctx, client, h.HTTPAddr(), h.PID()); err != nil {
		return err
	}
	fullCtx, stopFull := context.WithCancel(ctx)
	defer stopFull()
	full := make(chan struct{})
	go func() {
		defer close(full)
		rep.Full, rep.FullOK = atFullLoad(fullCtx, client, h.HTTPAddr(), pprofAddr, h.PID(), rep.Target, o.Profile, log)
	}()

	log.Info("load: SIPp callers → hotline", "calls", o.Calls, "concurrency", o.Concurrency,
		"rate", o.Rate, "hold", o.Hold)
	side, err := measure(ctx, o, scenario, h.SIPAddr(), probe{
		PID:  h.PID(),
		Live: activeCalls(client, h.HTTPAddr()),
		UAC:  func() int { return findChild(os.Getpid(), "sipp") },
	})
	stopFull()
	<-full
	rep.Hotline = side
	rep.HotlineProblems, rep.HotlineProblemN = problems(h.LogPath(), 3000)
	keepLog(logDir, "sipp-errors-hotline.log", side.SIPp.ErrorLog, log)
	if err != nil {
		return fmt.Errorf("hotline run: %w\nhotline log (tail):\n%s", err, h.LogTail(3000))
	}
	waitIdle(ctx, client, h.HTTPAddr(), 10*time.Second)
	ms, err := scrape(ctx, client, h.HTTPAddr())
	if err != nil {
		return err
	}
	rep.P50Deviation, _, _ = histogramQuantile(ms, metricDeviation, 0.5)
	rep.P99Deviation, rep.P99InInf, rep.P99Err = histogramQuantile(ms, metricDeviation, 0.99)
	rep.Deviation, _ = histogramBuckets(ms, metricDeviation)
	for i, q := range []float64{0.5, 0.99} {
		rep.Lateness[i], _, _ = histogramQuantile(ms, metricLateness, q)
		rep.Work[i], _, _ = histogramQuantile(ms, metricWork, q)
	}
	rep.Outcomes = byLabel(ms, metricCalls, "outcome")
	rep.RTPPackets = byLabel(ms, metricRTP, "direction")
	rep.RTPDropped = byLabel(ms, metricRTPDrop, "reason")
	rep.SIPDropped = byLabel(ms, metricSIPDrop, "reason")
	rep.SIPResponses = byLabel(ms, metricResponses, "code")
	if err := h.Close(); err != nil {
		return err
	}
	log.Info("hotline stopped")
	return nil
}

// runBaseline loads SIPp's -rtp_echo UAS with the same callers.
func runBaseline(ctx context.Context, o options, rep *report, dir, logDir, scenario string, log *slog.Logger) error {
	stats := filepath.Join(dir, "uas-stats.csv")
	uas, err := sipptest.StartUAS(ctx, sipptest.UASOptions{
		Logger:    log,
		ExtraArgs: []string{"-trace_stat", "-stf", stats, "-fd", "1"},
	})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer uas.Close()
	log.Info("load: SIPp callers → SIPp UAS -rtp_echo", "calls", o.Calls)
	side, err := measure(ctx, o, scenario, uas.Addr(), probe{
		PID:  uas.PID(),
		Live: sippLiveCalls(stats),
		UAC:  func() int { return findChild(os.Getpid(), "sipp", uas.PID()) },
	})
	rep.Baseline = &side
	keepLog(logDir, "sipp-errors-uas.log", side.SIPp.ErrorLog, log)
	if err != nil {
		return fmt.Errorf("baseline run: %w", err)
	}
	return uas.Close()
}

// sippSlack is added to the expected length of a SIPp run to bound it.
const sippSlack = 45 * time.Second

// callSetup is how long the scenario runs before its hold: answer, 1 s,
// the digits' 2.5 s, and some margin.
const callSetup = 4 * time.Second

// measure runs the SIPp callers against target while sampling p, and
// summarises the readings.
func measure(ctx context.Context, o options, scenario, target string, p probe) (sideResult, error) {
	load := loadkit.LoadAverage()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	samples := make(chan []sample, 1)
	first := make(chan struct{})
	go func() { samples <- sampleLoop(sampleCtx, p, first) }()
	<-first // the "before" reading is taken with no call up

	expected := time.Duration(float64(o.Calls)/o.Rate*float64(time.Second)) + callSetup + o.Hold
	res, err := sipptest.Run(ctx, sipptest.Options{
		Scenario:    scenario,
		Target:      target,
		Service:     "support",
		Calls:       o.Calls,
		Rate:        o.Rate,
		Concurrency: o.Concurrency,
		Keys:        map[string]string{"hold": fmt.Sprint(o.Hold.Milliseconds())},
		Timeout:     expected + sippSlack,
	})
	stopSampling()
	side := sideResult{SIPp: res, Samples: <-samples, LoadBefore: load}
	side.Usage = summarize(side.Samples, min(o.Calls, o.Concurrency))
	return side, err
}

// keepLog writes a SIPp error log into dir when it is not empty.
func keepLog(dir, name, text string, log *slog.Logger) {
	if text == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		log.Warn("could not keep a log", "file", name, "err", err)
	}
}
