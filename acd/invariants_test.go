package acd

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sim drives a machine directly, one input at a time, and checks the
// invariants after every step.
type sim struct {
	t      testing.TB
	m      *machine
	now    time.Time
	states map[string]State // from AgentStateChanged decisions
	all    []Decision
	// staffed: the queues with a member signed in before the current step
	staffed map[*queue]bool
}

func newSim(t testing.TB, cfg Config, seed uint64) *sim {
	t.Helper()
	a, err := New(cfg, Options{Seed: seed, Now: func() time.Time { return time.Unix(1_000_000, 0).UTC() }})
	require.NoError(t, err)
	return &sim{t: t, m: a.m, now: a.m.now, states: map[string]State{}}
}

func (s *sim) step(in Input) []Decision {
	s.t.Helper()
	from := len(s.m.out)
	s.staffed = map[*queue]bool{}
	for _, q := range s.m.queues {
		s.staffed[q] = q.signedIn() > 0
	}
	s.m.apply(in, s.now)
	got := slices.Clone(s.m.out[from:])
	s.m.out = s.m.out[:0]
	for _, d := range got {
		if d.Kind == AgentStateChanged {
			s.states[d.Agent] = d.State
		}
	}
	s.all = append(s.all, got...)
	s.check(in)
	return got
}

func (s *sim) wait(d time.Duration) []Decision {
	s.now = s.now.Add(d)
	return s.step(Input{Kind: Tick})
}

// check verifies every invariant of the machine.
func (s *sim) check(after Input) {
	s.t.Helper()
	m := s.m
	fail := func(format string, args ...any) {
		s.t.Helper()
		require.FailNow(s.t, fmt.Sprintf(format, args...), "after input %+v at %s", after, s.now)
	}
	for id, a := range m.agents {
		if want, ok := s.states[id]; ok && want != a.state {
			fail("agent %s is %s but the last reported state is %s", id, a.state, want)
		}
		switch a.state {
		case StateOffered:
			c := a.offer
			if c == nil || m.calls[c.id] != c || c.state != callOffered || !slices.Contains(c.offers, a) {
				fail("agent %s is offered without a live offer", id)
			}
		default:
			if a.offer != nil {
				fail("agent %s is %s but holds an offer of %s", id, a.state, a.offer.id)
			}
		}
		switch {
		case a.state == StateOnCall || a.state == StateOnHold:
			c := a.call
			if c == nil || m.calls[c.id] != c || c.state != callConnected || c.agent != a {
				fail("agent %s is %s without a live call", id, a.state)
			}
			if c.consult != nil {
				fail("agent %s is %s while consulting on %s", id, a.state, c.id)
			}
		case a.state == StateConsult && a.consultOf == nil:
			// The agent on the call, consulting another.
			c := a.call
			if c == nil || m.calls[c.id] != c || c.state != callConnected || c.agent != a || c.consult == nil || c.consult.from != a {
				fail("agent %s consults without a live call and consultation", id)
			}
		case a.state == StateConsult:
			// The consulted agent.
			c := a.consultOf
			if a.call != nil || m.calls[c.id] != c || c.consult == nil || c.consult.to != a {
				fail("agent %s is consulted on %s, which has no such consultation", id, c.id)
			}
		default:
			if a.call != nil {
				fail("agent %s is %s but holds call %s", id, a.state, a.call.id)
			}
		}
		if a.consultOf != nil && a.state != StateConsult {
			fail("agent %s is %s but is consulted on %s", id, a.state, a.consultOf.id)
		}
		for i, c := range a.reserved {
			switch {
			case m.calls[c.id] != c || c.state != callReserved || c.target != a:
				fail("agent %s holds call %s in its transfer FIFO, but the call is not reserved for it", id, c.id)
			case slices.Index(a.reserved, c) != i:
				fail("call %s is twice in the transfer FIFO of %s", c.id, id)
			case a.state == StateReady:
				fail("agent %s is ready while call %s is reserved for it", id, c.id)
			case a.state == StateSignedOut || !a.connected || a.pendingSignOut:
				fail("call %s is reserved for agent %s, who is %s (connected %v, signing out %v)", c.id, id, a.state, a.connected, a.pendingSignOut)
			case i > 0 && c.reserveEnd.Before(a.reserved[i-1].reserveEnd) && c.q == a.reserved[i-1].q:
				fail("the transfer FIFO of %s is out of order", id)
			}
		}
		if a.state == StateReady {
			for _, mb := range a.members {
				for _, b := range mb.q.buckets {
					for _, c := range b.calls {
						if eligible(mb, c) {
							fail("agent %s is ready while call %s it may take waits in %s", id, c.id, mb.q.cfg.Name)
						}
					}
				}
			}
		}
	}
	for _, q := range m.queues {
		var waiting, reserved, ringing, talking int
		for _, b := range q.buckets {
			if len(b.calls) == 0 || q.byKey[b.key] != b {
				fail("queue %s has an empty or unindexed bucket", q.cfg.Name)
			}
			for i, c := range b.calls {
				if c.b != b || c.idx != i || c.state != callWaiting || m.calls[c.id] != c || c.q != q {
					fail("call %s is misfiled in queue %s", c.id, q.cfg.Name)
				}
				if i > 0 && before(c, b.calls[(i-1)/2]) {
					fail("bucket heap order broken in queue %s", q.cfg.Name)
				}
			}
			waiting += len(b.calls)
		}
		for _, c := range m.calls {
			if c.q != q {
				continue
			}
			if c.consult != nil && c.state != callConnected {
				fail("call %s is %d with a consultation", c.id, c.state)
			}
			if c.target != nil && c.state != callReserved && c.state != callOffered {
				fail("%d call %s is still reserved for %s", c.state, c.id, c.target.id)
			}
			switch c.state {
			case callWaiting:
				if c.b == nil {
					fail("waiting call %s is in no bucket", c.id)
				}
				if mw := q.cfg.MaxWait; mw > 0 && !s.now.Before(c.waitFrom.Add(mw)) {
					fail("call %s waited past max wait in %s", c.id, q.cfg.Name)
				}
			case callReserved:
				// A reserved call is offered to nobody, is in no bucket, and
				// has a pending end no later than one transfer wait away.
				reserved++
				switch {
				case c.target == nil || !slices.Contains(c.target.reserved, c):
					fail("reserved call %s is in no agent's transfer FIFO", c.id)
				case c.b != nil || len(c.offers) > 0:
					fail("reserved call %s is in a bucket or rings", c.id)
				case !c.reserveEnd.After(s.now) || c.reserveEnd.After(s.now.Add(q.cfg.TransferWait)):
					fail("reserved call %s lapses at %s, now is %s", c.id, c.reserveEnd, s.now)
				case !c.timerLive || c.timerAt.After(c.reserveEnd):
					fail("reserved call %s has no timer for the end of its transfer wait", c.id)
				}
			case callOffered:
				ringing++
				if len(c.offers) == 0 || (q.cfg.Strategy != RingAll && len(c.offers) > 1) {
					fail("call %s is offered to %d agents in %s queue %s", c.id, len(c.offers), q.cfg.Strategy, q.cfg.Name)
				}
				if c.target != nil && (len(c.offers) != 1 || c.offers[0] != c.target) {
					fail("call %s, transferred to %s, rings for someone else", c.id, c.target.id)
				}
				for _, a := range c.offers {
					if a.offer != c || a.state != StateOffered {
						fail("call %s lists agent %s who does not ring for it", c.id, a.id)
					}
				}
			case callConnected:
				talking++
				if c.agent == nil || c.agent.call != c {
					fail("connected call %s has no agent on it", c.id)
				}
				if k := c.consult; k != nil {
					switch {
					case k.from != c.agent || k.from.state != StateConsult:
						fail("call %s is consulted on by %s, not its agent", c.id, k.from.id)
					case k.to == k.from || k.to.consultOf != c || k.to.state != StateConsult:
						fail("call %s consults %s, who is %s", c.id, k.to.id, k.to.state)
					}
				}
			default:
				fail("call %s in the ACD has no state", c.id)
			}
		}
		if waiting != q.waiting || reserved != q.reserved || ringing != q.ringing || talking != q.talking {
			fail("queue %s counts %d/%d/%d/%d, found %d/%d/%d/%d", q.cfg.Name,
				q.waiting, q.reserved, q.ringing, q.talking, waiting, reserved, ringing, talking)
		}
		if q.cfg.LeaveWhenEmpty && s.staffed[q] && q.signedIn() == 0 && waiting > 0 {
			fail("the last member of queue %s left but %d calls still wait in it (leave_when_empty)", q.cfg.Name, waiting)
		}
	}
}

// chooser yields choices for the random driver: from a PRNG or a fuzz input.
type chooser interface {
	pick(n int) int
	done() bool
}

type bytesChooser struct{ b []byte }

func (c *bytesChooser) pick(n int) int {
	if len(c.b) == 0 || n <= 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

func (c *bytesChooser) done() bool { return len(c.b) == 0 }

// driveConfig is a small call center with every feature switched on.
func driveConfig() Config {
	return Config{
		NotReadyReasons: []string{"break", "lunch"},
		Queues: []QueueConfig{
			{
				Name: "support", Strategy: LongestIdle, RingTimeout: 10 * time.Second, WrapUp: 15 * time.Second, TransferWait: 20 * time.Second,
				RequiredSkills: map[string]int{"tech": 2},
				Widen:          []Widening{{After: 30 * time.Second, Skills: map[string]int{"tech": 1, "ru": 0}}},
				MaxWait:        3 * time.Minute, Overflow: "queue:general", JoinWhenEmpty: true, AnnounceEvery: 20 * time.Second,
				Members: []Member{
					{Agent: "a1", Skills: map[string]int{"tech": 3, "ru": 1}},
					{Agent: "a2", Skills: map[string]int{"tech": 1}},
					{Agent: "a3", Skills: map[string]int{"tech": 2, "ru": 2}},
				},
			},
			{
				Name: "general", Strategy: RingAll, RingTimeout: 8 * time.Second, MaxLen: 4,
				JoinWhenEmpty: true, LeaveWhenEmpty: true, Overflow: "node:main:goodbye",
				Members: []Member{{Agent: "a2"}, {Agent: "a3"}, {Agent: "a4"}, {Agent: "a5"}},
			},
			{
				Name: "sales", Strategy: RoundRobin, RingTimeout: 5 * time.Second, MaxWait: time.Minute,
				Members: []Member{{Agent: "a1"}, {Agent: "a4"}, {Agent: "a5"}},
			},
		},
	}
}

var (
	driveAgents  = []string{"a1", "a2", "a3", "a4", "a5", "ghost"}
	driveQueues  = []string{"support", "general", "sales", "nowhere"}
	driveSkills  = [][]string{nil, {"ru"}, {"tech"}, {"ru", "tech"}, {"fr"}}
	driveReasons = []string{"", "break", "lunch", "gaming"}
)

// drive feeds up to steps random inputs chosen by ch into s.
func drive(s *sim, ch chooser, steps int) {
	next := 0
	var callIDs []string
	someCall := func() string {
		if len(callIDs) == 0 || ch.pick(10) == 0 {
			return "c-unknown"
		}
		return callIDs[ch.pick(len(callIDs))]
	}
	someAgent := func() string { return driveAgents[ch.pick(len(driveAgents))] }
	// ringing returns an agent with a live offer, if any, in a stable order.
	ringing := func() *agent {
		var rs []*agent
		for _, id := range driveAgents {
			if a := s.m.agents[id]; a != nil && a.offer != nil {
				rs = append(rs, a)
			}
		}
		if len(rs) == 0 {
			return nil
		}
		return rs[ch.pick(len(rs))]
	}
	// talking returns a connected call id most of the time.
	talking := func() string {
		var ids []string
		for _, id := range callIDs {
			if c := s.m.calls[id]; c != nil && c.state == callConnected {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 || ch.pick(4) == 0 {
			return someCall()
		}
		return ids[ch.pick(len(ids))]
	}
	for i := 0; i < steps && !ch.done(); i++ {
		var in Input
		switch ch.pick(18) {
		case 0, 1:
			next++
			id := fmt.Sprintf("c%d", next)
			callIDs = append(callIDs, id)
			in = Input{Kind: CallQueued, Call: id, Queue: driveQueues[ch.pick(len(driveQueues))],
				Priority: ch.pick(3), Skills: driveSkills[ch.pick(len(driveSkills))], Language: "en"}
		case 2:
			in = Input{Kind: CallerHungUp, Call: someCall()}
		case 3:
			in = Input{Kind: CallEnded, Call: talking()}
		case 4, 5, 6:
			// Answer a live offer most of the time, someone else's otherwise.
			in = Input{Kind: OfferAccepted, Agent: someAgent(), Call: someCall()}
			if ch.pick(3) == 0 {
				in.Kind = OfferRejected
			}
			if a := ringing(); a != nil && ch.pick(5) != 0 {
				in.Agent, in.Call = a.id, a.offer.id
			}
		case 7:
			in = Input{Kind: AgentSignedIn, Agent: someAgent()}
		case 8, 9:
			in = Input{Kind: AgentReady, Agent: someAgent()}
		case 10:
			in = Input{Kind: AgentNotReady, Agent: someAgent(), Reason: driveReasons[ch.pick(len(driveReasons))]}
		case 11:
			in = Input{Kind: []InputKind{AgentSignedOut, AgentDisconnected, WrapUpDone}[ch.pick(3)], Agent: someAgent()}
		case 12:
			in = Input{Kind: []InputKind{CallHeld, CallResumed}[ch.pick(2)], Call: talking()}
		case 13:
			// A transfer to a queue, or to an agent (known or not, maybe the
			// one on the call), now and then both at once.
			in = Input{Kind: CallTransferred, Call: talking()}
			switch ch.pick(8) {
			case 0, 1, 2:
				in.Queue = driveQueues[ch.pick(len(driveQueues))]
			case 7:
				in.Queue = driveQueues[ch.pick(len(driveQueues))]
				fallthrough
			default:
				in.Agent = someAgent()
			}
		case 14, 15:
			// A consultation: asked for (any agent, often a ready one),
			// answered or declined by its target (now and then by someone
			// else), completed or cancelled.
			in = Input{Kind: ConsultRequested, Call: talking(), Agent: someAgent()}
			var under []*call
			for _, id := range callIDs {
				if c := s.m.calls[id]; c != nil && c.consult != nil {
					under = append(under, c)
				}
			}
			if len(under) > 0 && ch.pick(4) != 0 {
				c := under[ch.pick(len(under))]
				in = Input{Kind: []InputKind{ConsultAccepted, ConsultAccepted, ConsultRejected, ConsultCompleted, ConsultCompleted, ConsultCancelled}[ch.pick(6)],
					Call: c.id, Agent: c.consult.to.id}
				if ch.pick(8) == 0 {
					in.Agent = someAgent()
				}
			}
		default:
			s.wait(time.Duration(ch.pick(40)) * time.Second)
			continue
		}
		s.step(in)
	}
}
