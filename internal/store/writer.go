package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"
)

// Writer is the only path call code writes records through. SaveCall,
// AppendEvent, AppendAgentEvent, SaveRecording and AppendAudit never wait for
// the database: they queue the record and return.
// One goroutine, owned by the Writer and stopped by Close, writes the queue
// to the Store and retries with exponential backoff (RetryMin..RetryMax)
// while the database is slow or down.
//
// Nothing is dropped silently:
//   - Call and recording snapshots coalesce by ID (the latest wins), so memory
//     grows with the number of distinct calls and recordings waiting, not
//     with the number of updates. A snapshot journaled by an earlier Writer
//     is not replayed over a newer one this Writer was given.
//   - Events and audit events are kept in memory up to MaxPending (each).
//     Beyond that they spill to an append-only journal file in JournalDir,
//     replayed into the Store once the in-memory queues are empty. Without a
//     JournalDir they stay in memory and every further MaxPending are logged
//     at Error level.
//   - If Close's context ends before everything is written, what is left goes
//     to the journal (replayed by the next Writer on the same JournalDir), or,
//     without one, each unwritten record is logged at Error level.
//   - A record the Store rejects for good (ErrRejected, for example text
//     PostgreSQL cannot store) is logged at Error level in full and skipped,
//     so it cannot hold back the records behind it.
type Writer struct {
	s      Store
	cfg    WriterConfig
	log    *slog.Logger
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: "there is work"
	done   chan struct{} // closed when the goroutine has exited

	closeOnce sync.Once

	mu          sync.Mutex
	calls       map[string]*pendingCall
	inflight    int // snapshots taken from calls and being written
	recs        map[string]pendingRecording
	recInflight int    // snapshots taken from recs and being written
	gen         uint64 // orders the snapshots of calls and recordings
	events      []Event
	agentEv     []AgentEvent // kept in memory until written (a few per call)
	audit       []AuditEvent
	journal     *journal // nil without JournalDir
	spilled     int      // records in journal files, not yet written
	closing     bool     // Close was called
	closed      bool     // the goroutine has exited; new records cannot be written
	closeErr    error

	// While journal files left by an earlier Writer wait for replay
	// (oldFiles, the head of journal.sealed), the ids of the call and
	// recording snapshots this Writer was given: each is newer than any
	// journaled snapshot of the same id, which replay then skips.
	oldFiles  int
	liveCalls map[string]struct{}
	liveRecs  map[string]struct{}

	// orphans, when set, is a CloseOrphans request not yet carried out: it
	// waits until the journal files of an earlier Writer are replayed.
	orphans *orphanRequest

	// Used by the writer goroutine only: progress in the head journal file.
	replayOffset  int64
	replayRecords int
}

// orphanRequest is what Writer.CloseOrphans asked for.
type orphanRequest struct {
	node   string
	before time.Time
}

// pendingCall is a queued snapshot; gen orders snapshots of the same call.
type pendingCall struct {
	call Call
	gen  uint64
}

// pendingRecording is a queued recording snapshot; gen orders snapshots of
// the same recording.
type pendingRecording struct {
	rec Recording
	gen uint64
}

// WriterConfig tunes a Writer. Zero values take the defaults below.
type WriterConfig struct {
	// MaxPending is how many events, and how many audit events, are held in
	// memory before spilling to the journal (default 10000).
	MaxPending int
	// RetryMin and RetryMax bound the backoff between failed writes
	// (default 100ms and 5s).
	RetryMin, RetryMax time.Duration
	// Logger gets retry, spill and loss reports (default: discard).
	Logger *slog.Logger
	// JournalDir is where events and audit events spill beyond MaxPending
	// and where records go when Close gives up ("" keeps them in memory and
	// logs instead). Journal files found here at start are replayed.
	JournalDir string
	// BatchSize is how many events one AppendEvents (AppendAgentEvents,
	// AppendAudit) call carries (default 500).
	BatchSize int
	// WriteTimeout bounds one Store call (default 10s).
	WriteTimeout time.Duration
	// Node is the hotline node this Writer writes for (Config.NodeName):
	// a call snapshot given without a Node gets this one.
	Node string
}

// Writer defaults.
const (
	DefaultMaxPending   = 10000
	DefaultRetryMin     = 100 * time.Millisecond
	DefaultRetryMax     = 5 * time.Second
	DefaultBatchSize    = 500
	DefaultWriteTimeout = 10 * time.Second
)

// retryWarnEvery is how often an ongoing outage is logged at Warn level.
const retryWarnEvery = 30 * time.Second

func (c WriterConfig) withDefaults() WriterConfig {
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.RetryMin <= 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// NewWriter starts a Writer over s. Journal files already in cfg.JournalDir
// are queued for replay. Close must be called to stop its goroutine.
func NewWriter(s Store, cfg WriterConfig) *Writer {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{
		s:      s,
		cfg:    cfg,
		log:    cfg.Logger,
		cancel: cancel,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		calls:  map[string]*pendingCall{},
		recs:   map[string]pendingRecording{},
	}
	if cfg.JournalDir != "" {
		j, n, err := openJournal(cfg.JournalDir)
		if err != nil {
			w.log.Error("store writer: journal unavailable; overflow stays in memory", "dir", cfg.JournalDir, "err", err)
		} else {
			w.journal, w.spilled = j, n
			if w.oldFiles = len(j.sealed); w.oldFiles > 0 {
				w.liveCalls, w.liveRecs = map[string]struct{}{}, map[string]struct{}{}
			}
			if n > 0 {
				w.log.Info("store writer: replaying journal", "dir", cfg.JournalDir, "records", n)
			}
		}
	}
	go w.run(ctx)
	w.signal()
	return w
}

// SaveCall queues a snapshot of c, replacing any queued snapshot of the same
// call. It never blocks on the database. A snapshot without a Node gets
// WriterConfig.Node.
func (w *Writer) SaveCall(c Call) {
	if c.ID == "" {
		w.log.Error("store writer: call snapshot without id not written", "call", c)
		return
	}
	if c.Node == "" {
		c.Node = w.cfg.Node
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("store writer: closed; call snapshot not written", "call_id", c.ID, "call", c)
		return
	}
	w.gen++
	// A pointer: the snapshot is copied once, to the heap, and SaveCall's
	// frame stays small on the calling call's goroutine (an IVR step).
	w.calls[c.ID] = &pendingCall{call: c, gen: w.gen}
	if w.oldFiles > 0 {
		w.liveCalls[c.ID] = struct{}{}
	}
	if n := len(w.calls); n > w.cfg.MaxPending && n%w.cfg.MaxPending == 1 {
		w.log.Error("store writer: call snapshots piling up in memory; is the database down?", "pending_calls", n)
	}
	w.mu.Unlock()
	w.signal()
}

// AppendEvent queues e. It never blocks on the database.
func (w *Writer) AppendEvent(e Event) {
	if e.CallID == "" {
		w.log.Error("store writer: event without call id not written", "event", e)
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("store writer: closed; event not written", "call_id", e.CallID, "event", e)
		return
	}
	if len(w.events) >= w.cfg.MaxPending && w.journal != nil {
		err := w.journal.append(journalRecord{Event: &e})
		if err == nil {
			w.spilled++
			w.mu.Unlock()
			w.signal()
			return
		}
		w.log.Error("store writer: journal write failed; keeping event in memory", "call_id", e.CallID, "err", err)
	}
	w.events = append(w.events, e)
	if n := len(w.events); n > w.cfg.MaxPending && n%w.cfg.MaxPending == 1 {
		w.log.Error("store writer: events piling up in memory beyond max_pending", "pending_events", n,
			"max_pending", w.cfg.MaxPending)
	}
	w.mu.Unlock()
	w.signal()
}

// AppendAgentEvent queues one agent state change. It never blocks on the
// database; the event's ID makes a retried write a no-op.
func (w *Writer) AppendAgentEvent(e AgentEvent) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("store writer: closed; agent event not written", "agent", e.AgentID, "state", e.State, "at", e.At)
		return
	}
	w.agentEv = append(w.agentEv, e)
	if n := len(w.agentEv); n > w.cfg.MaxPending && n%w.cfg.MaxPending == 1 {
		w.log.Error("store writer: agent events piling up in memory", "pending_agent_events", n)
	}
	w.mu.Unlock()
	w.signal()
}

// SaveRecording queues a snapshot of r, replacing any queued snapshot of the
// same recording (the latest wins). It never blocks on the database. The
// Writer keeps its own copy of r's segments and markers, so the caller may go
// on changing its own. As Store.SaveRecording, it never changes the legal
// hold of a stored recording.
func (w *Writer) SaveRecording(r Recording) {
	if r.ID == "" {
		w.log.Error("store writer: recording snapshot without id not written", "recording", r)
		return
	}
	r = r.clone()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("store writer: closed; recording snapshot not written", "recording_id", r.ID, "recording", r)
		return
	}
	w.gen++
	w.recs[r.ID] = pendingRecording{rec: r, gen: w.gen}
	if w.oldFiles > 0 {
		w.liveRecs[r.ID] = struct{}{}
	}
	if n := len(w.recs); n > w.cfg.MaxPending && n%w.cfg.MaxPending == 1 {
		w.log.Error("store writer: recording snapshots piling up in memory; is the database down?", "pending_recordings", n)
	}
	w.mu.Unlock()
	w.signal()
}

// AppendAudit queues one audit event. It never blocks on the database; the
// event's ID makes a retried write a no-op. Beyond MaxPending queued audit
// events it spills to the journal, as AppendEvent does.
func (w *Writer) AppendAudit(e AuditEvent) {
	if e.ID == "" {
		w.log.Error("store writer: audit event without id not written", "audit", e)
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("store writer: closed; audit event not written", "audit_id", e.ID, "audit", e)
		return
	}
	if len(w.audit) >= w.cfg.MaxPending && w.journal != nil {
		err := w.journal.append(journalRecord{Audit: &e})
		if err == nil {
			w.spilled++
			w.mu.Unlock()
			w.signal()
			return
		}
		w.log.Error("store writer: journal write failed; keeping audit event in memory", "audit_id", e.ID, "err", err)
	}
	w.audit = append(w.audit, e)
	if n := len(w.audit); n > w.cfg.MaxPending && n%w.cfg.MaxPending == 1 {
		w.log.Error("store writer: audit events piling up in memory beyond max_pending", "pending_audit", n,
			"max_pending", w.cfg.MaxPending)
	}
	w.mu.Unlock()
	w.signal()
}

// Pending is the number of records not yet written to the Store: queued
// call and recording snapshots, queued events, agent events and audit
// events, and journaled records.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pendingLocked()
}

func (w *Writer) pendingLocked() int {
	n := len(w.calls) + w.inflight + len(w.recs) + w.recInflight + len(w.events) + len(w.agentEv) +
		len(w.audit) + w.spilled
	if w.orphans != nil {
		n++
	}
	return n
}

// CloseOrphans asks the Writer to close, with Store.CloseOrphans, the calls
// and agents of node that a crashed process left open: those that arrived
// before before, the start of the calling process. It never blocks: the
// Writer's goroutine does it once the journal files an earlier Writer left
// in JournalDir are replayed (replaying them later would write the crashed
// process's snapshots of live calls over the crash close; events replayed
// later would take the seq of the crash event), retrying like any write,
// and logs what it closed. Close waits for it like for any pending record.
func (w *Writer) CloseOrphans(node string, before time.Time) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.log.Error("store writer: closed; calls left open by a crash not closed", "node", node)
		return
	}
	w.orphans = &orphanRequest{node: node, before: before}
	w.mu.Unlock()
	w.signal()
}

// Close writes everything still pending, retrying, until done or until ctx
// ends. When ctx ends first, what is left goes to the journal (or is logged)
// and Close returns an error saying how much. Close is idempotent; later
// calls wait for the same end and return the same result. It does not close
// the Store.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closing = true
		w.mu.Unlock()
		w.signal()
	})
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel()
		<-w.done
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeErr
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: flush, back off on failure, exit when closing
// and empty, or when ctx is cancelled by Close.
func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	defer w.cancel()
	var (
		backoff   time.Duration
		downSince time.Time
		lastWarn  time.Time
	)
	for {
		err := w.flush(ctx)
		if ctx.Err() != nil {
			w.abandon()
			return
		}
		if err != nil {
			now := time.Now()
			if downSince.IsZero() {
				downSince, lastWarn = now, now
				w.log.Warn("store writer: write failed; retrying", "err", err, "pending", w.Pending())
			} else if now.Sub(lastWarn) >= retryWarnEvery {
				lastWarn = now
				w.log.Warn("store writer: still failing", "err", err, "pending", w.Pending(),
					"down_for", now.Sub(downSince).Round(time.Second))
			} else {
				w.log.Debug("store writer: retry failed", "err", err)
			}
			backoff = nextBackoff(backoff, w.cfg.RetryMin, w.cfg.RetryMax)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				w.abandon()
				return
			}
			continue
		}
		if !downSince.IsZero() {
			w.log.Info("store writer: writes recovered", "down_for", time.Since(downSince).Round(time.Millisecond))
			downSince = time.Time{}
		}
		backoff = 0
		w.mu.Lock()
		pending, closing := w.pendingLocked(), w.closing
		if pending == 0 && closing {
			w.closed = true
			w.mu.Unlock()
			w.closeJournal()
			return
		}
		w.mu.Unlock()
		if pending > 0 {
			continue
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			w.abandon()
			return
		}
	}
}

// nextBackoff doubles prev, adds up to 20% jitter (so several nodes do not
// retry in step), and keeps the result within [lo, hi].
func nextBackoff(prev, lo, hi time.Duration) time.Duration {
	d := max(prev*2, lo)
	d += time.Duration(rand.Int64N(int64(d)/5 + 1))
	return min(d, hi)
}

// flush writes queued call events, then queued snapshots and recordings,
// then agent events and audit events, then one batch of the journal (only once no events or audit events
// are queued in memory), then, once an earlier Writer's journal files are
// all replayed, closes the orphans CloseOrphans asked for.
func (w *Writer) flush(ctx context.Context) error {
	// Events before the rows they belong to, so that a row read as ended
	// never lacks the entries its call made before it ended.
	if err := w.flushEvents(ctx); err != nil {
		return err
	}
	if err := w.flushCalls(ctx); err != nil {
		return err
	}
	if err := w.flushRecordings(ctx); err != nil {
		return err
	}
	if err := w.flushAgentEvents(ctx); err != nil {
		return err
	}
	if err := w.flushAudit(ctx); err != nil {
		return err
	}
	if err := w.replayJournal(ctx); err != nil {
		return err
	}
	return w.closeOrphans(ctx)
}

// closeOrphans carries out a CloseOrphans request once no journal file of an
// earlier Writer waits for replay.
func (w *Writer) closeOrphans(ctx context.Context) error {
	w.mu.Lock()
	req := w.orphans
	if req == nil || w.oldFiles > 0 {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
	got, err := w.s.CloseOrphans(opCtx, req.node, req.before)
	cancel()
	switch {
	case err != nil && !w.refused(err):
		return err
	case err != nil:
		w.log.Error("store writer: database refused to close the calls left open by a crash", "node", req.node, "err", err)
	case got.Calls > 0 || got.Agents > 0:
		w.log.Warn("closed calls left open by a crash", "node", req.node, "calls", got.Calls, "agents", got.Agents,
			"before", req.before)
	default:
		w.log.Info("store writer: no call left open by a crash", "node", req.node)
	}
	w.mu.Lock()
	if w.orphans == req {
		w.orphans = nil
	}
	w.mu.Unlock()
	return nil
}

func (w *Writer) flushCalls(ctx context.Context) error {
	w.mu.Lock()
	if len(w.calls) == 0 {
		w.mu.Unlock()
		return nil
	}
	batch := make([]*pendingCall, 0, len(w.calls))
	for _, pc := range w.calls {
		batch = append(batch, pc)
	}
	w.calls = map[string]*pendingCall{}
	w.inflight = len(batch)
	w.mu.Unlock()
	for i, pc := range batch {
		if err := w.saveCall(ctx, pc.call); err != nil {
			w.requeueCalls(batch[i:])
			return err
		}
		w.mu.Lock()
		w.inflight--
		w.mu.Unlock()
	}
	return nil
}

// requeueCalls puts back snapshots that were not written, unless a newer
// snapshot of the same call arrived meanwhile.
func (w *Writer) requeueCalls(rest []*pendingCall) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight = 0
	for _, pc := range rest {
		if cur, ok := w.calls[pc.call.ID]; !ok || cur.gen < pc.gen {
			w.calls[pc.call.ID] = pc
		}
	}
}

// saveCall writes one snapshot. It returns an error only when the write
// should be retried; a snapshot refused by a reachable database is logged
// and reported done.
func (w *Writer) saveCall(ctx context.Context, c Call) error {
	opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
	err := w.s.SaveCall(opCtx, c)
	cancel()
	if err == nil || !w.refused(err) {
		return err
	}
	w.log.Error("store writer: database refused call snapshot; skipped", "call_id", c.ID, "err", err, "call", c)
	return nil
}

func (w *Writer) flushRecordings(ctx context.Context) error {
	w.mu.Lock()
	if len(w.recs) == 0 {
		w.mu.Unlock()
		return nil
	}
	batch := make([]pendingRecording, 0, len(w.recs))
	for _, pr := range w.recs {
		batch = append(batch, pr)
	}
	w.recs = map[string]pendingRecording{}
	w.recInflight = len(batch)
	w.mu.Unlock()
	for i, pr := range batch {
		if err := w.saveRecording(ctx, pr.rec); err != nil {
			w.requeueRecordings(batch[i:])
			return err
		}
		w.mu.Lock()
		w.recInflight--
		w.mu.Unlock()
	}
	return nil
}

// requeueRecordings puts back snapshots that were not written, unless a
// newer snapshot of the same recording arrived meanwhile.
func (w *Writer) requeueRecordings(rest []pendingRecording) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recInflight = 0
	for _, pr := range rest {
		if cur, ok := w.recs[pr.rec.ID]; !ok || cur.gen < pr.gen {
			w.recs[pr.rec.ID] = pr
		}
	}
}

// saveRecording writes one snapshot. It returns an error only when the
// write should be retried; a snapshot refused by a reachable database is
// logged and reported done.
func (w *Writer) saveRecording(ctx context.Context, r Recording) error {
	opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
	err := w.s.SaveRecording(opCtx, r)
	cancel()
	if err == nil || !w.refused(err) {
		return err
	}
	w.log.Error("store writer: database refused recording snapshot; skipped", "recording_id", r.ID, "err", err,
		"recording", r)
	return nil
}

func (w *Writer) flushEvents(ctx context.Context) error {
	for {
		w.mu.Lock()
		n := min(len(w.events), w.cfg.BatchSize)
		batch := slices.Clone(w.events[:n])
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := w.appendEvents(ctx, batch); err != nil {
			return err
		}
		w.mu.Lock()
		// Only this goroutine removes events, and only from the front.
		w.events = w.events[n:]
		if len(w.events) == 0 {
			w.events = nil
		}
		w.mu.Unlock()
	}
}

// flushAgentEvents writes queued agent events in batches; a batch the
// database refuses for good is logged in full and skipped.
func (w *Writer) flushAgentEvents(ctx context.Context) error {
	for {
		w.mu.Lock()
		n := min(len(w.agentEv), w.cfg.BatchSize)
		batch := slices.Clone(w.agentEv[:n])
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
		err := w.s.AppendAgentEvents(opCtx, batch)
		cancel()
		if err != nil && !w.refused(err) {
			return err
		}
		if err != nil {
			w.log.Error("store writer: database refused agent events; skipped", "err", err, "events", batch)
		}
		w.mu.Lock()
		w.agentEv = w.agentEv[n:]
		if len(w.agentEv) == 0 {
			w.agentEv = nil
		}
		w.mu.Unlock()
	}
}

// flushAudit writes queued audit events in batches.
func (w *Writer) flushAudit(ctx context.Context) error {
	for {
		w.mu.Lock()
		n := min(len(w.audit), w.cfg.BatchSize)
		batch := slices.Clone(w.audit[:n])
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := w.appendAudit(ctx, batch); err != nil {
			return err
		}
		w.mu.Lock()
		// Only this goroutine removes audit events, and only from the front.
		w.audit = w.audit[n:]
		if len(w.audit) == 0 {
			w.audit = nil
		}
		w.mu.Unlock()
	}
}

// appendAudit writes a batch. When a reachable database refuses the batch,
// the events are written one by one and those refused are logged and skipped.
func (w *Writer) appendAudit(ctx context.Context, batch []AuditEvent) error {
	opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
	err := w.s.AppendAudit(opCtx, batch)
	cancel()
	if err == nil || !w.refused(err) {
		return err
	}
	for _, e := range batch {
		opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
		err := w.s.AppendAudit(opCtx, []AuditEvent{e})
		cancel()
		if err == nil {
			continue
		}
		if !w.refused(err) {
			return err
		}
		w.log.Error("store writer: database refused audit event; skipped", "audit_id", e.ID, "err", err, "audit", e)
	}
	return nil
}

// appendEvents writes a batch. When a reachable database refuses the batch,
// the events are written one by one and those refused are logged and skipped.
func (w *Writer) appendEvents(ctx context.Context, batch []Event) error {
	opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
	err := w.s.AppendEvents(opCtx, batch)
	cancel()
	if err == nil || !w.refused(err) {
		return err
	}
	for _, e := range batch {
		opCtx, cancel := context.WithTimeout(ctx, w.cfg.WriteTimeout)
		err := w.s.AppendEvents(opCtx, []Event{e})
		cancel()
		if err == nil {
			continue
		}
		if !w.refused(err) {
			return err
		}
		w.log.Error("store writer: database refused event; skipped", "call_id", e.CallID, "seq", e.Seq,
			"err", err, "event", e)
	}
	return nil
}

// refused tells a write the database rejected for good (ErrRejected) from
// one that may succeed later.
func (w *Writer) refused(err error) bool {
	return errors.Is(err, ErrRejected)
}

// replayJournal writes one batch of journaled records, once no events or
// audit events wait in memory.
func (w *Writer) replayJournal(ctx context.Context) error {
	w.mu.Lock()
	if w.journal == nil || len(w.events) > 0 || len(w.audit) > 0 {
		w.mu.Unlock()
		return nil
	}
	if len(w.journal.sealed) == 0 {
		if w.journal.active == nil {
			w.spilled = 0
			w.mu.Unlock()
			return nil
		}
		// New spills go to a fresh file while this one is replayed.
		if err := w.journal.seal(); err != nil {
			w.log.Error("store writer: journal", "err", err)
		}
	}
	path := w.journal.sealed[0]
	w.mu.Unlock()

	b, err := readBatch(path, w.replayOffset, w.cfg.BatchSize)
	if errors.Is(err, fs.ErrNotExist) {
		w.mu.Lock()
		lost := max(0, w.journal.counts[path]-w.replayRecords)
		w.spilled = max(0, w.spilled-lost)
		w.journalFileDone()
		w.mu.Unlock()
		w.replayOffset, w.replayRecords = 0, 0
		w.log.Error("store writer: journal file vanished before replay; its records are lost", "file", path, "records", lost)
		return nil
	}
	if err != nil {
		return err
	}
	for _, off := range b.corrupt {
		w.log.Error("store writer: unreadable journal record skipped", "file", path, "offset", off)
	}
	for _, c := range b.calls {
		if w.superseded(w.liveCalls, c.ID) {
			continue
		}
		if err := w.saveCall(ctx, c); err != nil {
			return err
		}
	}
	for _, r := range b.recordings {
		if w.superseded(w.liveRecs, r.ID) {
			continue
		}
		if err := w.saveRecording(ctx, r); err != nil {
			return err
		}
	}
	if len(b.events) > 0 {
		if err := w.appendEvents(ctx, b.events); err != nil {
			return err
		}
	}
	if len(b.audit) > 0 {
		if err := w.appendAudit(ctx, b.audit); err != nil {
			return err
		}
	}
	w.replayOffset = b.end
	w.replayRecords += b.records
	w.mu.Lock()
	defer w.mu.Unlock()
	w.spilled = max(0, w.spilled-b.records)
	if b.eof {
		if err := os.Remove(path); err != nil {
			w.log.Error("store writer: remove replayed journal", "file", path, "err", err)
		}
		w.journalFileDone()
		w.replayOffset, w.replayRecords = 0, 0
		if len(w.journal.sealed) == 0 && w.journal.active == nil {
			w.spilled = 0
		}
	}
	return nil
}

// journalFileDone drops the head journal file, fully replayed or gone; once
// the files of an earlier Writer are all done, snapshots this Writer was
// given need no longer be remembered. w.mu must be held.
func (w *Writer) journalFileDone() {
	w.journal.done()
	if w.oldFiles > 0 {
		if w.oldFiles--; w.oldFiles == 0 {
			w.liveCalls, w.liveRecs = nil, nil
		}
	}
}

// superseded reports whether a journaled snapshot with id, left by an
// earlier Writer, must not be replayed because this Writer was given a newer
// one (written already, or queued).
func (w *Writer) superseded(live map[string]struct{}, id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := live[id]
	return ok
}

// abandon runs when Close's context ended with records still pending: they
// go to the journal, or are logged one by one when there is none.
func (w *Writer) abandon() {
	w.mu.Lock()
	w.closed = true
	calls, recs, events, audit := w.calls, w.recs, w.events, w.audit
	w.calls, w.recs, w.events, w.audit = map[string]*pendingCall{}, map[string]pendingRecording{}, nil, nil
	journaled, lost := 0, 0
	keep := func(rec journalRecord) {
		if w.journal != nil {
			if err := w.journal.append(rec); err == nil {
				journaled++
				return
			}
		}
		lost++
		switch {
		case rec.Call != nil:
			w.log.Error("store writer: call snapshot not written", "call_id", rec.Call.ID, "call", *rec.Call)
		case rec.Recording != nil:
			w.log.Error("store writer: recording snapshot not written", "recording_id", rec.Recording.ID,
				"recording", *rec.Recording)
		case rec.Audit != nil:
			w.log.Error("store writer: audit event not written", "audit_id", rec.Audit.ID, "audit", *rec.Audit)
		default:
			w.log.Error("store writer: event not written", "call_id", rec.Event.CallID, "event", *rec.Event)
		}
	}
	for _, pc := range calls {
		keep(journalRecord{Call: &pc.call})
	}
	for _, pr := range recs {
		keep(journalRecord{Recording: &pr.rec})
	}
	for i := range events {
		keep(journalRecord{Event: &events[i]})
	}
	for i := range audit {
		keep(journalRecord{Audit: &audit[i]})
	}
	if w.orphans != nil { // the rows stay open: the next start closes them
		lost++
		w.log.Error("store writer: calls left open by a crash not closed", "node", w.orphans.node)
		w.orphans = nil
	}
	for _, e := range w.agentEv { // not journaled: logged in full
		lost++
		w.log.Error("store writer: agent event not written", "agent", e.AgentID, "event", e)
	}
	w.agentEv = nil
	inJournal := journaled + w.spilled
	w.spilled = inJournal
	if inJournal > 0 || lost > 0 {
		dir := ""
		if w.journal != nil {
			dir = w.journal.dir
		}
		w.closeErr = fmt.Errorf("store writer: closed before writing everything: %d records in journal %q, %d lost (logged)",
			inJournal, dir, lost)
		w.log.Error("store writer: closed with records unwritten", "journaled", inJournal, "dir", dir, "lost", lost)
	}
	w.mu.Unlock()
	w.closeJournal()
}

func (w *Writer) closeJournal() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.journal == nil {
		return
	}
	if err := w.journal.close(); err != nil {
		w.log.Error("store writer: journal", "err", err)
	}
}
