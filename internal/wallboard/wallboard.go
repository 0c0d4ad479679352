// Package wallboard pushes the live state of the queues and agents to the
// supervisors watching: a snapshot when they connect, then a new snapshot
// whenever something changed, at most one per Interval. Changes coalesce,
// so a burst of state changes (or a thousand calls' RTP) is one message,
// and a slow supervisor only ever misses intermediate states, never the
// latest one: each watcher holds at most one message, the newest.
//
// The board reads the ACD's snapshot only while somebody watches, and
// today's figures (from the KPI engine over the store) every TodayEvery.
package wallboard

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/hotline/hotline/acd"
)

// Source is the live state; *switchboard.Desk is one.
type Source interface {
	Snapshot(ctx context.Context) (acd.Snapshot, error)
	// Caller returns the caller's number and queue of a live call and when
	// an agent answered it (zero while it waits).
	Caller(callID string) (from, queue string, connected time.Time, ok bool)
}

// Today computes today's figures so far; cmd/hotline builds one over the
// store and the KPI engine.
type Today interface {
	Today(ctx context.Context, now time.Time) (Figures, error)
}

// Figures are today's totals so far, per queue and per agent.
type Figures struct {
	Queues map[string]QueueFigures
	// Handled is each agent's answered calls today.
	Handled map[string]int
}

// QueueFigures are one queue's figures today. Every ratio names its
// variant (see internal/kpi and KPI.md).
type QueueFigures struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// ServiceLevel is answered within ThresholdS ÷ (answered + abandoned
	// after the short-abandon threshold): KPI.md's default variant.
	ServiceLevel *float64 `json:"service_level"`
	ThresholdS   int      `json:"service_level_threshold_s"`
	ASAMS        int64    `json:"asa_ms"`
	// AbandonRate leaves short abandons out of both sides: (abandoned −
	// short) ÷ (offered − short), the KPI engine's abandon_rate_long.
	AbandonRate *float64 `json:"abandon_rate"`
	// ShortAbandonS is the short-abandon threshold the figures used.
	ShortAbandonS int `json:"short_abandon_s"`
}

// Message is what a watcher receives (type "wallboard"), as JSON.
type Message struct {
	V      int          `json:"v"`
	Type   string       `json:"type"`
	At     int64        `json:"at"` // Unix milliseconds of the snapshot
	Queues []QueueView  `json:"queues"`
	Agents []AgentView  `json:"agents"`
	Today  *TodayStatus `json:"today,omitempty"`
	// Reasons are the configured not-ready reasons, for the supervisor's
	// "not ready" action.
	Reasons []string `json:"reasons"`
}

// TodayStatus says when today's figures were computed.
type TodayStatus struct {
	At    int64  `json:"at"`
	Error string `json:"error,omitempty"`
}

// QueueView is one queue on the wallboard.
type QueueView struct {
	Name          string         `json:"name"`
	Waiting       int            `json:"waiting"`
	Ringing       int            `json:"ringing"`
	Talking       int            `json:"talking"`
	LongestWaitMS int64          `json:"longest_wait_ms"`
	Staffed       int            `json:"staffed"`
	SignedIn      int            `json:"signed_in"`
	Agents        map[string]int `json:"agents"` // members by state
	Today         QueueFigures   `json:"today"`
}

// AgentView is one agent on the wallboard.
type AgentView struct {
	ID           string    `json:"id"`
	State        string    `json:"state"`
	Reason       string    `json:"reason,omitempty"`
	Since        int64     `json:"since"` // Unix milliseconds
	Connected    bool      `json:"connected"`
	Queues       []string  `json:"queues,omitempty"`
	Call         *CallView `json:"call,omitempty"`
	HandledToday int       `json:"handled_today"`
}

// CallView is the call an agent is on.
type CallView struct {
	ID    string `json:"id"`
	From  string `json:"from"`
	Queue string `json:"queue"`
	Since int64  `json:"since,omitempty"` // answered, Unix milliseconds
}

// Options tune a Board.
type Options struct {
	Interval   time.Duration // how often the live state is read while watched; default 250 ms
	TodayEvery time.Duration // how often today's figures are recomputed; default 5 s
	Logger     *slog.Logger
	Now        func() time.Time
	// Reasons are the configured not-ready reasons, sent with every
	// message.
	Reasons []string
}

// Board is the wallboard's publisher. Run is its one goroutine.
type Board struct {
	src   Source
	today Today
	opt   Options

	mu       sync.Mutex
	watchers map[*watcher]struct{}
	last     []byte // the newest message
	lastSame []byte // the newest message encoded with its time stamp zeroed
	wake     chan struct{}
}

// watcher holds the newest message not yet taken.
type watcher struct {
	ch chan []byte // capacity 1
}

// New builds a Board over src; today may be nil (no day figures).
func New(src Source, today Today, opt Options) *Board {
	if opt.Interval <= 0 {
		opt.Interval = 250 * time.Millisecond
	}
	if opt.TodayEvery <= 0 {
		opt.TodayEvery = 5 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Board{src: src, today: today, opt: opt, watchers: map[*watcher]struct{}{}, wake: make(chan struct{}, 1)}
}

// Watch registers a watcher: the channel delivers the current snapshot (as
// soon as there is one) and then each newer one. Call stop when done.
func (b *Board) Watch() (messages <-chan []byte, stop func()) {
	w := &watcher{ch: make(chan []byte, 1)}
	b.mu.Lock()
	b.watchers[w] = struct{}{}
	if b.last != nil {
		w.ch <- b.last
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}: // the first watcher starts the polling now
	default:
	}
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.watchers, w)
			b.mu.Unlock()
		})
	}
}

// Watchers is how many are watching.
func (b *Board) Watchers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.watchers)
}

// Run publishes until ctx ends.
func (b *Board) Run(ctx context.Context) {
	tick := time.NewTicker(b.opt.Interval)
	defer tick.Stop()
	var (
		figures   Figures
		status    *TodayStatus
		wasIdle   = true
		lastQuery time.Time // today's figures were last asked for
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-b.wake:
		}
		if b.Watchers() == 0 {
			wasIdle = true
			continue
		}
		now := b.opt.Now()
		if b.today != nil && (wasIdle || now.Sub(lastQuery) >= b.opt.TodayEvery) {
			lastQuery = now
			f, err := b.today.Today(ctx, now)
			status = &TodayStatus{At: now.UnixMilli()}
			if err != nil {
				b.opt.Logger.Warn("wallboard: today's figures not computed", "err", err)
				status.Error = "today's figures are not available: " + err.Error()
			} else {
				figures = f
			}
		}
		wasIdle = false
		snap, err := b.src.Snapshot(ctx)
		if err != nil {
			if ctx.Err() == nil {
				b.opt.Logger.Warn("wallboard: no live state", "err", err)
			}
			continue
		}
		b.publish(b.build(snap, figures, status))
	}
}

// publish hands msg to every watcher when it differs from the last one
// (the time stamp aside).
func (b *Board) publish(msg Message) {
	stamp := msg.At
	msg.At = 0
	same, err := json.Marshal(msg)
	if err != nil {
		b.opt.Logger.Error("wallboard: message not encoded", "err", err)
		return
	}
	msg.At = stamp
	out, _ := json.Marshal(msg)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != nil && bytes.Equal(b.lastSame, same) {
		return
	}
	b.last, b.lastSame = out, same
	for w := range b.watchers {
		select {
		case <-w.ch: // drop the older message not yet taken
		default:
		}
		w.ch <- out
	}
}

// build turns the ACD's snapshot and today's figures into a message.
func (b *Board) build(snap acd.Snapshot, f Figures, status *TodayStatus) Message {
	m := Message{V: 1, Type: "wallboard", At: snap.At.UnixMilli(), Today: status, Reasons: b.opt.Reasons,
		Queues: make([]QueueView, 0, len(snap.Queues)), Agents: make([]AgentView, 0, len(snap.Agents))}
	byAgent := map[string]acd.AgentSnapshot{}
	for _, a := range snap.Agents {
		byAgent[a.Agent] = a
	}
	for _, q := range snap.Queues {
		v := QueueView{
			Name: q.Name, Waiting: q.Waiting, Ringing: q.Ringing, Talking: q.Talking,
			LongestWaitMS: q.LongestWait.Milliseconds(), Staffed: q.Staffed, SignedIn: q.SignedIn,
			Agents: map[string]int{}, Today: f.Queues[q.Name],
		}
		for _, a := range snap.Agents {
			for _, name := range a.Queues {
				if name == q.Name {
					v.Agents[string(a.State)]++
				}
			}
		}
		m.Queues = append(m.Queues, v)
	}
	for _, a := range snap.Agents {
		v := AgentView{ID: a.Agent, State: string(a.State), Reason: a.Reason, Connected: a.Connected,
			Queues: a.Queues, HandledToday: f.Handled[a.Agent]}
		if !a.Since.IsZero() {
			v.Since = a.Since.UnixMilli()
		}
		if a.Call != "" {
			if from, queue, connected, ok := b.src.Caller(a.Call); ok {
				v.Call = &CallView{ID: a.Call, From: from, Queue: queue}
				if !connected.IsZero() {
					v.Call.Since = connected.UnixMilli()
				}
			}
		}
		m.Agents = append(m.Agents, v)
	}
	sort.Slice(m.Agents, func(i, j int) bool { return m.Agents[i].ID < m.Agents[j].ID })
	return m
}
