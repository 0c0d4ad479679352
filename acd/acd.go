// Package acd decides which agent gets each queued call. It is pure logic:
// no SIP, no media, no network, only the standard library. One actor
// goroutine (Run) owns all state; everything goes in as an Input and comes
// out as a Decision, both plain values that could cross a process boundary,
// so that later one leader node can run the ACD for several.
//
// Deterministic: given the same configuration, seed, inputs and clock, the
// ACD makes the same decisions in the same order.
//
// # Using it
//
//	a, err := acd.New(cfg, acd.Options{Logger: log})
//	go func() { errc <- a.Run(ctx) }()                 // the owner waits for Run
//	go func() { for d := range a.Decisions() { … } }() // act on offers, bridges, overflows
//	err = a.Submit(acd.Input{Kind: acd.CallQueued, Call: id, Queue: "support", Priority: 1, Skills: []string{"tech"}})
//	snap, err := a.Snapshot(ctx)                       // supervisor view
//
// The ACD knows calls and agents only by id. Whatever the agent's screen
// shows (caller number, IVR choices, serial) the switchboard keeps by call
// id; an Offer names the call, queue, agent, language and deadline. Agents
// are the queue members of the configuration; an agent of no queue may sign
// in but gets no calls.
//
// Time: every input is handled at the clock's now, after every timer due by
// then has run at its own time (ring timeouts, wrap-up ends, widening,
// maximum wait, announcements), so decisions carry exact times whatever the
// actor's scheduling delay. Inputs that make no sense (an unknown call, a
// late accept, a not-ready reason not configured) change nothing and are
// answered with a Rejected decision, also logged.
//
// Submit never blocks and never drops: inputs wait in an unbounded mailbox
// until the actor takes them. Decisions come out in order on one unbuffered
// channel; the actor keeps an unbounded outbox, so a slow reader never stalls
// routing. Only a Connected decision means a call may be bridged: an
// OfferAccepted that lost a race (the offer had just rung out) is answered
// with Rejected.
//
// # Routing rules
//
// Calls of a queue are served by priority (higher first), then in the order
// they joined the queue. An agent who becomes ready, and is a member of
// several queues, is offered the best call it may take across all of them:
// highest priority, then the call that joined its queue earliest, then the
// queue listed first in the configuration, then the call that joined first.
// When a call arrives and several agents are ready, the queue's strategy
// picks (see LongestIdle and the others). A call overflowing into another
// queue joins it at the back of its priority.
//
// Skills: a queue's RequiredSkills apply to all its calls; each skill the
// caller's IVR outcome names needs the level RequiredSkills gives it, or 1.
// Widening stages lower levels as a call waits (0 drops the skill).
//
// # Agent states
//
// signed_out → (AgentSignedIn) not_ready → (AgentReady) ready → offered →
// (OfferAccepted) on_call ⇄ on_hold → (CallEnded) wrap_up for the queue's
// WrapUp, or until WrapUpDone/AgentReady → ready. Every change is reported
// as an AgentStateChanged decision with its time.
//   - Ring no answer: the offer is withdrawn at its deadline, the agent becomes
//     not_ready "missed call", and the call keeps its place and goes to the
//     next agent.
//   - Reject: like ring no answer, but the reason is "rejected": an agent who
//     rejects is not offered the next call until they choose Ready again, as
//     call centers do to stop a call bouncing back to the same desk.
//   - Caller hangs up while ringing: the offer is withdrawn at once and the
//     agent is ready again.
//   - ring-all: every eligible ready member rings; the first to accept gets the
//     call and the others are withdrawn ("answered elsewhere") and ready.
//     Agents who become ready while a ring-all call rings do not join it.
//   - Not ready or sign-out during a call takes effect when the call (and, for
//     not ready, wrap-up) ends; during an offer it withdraws the offer.
//   - AgentDisconnected (browser gone): an offer is withdrawn and re-routed and
//     the agent becomes not_ready "disconnected"; a call in progress goes on
//     (a reloaded page re-attaches with AgentSignedIn), and afterwards the
//     agent becomes not_ready "disconnected" unless it re-attached.
//   - Consultation (warm transfer): the agent on a call and the ready agent
//     they consult are both consult while the caller waits; completed, the
//     call is the other agent's (see consult.go).
//
// # Queues that are full or empty
//
// A queue is empty when none of its members is signed in (not ready counts as
// signed in). Without JoinWhenEmpty a call arriving at an empty queue
// overflows at once ("queue empty"); with LeaveWhenEmpty waiting calls
// overflow when the last member signs out. MaxLen counts calls waiting
// (reserved ones too) or ringing; MaxWait counts from joining the queue, or
// from the last transfer to an agent (a call ringing at that moment finishes
// ringing first). Overflow targets are "queue:NAME" (followed
// inside the ACD), "node:FLOW:NODE" and "hangup" (the default; the
// switchboard plays goodbye and hangs up).
//
// # Announcements and EWT
//
// With AnnounceEvery set, a waiting caller gets an Announce when joining and
// then every AnnounceEvery, but only when the position or EWT changed.
// EWT = position × AHT ÷ max(1, members ready, ringing, talking or in
// wrap-up), rounded up to whole minutes, never negative, at most MaxEWT. AHT
// starts at DefaultHandleTime and is smoothed as (3·old + new)/4 over each
// handled call (answer to end of wrap-up).
//
// # Transfers
//
// CallTransferred hands a connected call on without a consultation (blind
// transfer), to another queue or to a named agent. Accepted, it is answered
// with a Transferred decision, and the transferring agent goes on as after
// CallEnded (wrap-up, then ready). Refused, it is answered with Rejected and
// nothing changes: the call stays connected to the same agent.
//
// To a queue (Queue): the call joins that queue at the back of its priority,
// keeping its priority, skills and language. An unknown queue is refused.
//
// To an agent (Agent): the target must be known to the ACD, signed in, with
// their browser attached, not signing out, and not the agent on the call.
// The call stays in its queue (its statistics, MaxLen and overflow) but is
// reserved for the target: it is offered to them alone, and before any call
// of their queues, as soon as they are ready — at once if they are, after
// their current offer, call and wrap-up otherwise. Meanwhile no other agent
// is offered it. The reservation lapses, and the call goes back to normal
// routing in its queue (TransferLapsed), when the target
//   - has not become ready for it within the queue's TransferWait (an offer
//     ringing at that moment rings to its end first),
//   - lets the offer ring out (the target becomes not ready "missed call",
//     as for any offer), rejects it, or goes not ready while it rings,
//   - disconnects or signs out (at once, even during a call).
//
// Back in routing, the call keeps its priority, skills and language and its
// place in line from when it joined the queue: having waited already, it is
// ahead of every call of its priority that joined after it. Widening goes
// on from that join time; MaxWait counts from the transfer. A reserved call
// whose queue, with LeaveWhenEmpty, has no member signed in when it lapses
// overflows ("queue empty"). So a transferred call is never held longer than
// TransferWait plus one ring timeout for an agent who does not take it.
//
// # Cost
//
// Waiting calls sit in per-queue heaps, one per (priority, skill set), so an
// agent becoming ready looks only at the heap heads of its queues, and a new
// call looks only at its queue's members: routing never scans the waiting
// calls and allocates nothing (see BenchmarkRouteAgentReady and
// TestRoutingDoesNotAllocate). Calls transferred to an agent wait in that
// agent's own FIFO, not in the heaps; routing the agent looks at its head
// first. Announcements count the calls ahead, in
// proportion to the queue's length; snapshots copy everything.
package acd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// ErrStopped is returned once Run has returned.
var ErrStopped = errors.New("acd: stopped")

// Options tune an ACD.
type Options struct {
	Now    func() time.Time // clock; default time.Now
	Seed   uint64           // seeds the random strategy
	Logger *slog.Logger     // default: discard
}

// ACD is the automatic call distributor. Create it with New, run it with Run.
type ACD struct {
	now    func() time.Time
	log    *slog.Logger
	m      *machine
	out    chan Decision
	queues []string // configured queue names, in order; immutable
	agents []string // configured members, sorted; immutable

	mu      sync.Mutex // guards inbox, started, stopped
	inbox   []request
	started bool
	stopped bool
	wake    chan struct{} // capacity 1: "the inbox may have something"
	done    chan struct{} // closed when Run returns
}

type request struct {
	in   Input
	snap chan Snapshot // a Snapshot request when set
}

// New validates cfg and returns an ACD with every configured agent signed out.
func New(cfg Config, o Options) (*ACD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("acd: %w", err)
	}
	cfg.Queues = append([]QueueConfig(nil), cfg.Queues...)
	for i := range cfg.Queues {
		q := &cfg.Queues[i]
		if q.Strategy == "" {
			q.Strategy = LongestIdle
		}
		if q.RingTimeout == 0 {
			q.RingTimeout = DefaultRingTimeout
		}
		if q.TransferWait == 0 {
			q.TransferWait = DefaultTransferWait
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := newMachine(cfg, o.Seed)
	m.now = o.Now()
	var queues, agents []string
	for _, q := range cfg.Queues {
		queues = append(queues, q.Name)
		for _, mb := range q.Members {
			agents = append(agents, mb.Agent)
		}
	}
	slices.Sort(agents)
	return &ACD{
		now: o.Now, log: o.Logger, m: m,
		queues: queues, agents: slices.Compact(agents),
		out:  make(chan Decision),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}, nil
}

// Submit hands an input to the actor without blocking. It fails only after
// Run has returned.
func (a *ACD) Submit(in Input) error {
	return a.enqueue(request{in: in})
}

func (a *ACD) enqueue(r request) error {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return ErrStopped
	}
	a.inbox = append(a.inbox, r)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// Queues returns the names of the configured queues, in configuration order
// (the targets of a transfer to a queue).
func (a *ACD) Queues() []string { return slices.Clone(a.queues) }

// Agents returns the ids of the agents that are members of a queue, sorted
// (the usual targets of a transfer to an agent).
func (a *ACD) Agents() []string { return slices.Clone(a.agents) }

// Decisions is the ordered stream of decisions. It is closed when Run returns.
func (a *ACD) Decisions() <-chan Decision { return a.out }

// Snapshot returns a copy of the state once the actor has handled every
// input submitted before the call.
func (a *ACD) Snapshot(ctx context.Context) (Snapshot, error) {
	reply := make(chan Snapshot, 1)
	if err := a.enqueue(request{snap: reply}); err != nil {
		return Snapshot{}, err
	}
	select {
	case s := <-reply:
		return s, nil
	case <-a.done:
		return Snapshot{}, ErrStopped
	case <-ctx.Done():
		return Snapshot{}, ctx.Err()
	}
}

// Run is the actor loop. It returns nil when ctx ends; decisions not yet
// read by then are dropped (and counted in the log), and Decisions is closed.
func (a *ACD) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return errors.New("acd: Run called twice")
	}
	a.started = true
	a.mu.Unlock()
	defer a.stop()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	head := 0 // next decision of a.m.out to send
	for {
		if at, ok := a.m.nextTimer(); ok {
			timer.Reset(max(0, at.Sub(a.now())))
		} else {
			timer.Stop()
		}
		var out chan Decision
		var next Decision
		if head < len(a.m.out) {
			out, next = a.out, a.m.out[head]
		}
		select {
		case <-ctx.Done():
			if n := len(a.m.out) - head; n > 0 {
				a.log.Warn("acd: stopping with unread decisions", "count", n)
			}
			return nil
		case <-a.wake:
			a.drain()
		case <-timer.C:
			a.m.advance(a.now())
			continue
		case out <- next:
			head++
			if head == len(a.m.out) {
				clear(a.m.out)
				a.m.out, head = a.m.out[:0], 0
			}
			continue
		}
	}
}

func (a *ACD) drain() {
	a.mu.Lock()
	batch := a.inbox
	a.inbox = nil
	a.mu.Unlock()
	for _, r := range batch {
		if r.snap != nil {
			a.m.advance(a.now())
			r.snap <- a.m.snapshot()
			continue
		}
		from := len(a.m.out)
		a.m.apply(r.in, a.now())
		for _, d := range a.m.out[from:] {
			if d.Kind == Rejected {
				a.log.Warn("acd: input refused", "input", d.Input, "call_id", d.Call, "agent", d.Agent, "reason", d.Reason)
			}
		}
	}
}

func (a *ACD) stop() {
	a.mu.Lock()
	a.stopped = true
	left := len(a.inbox)
	a.inbox = nil
	a.mu.Unlock()
	if left > 0 {
		a.log.Warn("acd: stopping with unhandled inputs", "count", left)
	}
	close(a.out)
	close(a.done)
}
