package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/config"
	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/metrics"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/switchboard"
	"github.com/hotline/hotline/internal/tickets"
	"github.com/hotline/hotline/internal/wallboard"
	"github.com/hotline/hotline/internal/web"
	"github.com/hotline/hotline/internal/webhooks"
	"github.com/hotline/hotline/recordings"
	"github.com/hotline/hotline/sip"
)

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o overrides
	o.register(fl, true)
	pprofAddr := fl.String("pprof", "", "serve Go's runtime profiles on the loopback `ADDR` (off by default)")
	if err := fl.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, fsys, err := loadConfig(o)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	if *pprofAddr != "" {
		prof, err := startProfiler(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer prof.Close()
	}
	if cfg.RTP.Realtime {
		spareProcs(log)
		mediaPriority(log)
	}
	collectorTarget(log)
	var hooks nodeHooks
	if o.config == "" { // the built-in demo: agents to sign in with, before /readyz says ready
		hooks.accounts = func(ctx context.Context, st store.UserStore) error {
			return ensureDemoUsers(ctx, st, cfg.Store.DataDir, stdout)
		}
	}
	n, err := startNodeWith(ctx, cfg, fsys, log, hooks)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hotline %s: SIP on %s (udp, tcp), HTTP on %s://%s\n", version, n.SIPAddr(), n.HTTPScheme(), n.HTTPAddr())

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			n.reload(cfg, fsys)
		case <-ctx.Done():
			log.Info("stopping: draining calls", "drain_timeout", cfg.Shutdown.DrainTimeout)
			return n.Shutdown(context.Background())
		}
	}
}

// extraProcs is how many Go processors (Ps) spareProcs adds to the default.
const extraProcs = 2

// spareProcs runs the process with extraProcs more Go processors than the
// default (one per CPU), unless the GOMAXPROCS environment variable chose.
//
// The media pacer's thread sleeps in the kernel between its 2 ms slots. The
// Go runtime takes a sleeping thread's processor away when no other is idle,
// and the thread, woken on time by the kernel, must then wait until some
// goroutine elsewhere yields one: on a busy 2-core machine that cost up to
// 25 ms, and frames went out late. With spare processors one is nearly always
// idle, so the pacer keeps its own. Spare processors cost nothing while idle;
// the CPUs still bound how much runs at once.
func spareProcs(log *slog.Logger) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	n := runtime.GOMAXPROCS(0) + extraProcs
	runtime.GOMAXPROCS(n)
	log.Info("go processors", "gomaxprocs", n, "cpus", runtime.NumCPU())
}

// gcPercent is the Go collector's target (GOGC) serve runs with unless the
// GOGC environment variable chose one: the heap may grow this many percent
// past what the last collection kept (Go's default is 100).
//
// A hotline's heap is mostly long-lived per-call state (the SIP dialog, the
// endpoint, the call record) and it makes almost no garbage while calls are
// up, so collecting sooner costs next to nothing and keeps the heap near its
// live size. `make bench-load`, 1,000 calls (2-core AMD EPYC, 2026-12-07):
// GOGC 100 → 50 took 61.3 → 50.2 KiB per call, and 50 → 25 took 45.3 → 42.1
// KiB on a later build; the CPU stayed within the runs' noise (36–41 % of a
// core at steady state, where a CPU profile saw no collection at all) and so
// did the send-interval p99 (0.22–0.27 ms).
const gcPercent = 25

// collectorTarget sets the collector's target to gcPercent unless the GOGC
// environment variable chose one.
func collectorTarget(log *slog.Logger) {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	log.Info("go collector", "gogc", gcPercent)
}

// processNice is the scheduling priority (nice) mediaPriority gives the
// process: ahead of ordinary programs, below the kernel's own threads.
const processNice = -10

// mediaPriority raises the priority of all the process's threads (nice
// processNice), as telephony servers do (Asterisk -p, FreeSWITCH -hp). The
// pacer's thread has real-time priority, but the Go runtime hands it a
// processor through ordinary threads (after the runtime's scheduler took
// the processor away): on a machine busy with other programs those threads
// waited for a CPU, and the pacer with them. In bench-agents this cut the
// send-interval p99 from 0.8–1.5 ms to 0.2–0.4 ms. Without the right to
// raise it (root, CAP_SYS_NICE or LimitNICE=) a warning is logged and
// nothing changes.
func mediaPriority(log *slog.Logger) {
	threads, err := raisePriority(processNice)
	if err != nil {
		log.Warn("process priority not raised; frames may be late on a busy machine", "nice", processNice, "err", err)
		return
	}
	log.Info("process priority", "nice", processNice, "threads", threads)
}

// node is one running hotline: everything serve starts, in the order it stops.
type node struct {
	cfg    config.Config
	log    *slog.Logger
	hooks  nodeHooks
	store  store.Store
	writer *store.Writer
	board  *switchboard.Switchboard
	desk   *switchboard.Desk // nil when no queue is configured
	hub    *softphone.Hub
	pacer  *media.Pacer        // paces every call's prompts and drains its RTP; closed after SIP
	tapes  *recordings.Service // records the calls; closed after SIP, before the writer
	// tickets logs every call against a ticket; closed after SIP and the
	// ACD (the last calls' summaries), before the store.
	tickets *tickets.Service
	// webhooks delivers the outbox to the webhook endpoints; closed before
	// the store (what it has not delivered stays in the outbox).
	webhooks *webhooks.Dispatcher
	// wall pushes the live state to supervisors; nil without queues. It
	// runs until Shutdown begins.
	wall   *wallboard.Board
	sip    *sip.Server
	http   *http.Server
	httpLn net.Listener
	certs  *httpapi.Certificates // the HTTPS certificate (nil: plain HTTP); SIGHUP reloads it
	// sipCerts is SIP over TLS's certificate (nil: no sip.tls_listen); SIGHUP reloads it.
	sipCerts *httpapi.Certificates

	wg        sync.WaitGroup // the HTTP server, the store gauge, the retention sweeper and the wallboard
	acdWG     sync.WaitGroup // the ACD actor and the desk's dispatcher
	stopACD   context.CancelFunc
	stopSweep context.CancelFunc
	stopOnce  sync.Once
	stopErr   error
	done      chan struct{}
}

// nodeHooks add to or replace parts of a node: serve's demo accounts, and
// test doubles.
type nodeHooks struct {
	// recordingFile creates recording files (nil: the real files).
	recordingFile func(name string) (recordings.File, error)
	// accounts, when set, runs once the store is open and before SIP and
	// HTTP serve: the demo's accounts exist before /readyz answers 200.
	accounts func(ctx context.Context, st store.UserStore) error
}

// startNodeWith opens the store, loads the flows and prompts, and starts SIP
// and HTTP, with hooks. On error everything already started is stopped again.
func startNodeWith(ctx context.Context, cfg config.Config, fsys fs.FS, log *slog.Logger, hooks nodeHooks) (*node, error) {
	n := &node{cfg: cfg, log: log, hooks: hooks, done: make(chan struct{})}
	if err := n.start(ctx, fsys); err != nil {
		_ = n.Shutdown(context.Background())
		return nil, err
	}
	return n, nil
}

// start brings the parts up in dependency order; Shutdown stops whatever started.
func (n *node) start(ctx context.Context, fsys fs.FS) (err error) {
	cfg, log := n.cfg, n.log
	m := metrics.New()
	started := time.Now() // open calls that arrived before are a crashed process's

	assets, _, err := loadAssets(cfg, fsys)
	if err != nil {
		return err
	}
	if n.store, err = store.Open(ctx, cfg.Store, log); err != nil {
		return err
	}
	if err = n.store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n.hooks.accounts != nil {
		if err = n.hooks.accounts(ctx, n.store); err != nil {
			return err
		}
	}
	n.writer = store.NewWriter(n.store, store.WriterConfig{
		Logger: log, JournalDir: cfg.Store.JournalDir(), Node: cfg.Store.NodeName(),
	})
	if n.webhooks, err = webhooks.New(n.store, cfg.Webhooks, webhooks.Options{
		Logger: log.With("component", "webhooks"), Metrics: m.Webhooks,
	}); err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	n.webhooks.Start(context.Background())
	n.tickets = tickets.New(n.store, tickets.Options{Logger: log.With("component", "tickets"), OnChange: n.webhooks.Notify})
	n.tickets.Start()
	if len(cfg.ACD.Queues) > 0 {
		if err = n.startDesk(m.Queues); err != nil {
			return err
		}
	}
	if n.tapes, err = startRecordings(ctx, cfg, n.store, n.writer, m.Recordings, n.hooks.recordingFile, log); err != nil {
		return err
	}
	n.board = switchboard.New(assets, switchboard.Options{
		Recorder: n.writer, Metrics: m.Calls, MediaObserver: m.RTP, Logger: log, Desk: n.desk,
		QueueMetrics: m.Queues, Recordings: n.tapes, RecordPolicy: recordPolicy(cfg), Tickets: n.tickets,
		History: n.store,
	})

	lo, hi, _ := config.ParsePortRange(cfg.RTP.Ports)
	n.pacer = media.NewPacer(media.PacerConfig{
		Logger: log.With("component", "media"), Realtime: cfg.RTP.Realtime, Observer: m.RTP,
	})
	ports, err := media.NewPorts(media.PortsConfig{
		IP: netip.MustParseAddr(cfg.RTP.IP), Lo: lo, Hi: hi, Quarantine: cfg.RTP.Quarantine,
		Pacer: n.pacer,
	})
	if err != nil {
		return err
	}
	sipOpt := sip.Options{
		Logger: log, Ports: ports, MediaTimeout: cfg.RTP.MediaTimeout,
		MediaObserver: m.RTP, Observer: m.SIP,
	}
	if cfg.SIP.TLSListen != "" {
		// The same loader as HTTPS: SIGHUP renews both pairs (reload).
		if n.sipCerts, err = httpapi.LoadCertificates(cfg.SIP.TLSCert, cfg.SIP.TLSKey); err != nil {
			return fmt.Errorf("sip: %w", err)
		}
		n.logCertificate(n.sipCerts, "sip tls certificate")
		sipOpt.TLSConfig = n.sipCerts.TLSConfig()
	}
	srv, err := sip.NewServer(cfg.SIP, n.board, sipOpt)
	if err != nil {
		return err
	}
	if err = srv.Start(ctx); err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	n.sip = srv

	auth, err := httpapi.NewAuth(httpapi.AuthOptions{
		Store: n.store, Config: cfg.Auth, Logger: log.With("component", "auth"), Metrics: metrics.NewAuth(m.Registry),
		OnSignOut: func(p httpapi.Principal) {
			if n.desk != nil {
				n.desk.SignOut(p.Username)
				n.hub.SignOut(p.Username)
			}
		},
	})
	if err != nil {
		return err
	}
	opts := httpapi.Options{
		Calls:   n.store,
		Ready:   n.ready,
		Metrics: promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}),
		Logger:  log,
		Auth:    auth,
		Pages:   web.Handler(),

		Recordings:  n.store,
		Audio:       n.tapes,
		Audit:       n.writer,
		AuditReader: n.store,
		CallControl: noCalls{},

		Tickets:     n.tickets,
		AgentQueues: queuesOfAgents(cfg),
		Stats:       n.store,
	}
	if n.hub != nil {
		opts.Agents, opts.Queues = n.hub, n.desk
		opts.CallControl = pciControl{n.desk}
		opts.Monitor = callMonitor{n.desk}
		opts.CurrentCaller = n.desk.CallerOf
		n.wall = wallboard.New(n.desk, todayFigures{st: n.store, loc: time.Local},
			wallboard.Options{Logger: log.With("component", "wallboard"), Reasons: cfg.ACD.NotReadyReasons})
		opts.Wallboard = n.wall
		opts.AgentControl = agentControl{desk: n.desk, hub: n.hub, agents: membersOf(cfg)}
	}
	api := httpapi.New(opts)
	if cfg.HTTP.TLS() {
		if n.certs, err = httpapi.LoadCertificates(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey); err != nil {
			return fmt.Errorf("http: %w", err)
		}
		n.logCertificate(n.certs, "https certificate")
	}
	if n.httpLn, err = httpapi.Listen(cfg.HTTP.Addr, cfg.HTTP.ServerConfig, log); err != nil {
		return fmt.Errorf("http: %w", err)
	}
	n.http = httpapi.NewServer(cfg.HTTP.ServerConfig, api, log)
	if n.certs != nil {
		n.http.TLSConfig = n.certs.TLSConfig()
	}
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	n.stopSweep = stopSweep
	n.wg.Add(3)
	go func() {
		defer n.wg.Done()
		n.tapes.RunSweeper(sweepCtx, n.store, cfg.Recordings.SweepEvery)
	}()
	if n.wall != nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.wall.Run(sweepCtx)
		}()
	}
	go func() {
		defer n.wg.Done()
		if err := httpapi.Serve(n.http, n.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var pruned time.Time
		for {
			select {
			case <-t.C:
				m.Store.SetPending(n.writer.Pending())
				n.queueGauges(m.Queues)
				if time.Since(pruned) > time.Hour {
					pruned = time.Now()
					n.pruneOutbox(pruned)
				}
			case <-n.done:
				return
			}
		}
	}()
	// Close the calls and agents a crashed process left open, now that SIP's
	// port is ours; the Writer does it once the journal that process left
	// is replayed, and logs "closed calls left open by a crash".
	n.writer.CloseOrphans(cfg.Store.NodeName(), started)
	log.Info("hotline started", "sip", n.sip.Addr(), "http", n.httpLn.Addr(), "rtp_ports", cfg.RTP.Ports,
		"flows", len(cfg.Flows), "languages", cfg.Prompts.Languages)
	return nil
}

// startDesk starts the ACD, its dispatcher and the agents' softphone hub;
// q gets the handle times from the agents' state changes.
func (n *node) startDesk(q *metrics.Queues) error {
	a, err := acd.New(n.cfg.ACD, acd.Options{Logger: n.log.With("component", "acd")})
	if err != nil {
		return err
	}
	n.desk = switchboard.NewDesk(a, n.cfg.ACD.NotReadyReasons, n.log)
	n.desk.ReasonLabels = n.cfg.ACD.NotReadyLabels
	n.desk.CallTimes = callTimes(n.cfg)
	n.desk.SetDispositions(dispositions(n.cfg))
	n.desk.OnWrapupEnded = n.tickets.WrapupEnded
	if n.hub, err = softphone.NewHub(n.cfg.Softphone, n.desk, n.log.With("component", "softphone")); err != nil {
		return fmt.Errorf("softphone: %w", err)
	}
	n.desk.SetPhones(n.hub)
	n.desk.OnAgentState = func(d acd.Decision) {
		n.writer.AppendAgentEvent(store.AgentEvent{
			ID: uuid.NewString(), AgentID: d.Agent, At: d.At, State: string(d.State), Reason: d.Reason, CallID: d.Call,
		})
		q.AgentState(d.Agent, d.Call, d.Queue, string(d.State), d.At)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.stopACD = cancel
	n.acdWG.Add(2)
	go func() {
		defer n.acdWG.Done()
		if err := a.Run(ctx); err != nil {
			n.log.Error("acd stopped", "err", err)
		}
	}()
	go func() {
		defer n.acdWG.Done()
		n.desk.Run()
	}()
	return nil
}

// queueGauges copies the ACD's live view into the queue and agent gauges.
func (n *node) queueGauges(q *metrics.Queues) {
	if n.desk == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	snap, err := n.desk.Snapshot(ctx)
	if err != nil {
		return
	}
	byQueue := map[string]map[string]int{}
	for _, qs := range snap.Queues {
		q.SetQueue(qs.Name, qs.Waiting, qs.Staffed, qs.LongestWait)
		byQueue[qs.Name] = map[string]int{}
	}
	byState := map[string]int{}
	for _, a := range snap.Agents {
		byState[string(a.State)]++
		for _, name := range a.Queues {
			if byQueue[name] != nil {
				byQueue[name][string(a.State)]++
			}
		}
	}
	q.SetAgents(byState)
	for name, states := range byQueue {
		q.SetQueueAgents(name, states)
	}
}

// SIPAddr is where SIP listens (the real port when the config said 0).
func (n *node) SIPAddr() netip.AddrPort { return n.sip.Addr() }

// HTTPAddr is where the HTTP API listens.
func (n *node) HTTPAddr() string { return n.httpLn.Addr().String() }

// HTTPScheme is "https" with a TLS certificate, else "http".
func (n *node) HTTPScheme() string {
	if n.certs != nil {
		return "https"
	}
	return "http"
}

// logCertificate logs a certificate in use (HTTPS or SIP over TLS), and
// warns when it has expired or expires within a month.
func (n *node) logCertificate(certs *httpapi.Certificates, msg string) {
	leaf := certs.Leaf()
	args := []any{"subject", leaf.Subject.CommonName, "dns", leaf.DNSNames, "ips", leaf.IPAddresses, "not_after", leaf.NotAfter}
	switch left := time.Until(leaf.NotAfter); {
	case left <= 0:
		n.log.Error(msg+": expired; browsers refuse it", args...)
	case left < 30*24*time.Hour:
		n.log.Warn(msg+": expires soon", args...)
	default:
		n.log.Info(msg, args...)
	}
}

// ready is /readyz: SIP is listening and the store answers.
func (n *node) ready(ctx context.Context) error {
	if n.sip == nil {
		return errors.New("sip is not listening")
	}
	if err := n.store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// outboxKeep is how long webhook messages stay in the outbox, delivered or
// not: an endpoint down for longer misses what is older.
const outboxKeep = 7 * 24 * time.Hour

// pruneOutbox deletes the outbox messages older than outboxKeep.
func (n *node) pruneOutbox(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if k, err := n.store.PruneOutbox(ctx, now.Add(-outboxKeep)); err != nil {
		n.log.Warn("outbox: prune failed", "err", err)
	} else if k > 0 {
		n.log.Info("outbox: old messages pruned", "messages", k)
	}
}

// queuesOfAgents returns, for a user, the queues the configuration makes them
// a member of: the tickets an agent may see.
func queuesOfAgents(cfg config.Config) func(user string) []string {
	byAgent := map[string][]string{}
	for _, q := range cfg.ACD.Queues {
		for _, m := range q.Members {
			byAgent[m.Agent] = append(byAgent[m.Agent], q.Name)
		}
	}
	return func(user string) []string { return byAgent[user] }
}

// membersOf returns every agent of the configured queues, each once.
func membersOf(cfg config.Config) []string {
	var out []string
	for _, q := range cfg.ACD.Queues {
		for _, m := range q.Members {
			if !slices.Contains(out, m.Agent) {
				out = append(out, m.Agent)
			}
		}
	}
	return out
}

// dispositions are each queue's wrap-up codes.
// callTimes are the queues' wrap-up times and hold warnings for the
// agent pages.
func callTimes(cfg config.Config) map[string]switchboard.CallTimes {
	out := map[string]switchboard.CallTimes{}
	for _, q := range cfg.ACD.Queues {
		out[q.Name] = switchboard.CallTimes{WrapUp: q.WrapUp, HoldWarn: cmp.Or(q.HoldWarn, acd.DefaultHoldWarn)}
	}
	return out
}

func dispositions(cfg config.Config) map[string][]string {
	out := map[string][]string{}
	for _, q := range cfg.ACD.Queues {
		if len(q.Dispositions) > 0 {
			out[q.Name] = q.Dispositions
		}
	}
	return out
}

// reload reads the HTTPS certificate, flows and prompts again (SIGHUP). A
// bad certificate or flow keeps the old one.
func (n *node) reload(cfg config.Config, fsys fs.FS) {
	for _, c := range []struct {
		certs *httpapi.Certificates
		what  string
	}{{n.certs, "https"}, {n.sipCerts, "sip tls"}} {
		if c.certs == nil {
			continue
		}
		if err := c.certs.Reload(); err != nil {
			n.log.Error("reload failed; keeping the running "+c.what+" certificate", "err", err)
		} else {
			n.logCertificate(c.certs, c.what+" certificate reloaded")
		}
	}
	assets, _, err := loadAssets(cfg, fsys)
	if err != nil {
		n.log.Error("reload failed; keeping the running flows", "err", err)
		return
	}
	n.board.Reload(assets)
	n.log.Info("flows and prompts reloaded")
}

// Shutdown drains: new INVITEs get 503, live calls run on up to the drain
// timeout and are then hung up with BYE; then HTTP stops, every pending record
// is written, and the store closes. It is idempotent.
func (n *node) Shutdown(ctx context.Context) error {
	n.stopOnce.Do(func() {
		close(n.done)
		if n.stopSweep != nil {
			n.stopSweep()
		}
		var errs []error
		if n.sip != nil {
			n.sip.Drain()
			n.waitCalls(ctx, n.cfg.Shutdown.DrainTimeout)
			byeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			errs = append(errs, n.sip.Close(byeCtx))
			cancel()
		}
		if n.pacer != nil {
			errs = append(errs, n.pacer.Close())
		}
		if n.hub != nil {
			errs = append(errs, n.hub.Close())
		}
		if n.stopACD != nil {
			n.stopACD()
			n.acdWG.Wait()
		}
		if n.http != nil {
			hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			errs = append(errs, n.http.Shutdown(hctx))
			cancel()
		} else if n.httpLn != nil {
			errs = append(errs, n.httpLn.Close())
		}
		n.wg.Wait()
		if n.tickets != nil {
			n.tickets.Close()
		}
		if n.webhooks != nil {
			errs = append(errs, n.webhooks.Close())
		}
		if n.tapes != nil {
			errs = append(errs, n.tapes.Close())
		}
		if n.writer != nil {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			errs = append(errs, n.writer.Close(wctx))
			cancel()
		}
		if n.store != nil {
			errs = append(errs, n.store.Close())
		}
		n.stopErr = errors.Join(errs...)
		n.log.Info("hotline stopped")
	})
	return n.stopErr
}

// waitCalls waits until no call is live or the drain timeout passes.
func (n *node) waitCalls(ctx context.Context, limit time.Duration) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n.sip.ActiveCalls() > 0 {
		select {
		case <-tick.C:
		case <-deadline.C:
			n.log.Warn("drain timeout: hanging up the calls still live", "calls", n.sip.ActiveCalls())
			return
		case <-ctx.Done():
			return
		}
	}
}
