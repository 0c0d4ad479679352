// Package webhooks delivers the hotline's outbox (call.*, ticket.*,
// recording.ready) to HTTP endpoints: signed JSON in the hotline's own
// format, or call events in Zammad's generic CTI format.
//
// A Dispatcher runs one goroutine per endpoint. Each delivers its pending
// messages strictly in outbox order: message n+1 waits until n is
// delivered, so a receiver sees every call's and ticket's events in order.
// Failures are retried with exponential backoff and jitter; a message that
// keeps failing for longer than Options.GiveUpAfter is dead-lettered (logged,
// counted, marked delivered) so one poisoned event cannot block an endpoint
// forever. Delivery is at least once: receivers de-duplicate by event id
// (Receiver does).
package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/store"
)

// Outbox is what the dispatcher needs from the store (store.OutboxStore
// satisfies it).
type Outbox interface {
	// PendingOutbox returns up to limit messages after seq afterSeq not yet
	// delivered to endpoint, in Seq order.
	PendingOutbox(ctx context.Context, endpoint string, afterSeq int64, limit int) ([]store.OutboxMessage, error)
	// MarkDelivered records that endpoint has the message (or gave up on it).
	MarkDelivered(ctx context.Context, endpoint, id string, at time.Time) error
}

// HTTPDoer sends one request; *http.Client satisfies it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Metrics observes deliveries; internal/metrics.Webhooks satisfies it.
type Metrics interface {
	// WebhookAttempt observes one POST: ok when the endpoint answered 2xx.
	WebhookAttempt(endpoint string, ok bool, d time.Duration)
	// WebhookDropped counts a message marked delivered without a successful
	// POST: result "skipped" (not subscribed, or no such event in the
	// endpoint's format) or "dead" (given up).
	WebhookDropped(endpoint, result string)
	// WebhookOldestPending reports how old the endpoint's oldest undelivered
	// message is (0 when it is caught up).
	WebhookOldestPending(endpoint string, age time.Duration)
}

// Results reported to Metrics.WebhookDropped.
const (
	ResultSkipped = "skipped"
	ResultDead    = "dead"
)

// Defaults of Options.
const (
	DefaultBackoffMin  = time.Second
	DefaultBackoffMax  = 5 * time.Minute
	DefaultPollEvery   = time.Second
	DefaultGiveUpAfter = 24 * time.Hour
	DefaultBatch       = 100
	// rescanEvery: while idle, an endpoint re-reads the outbox from seq 0
	// this often, in case a message committed after one with a higher seq
	// (concurrent transactions) was passed over by afterSeq.
	rescanEvery = time.Minute
	// markTimeout bounds one MarkDelivered after a successful POST; it runs
	// even while closing, so a delivered message is recorded.
	markTimeout = 5 * time.Second
)

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	// HTTPClient sends the requests. Default: an http.Client that does not
	// follow redirects (a 3xx is a failure). Endpoint.Timeout bounds each
	// attempt through its context either way.
	HTTPClient HTTPDoer
	Logger     *slog.Logger
	Now        func() time.Time // the clock for signatures, ages and giving up
	Metrics    Metrics
	// BackoffMin and BackoffMax bound the wait between attempts: it doubles
	// from BackoffMin to BackoffMax, each wait jittered to 50–100 %.
	BackoffMin, BackoffMax time.Duration
	// PollEvery is how often an idle endpoint looks for new messages; Notify
	// makes it look at once.
	PollEvery time.Duration
	// GiveUpAfter: a message still failing this long after its first failed
	// attempt (in this process) is dead-lettered.
	GiveUpAfter time.Duration
	// Batch is how many messages one PendingOutbox call reads.
	Batch int
	// ReadFile reads Endpoint.SecretFile (default os.ReadFile).
	ReadFile func(name string) ([]byte, error)
}

func (o *Options) fill() {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
}

type nopMetrics struct{}

func (nopMetrics) WebhookAttempt(string, bool, time.Duration) {}
func (nopMetrics) WebhookDropped(string, string)              {}
func (nopMetrics) WebhookOldestPending(string, time.Duration) {}

// Dispatcher delivers the outbox to its endpoints, one goroutine each,
// between Start and Close.
type Dispatcher struct {
	outbox  Outbox
	opt     Options
	workers []*worker

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New validates endpoints (CheckEndpoints), reads their secret files and
// returns a Dispatcher that has not started yet.
func New(outbox Outbox, endpoints []Endpoint, opt Options) (*Dispatcher, error) {
	if outbox == nil {
		return nil, errors.New("webhooks: no outbox")
	}
	if err := CheckEndpoints(endpoints); err != nil {
		return nil, err
	}
	opt.fill()
	d := &Dispatcher{outbox: outbox, opt: opt}
	declare, _ := opt.Metrics.(interface{ Endpoint(name string) })
	for i, ep := range WithDefaults(endpoints) {
		if declare != nil { // metrics.Webhooks: create the endpoint's series at zero
			declare.Endpoint(ep.Name)
		}
		if ep.SecretFile != "" {
			b, err := opt.ReadFile(ep.SecretFile)
			if err != nil {
				return nil, fmt.Errorf("webhooks[%d].secret_file: %w", i, err)
			}
			ep.Secret = strings.TrimRight(string(b), "\r\n")
			if len(ep.Secret) < MinSecretLen {
				return nil, fmt.Errorf("webhooks[%d].secret_file: %s holds %d bytes; use at least %d",
					i, ep.SecretFile, len(ep.Secret), MinSecretLen)
			}
		}
		d.workers = append(d.workers, &worker{
			d: d, ep: ep, nudge: make(chan struct{}, 1),
			log: opt.Logger.With("webhook", ep.Name, "url", redact(ep.URL)),
		})
	}
	return d, nil
}

// Start starts one delivery goroutine per endpoint; they run until Close
// (or until ctx is done). Starting twice, or after Close, does nothing.
func (d *Dispatcher) Start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.closed {
		return
	}
	d.started = true
	ctx, d.cancel = context.WithCancel(ctx)
	for _, w := range d.workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			w.run(ctx)
		}()
	}
}

// Run starts the dispatcher, waits for ctx to be done and closes it; it
// always returns nil (for an errgroup).
func (d *Dispatcher) Run(ctx context.Context) error {
	d.Start(ctx)
	<-ctx.Done()
	return d.Close()
}

// Notify nudges every endpoint to read the outbox now instead of at its
// next poll. It never blocks; call it after committing a change.
func (d *Dispatcher) Notify() {
	for _, w := range d.workers {
		select {
		case w.nudge <- struct{}{}:
		default:
		}
	}
}

// Close stops delivery and waits for the goroutines. An attempt in flight
// is abandoned (its message stays pending). Close is idempotent.
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	d.closed = true
	cancel := d.cancel
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	d.wg.Wait()
	return nil
}

// worker delivers one endpoint's messages; only its goroutine touches its
// fields after Start.
type worker struct {
	d        *Dispatcher
	ep       Endpoint
	nudge    chan struct{}
	log      *slog.Logger
	afterSeq int64     // the last seq handled in this process
	scanned  time.Time // the last read from seq 0
}

func (w *worker) run(ctx context.Context) {
	o := &w.d.opt
	w.scanned = o.Now()
	for ctx.Err() == nil {
		msgs, err := w.d.outbox.PendingOutbox(ctx, w.ep.Name, w.afterSeq, o.Batch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Warn("webhook: reading the outbox failed", "err", err)
			w.wait(ctx)
			continue
		}
		if len(msgs) == 0 {
			if w.afterSeq > 0 && o.Now().Sub(w.scanned) >= rescanEvery {
				w.afterSeq, w.scanned = 0, o.Now()
				continue
			}
			o.Metrics.WebhookOldestPending(w.ep.Name, 0)
			w.wait(ctx)
			continue
		}
		for _, m := range msgs {
			if m.Seq <= w.afterSeq && w.afterSeq > 0 {
				continue
			}
			if !w.handle(ctx, m) {
				return
			}
			w.afterSeq = m.Seq
		}
	}
}

// wait blocks for PollEvery, a nudge or ctx.
func (w *worker) wait(ctx context.Context) {
	t := time.NewTimer(w.d.opt.PollEvery)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.nudge:
	case <-t.C:
	}
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff is the wait after the n-th failed attempt (n from 0).
func (w *worker) backoff(n int) time.Duration {
	o := &w.d.opt
	d := o.BackoffMin
	for i := 0; i < n && d < o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.BackoffMax)
	return d/2 + rand.N(d/2+1) // 50–100 %
}

// handle delivers (or skips, or dead-letters) one message and marks it.
// It returns false when ctx ended first; the message then stays pending.
func (w *worker) handle(ctx context.Context, m store.OutboxMessage) bool {
	o := &w.d.opt
	log := w.log.With("id", m.ID, "topic", m.Topic, "seq", m.Seq)
	if !w.ep.Wants(m.Topic) || (w.ep.Format == FormatZammad && zammadEvent(m.Topic) == "") {
		log.Debug("webhook: not subscribed; skipped")
		o.Metrics.WebhookDropped(w.ep.Name, ResultSkipped)
		return w.mark(ctx, m)
	}
	body, contentType, err := w.encode(m)
	if err != nil {
		log.Error("webhook: message cannot be encoded; dead-lettered", "err", err)
		o.Metrics.WebhookDropped(w.ep.Name, ResultDead)
		return w.mark(ctx, m)
	}
	var firstFail time.Time
	for attempt := 0; ; attempt++ {
		o.Metrics.WebhookOldestPending(w.ep.Name, max(o.Now().Sub(m.At), 0))
		start := time.Now()
		err := w.post(ctx, m, body, contentType)
		took := time.Since(start)
		if err == nil {
			o.Metrics.WebhookAttempt(w.ep.Name, true, took)
			log.Debug("webhook: delivered", "attempt", attempt+1, "took", took)
			return w.mark(ctx, m)
		}
		if ctx.Err() != nil {
			return false
		}
		o.Metrics.WebhookAttempt(w.ep.Name, false, took)
		now := o.Now()
		if firstFail.IsZero() {
			firstFail = now
		}
		if failing := now.Sub(firstFail); failing >= o.GiveUpAfter {
			log.Error("webhook: giving up on a message; dead-lettered",
				"attempts", attempt+1, "failing_for", failing, "err", err)
			o.Metrics.WebhookDropped(w.ep.Name, ResultDead)
			return w.mark(ctx, m)
		}
		wait := w.backoff(attempt)
		log.Warn("webhook: delivery failed; will retry", "attempt", attempt+1, "retry_in", wait, "err", err)
		if !sleep(ctx, wait) {
			return false
		}
	}
}

func (w *worker) encode(m store.OutboxMessage) (body []byte, contentType string, err error) {
	if w.ep.Format == FormatZammad {
		body, err = EncodeZammad(m)
		return body, "application/x-www-form-urlencoded", err
	}
	body, err = EncodeEvent(m)
	return body, "application/json", err
}

// post makes one attempt; nil means the endpoint answered 2xx.
func (w *worker) post(ctx context.Context, m store.OutboxMessage, body []byte, contentType string) error {
	ctx, cancel := context.WithTimeout(ctx, w.ep.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.ep.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "hotline-webhooks/1")
	if w.ep.Format == FormatHotline {
		req.Header.Set(HeaderEventID, m.ID)
		req.Header.Set(HeaderEvent, m.Topic)
		req.Header.Set(HeaderSignature, Sign(w.ep.Secret, w.d.opt.Now(), body))
	}
	resp, err := w.d.opt.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // it repeats the URL, which may hold a token
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("endpoint answered %s: %q", resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// mark records m as delivered, retrying with backoff while ctx is live. The
// first try runs even when ctx has just ended.
func (w *worker) mark(ctx context.Context, m store.OutboxMessage) bool {
	for attempt := 0; ; attempt++ {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		err := w.d.outbox.MarkDelivered(mctx, w.ep.Name, m.ID, w.d.opt.Now())
		cancel()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := w.backoff(attempt)
		w.log.Warn("webhook: recording a delivery failed; will retry", "id", m.ID, "retry_in", wait, "err", err)
		if !sleep(ctx, wait) {
			return false
		}
	}
}
