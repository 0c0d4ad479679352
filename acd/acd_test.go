package acd

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// harness runs a real ACD actor inside a synctest bubble and collects its
// decisions.
type harness struct {
	t      *testing.T
	a      *ACD
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	got    []Decision
	wg     sync.WaitGroup
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	a, err := New(cfg, Options{Seed: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	h := &harness{t: t, a: a, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- a.Run(ctx) }()
	h.wg.Go(func() {
		for d := range a.Decisions() {
			h.mu.Lock()
			h.got = append(h.got, d)
			h.mu.Unlock()
		}
	})
	return h
}

// stop ends Run and waits for it and the reader.
func (h *harness) stop() {
	h.cancel()
	require.NoError(h.t, <-h.done)
	h.wg.Wait()
}

// in submits inputs and waits until the actor has handled them.
func (h *harness) in(ins ...Input) []Decision {
	h.t.Helper()
	for _, in := range ins {
		require.NoError(h.t, h.a.Submit(in))
	}
	synctest.Wait()
	return h.take()
}

// sleep lets fake time pass and returns what the ACD decided meanwhile.
func (h *harness) sleep(d time.Duration) []Decision {
	time.Sleep(d)
	synctest.Wait()
	return h.take()
}

func (h *harness) take() []Decision {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}

// signIn signs agents in and makes them ready, one fake second apart so
// longest-idle order is the order given.
func (h *harness) signIn(agents ...string) {
	for _, a := range agents {
		h.in(Input{Kind: AgentSignedIn, Agent: a}, Input{Kind: AgentReady, Agent: a})
		h.sleep(time.Second)
	}
}

func (h *harness) snapshot() Snapshot {
	s, err := h.a.Snapshot(h.t.Context())
	require.NoError(h.t, err)
	return s
}

func (h *harness) agentState(id string) (State, string) {
	for _, a := range h.snapshot().Agents {
		if a.Agent == id {
			return a.State, a.Reason
		}
	}
	return "", ""
}

// pick returns the decisions of one kind, for short assertions.
func pick(ds []Decision, k DecisionKind) []Decision {
	var out []Decision
	for _, d := range ds {
		if d.Kind == k {
			out = append(out, d)
		}
	}
	return out
}

// brief is a decision without Seq and At, for readable comparisons.
type brief struct {
	Kind          DecisionKind
	Call, Agent   string
	State         State
	Reason        string
	Target        string
	Position      int
	EWTMinutes    int
	DeadlineAfter time.Duration
}

func briefs(ds []Decision) []brief {
	var out []brief
	for _, d := range ds {
		b := brief{Kind: d.Kind, Call: d.Call, Agent: d.Agent, State: d.State, Reason: d.Reason, Target: d.Target,
			Position: d.Position, EWTMinutes: int(d.EWT / time.Minute)}
		if !d.Deadline.IsZero() {
			b.DeadlineAfter = d.Deadline.Sub(d.At)
		}
		out = append(out, b)
	}
	return out
}

func queued(call, queue string, prio int, skills ...string) Input {
	return Input{Kind: CallQueued, Call: call, Queue: queue, Priority: prio, Skills: skills, Language: "en"}
}

func oneQueue(q QueueConfig) Config {
	return Config{Queues: []QueueConfig{q}, NotReadyReasons: []string{"break"}}
}

func TestCallLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{
			Name: "support", RingTimeout: 20 * time.Second, WrapUp: 30 * time.Second, JoinWhenEmpty: true,
			Members: []Member{{Agent: "alice"}},
		}))
		defer h.stop()
		t0 := time.Now()

		got := h.in(Input{Kind: AgentSignedIn, Agent: "alice"})
		require.Equal(t, []brief{{Kind: AgentStateChanged, Agent: "alice", State: StateNotReady}}, briefs(got))
		require.Equal(t, t0, got[0].At)
		h.in(Input{Kind: AgentReady, Agent: "alice"})

		time.Sleep(5 * time.Second)
		got = h.in(queued("c1", "support", 0))
		require.Equal(t, []brief{
			{Kind: Offer, Call: "c1", Agent: "alice", DeadlineAfter: 20 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "alice", State: StateOffered},
		}, briefs(got))
		require.Equal(t, "support", got[0].Queue)
		require.Equal(t, "en", got[0].Language)

		time.Sleep(3 * time.Second)
		got = h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "alice"})
		require.Equal(t, []brief{
			{Kind: Connected, Call: "c1", Agent: "alice"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "alice", State: StateOnCall},
		}, briefs(got))

		got = h.in(Input{Kind: CallHeld, Call: "c1"}, Input{Kind: CallResumed, Call: "c1"})
		require.Equal(t, []State{StateOnHold, StateOnCall}, []State{got[0].State, got[1].State})

		time.Sleep(60 * time.Second)
		got = h.in(Input{Kind: CallEnded, Call: "c1"})
		require.Equal(t, []brief{{Kind: AgentStateChanged, Call: "c1", Agent: "alice", State: StateWrapUp}}, briefs(got))
		wrapStart := got[0].At

		got = h.sleep(time.Minute)
		require.Equal(t, []brief{{Kind: AgentStateChanged, Agent: "alice", State: StateReady}}, briefs(got))
		require.Equal(t, wrapStart.Add(30*time.Second), got[0].At, "wrap-up lasts exactly the queue's WrapUp")

		s := h.snapshot()
		require.Equal(t, 0, s.Queues[0].Waiting+s.Queues[0].Ringing+s.Queues[0].Talking)
		// AHT moved from the 3 min default towards this call's 90 s (60 s talk + 30 s wrap-up).
		require.Equal(t, (3*DefaultHandleTime+90*time.Second)/4, s.Queues[0].AHT)
	})
}

func TestWrapUpEndedEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", WrapUp: time.Minute, Members: []Member{{Agent: "a"}}}))
		defer h.stop()
		h.signIn("a")
		h.in(queued("c1", "q", 0), Input{Kind: OfferAccepted, Call: "c1", Agent: "a"}, Input{Kind: CallEnded, Call: "c1"},
			queued("c2", "q", 0))
		time.Sleep(10 * time.Second)
		got := h.in(Input{Kind: WrapUpDone, Agent: "a"})
		require.Equal(t, []brief{
			{Kind: AgentStateChanged, Agent: "a", State: StateReady},
			{Kind: Offer, Call: "c2", Agent: "a", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c2", Agent: "a", State: StateOffered},
		}, briefs(got), "ending wrap-up early makes the agent ready and routes the waiting call")
		h.in(Input{Kind: OfferAccepted, Call: "c2", Agent: "a"})
		require.Empty(t, h.sleep(time.Second*55), "the old wrap-up timer must not fire")
	})
}

// TestRoutingAcrossQueues checks the documented rule: an agent in several
// queues gets the highest-priority call, then the one that joined earliest,
// then the queue listed first, then the call that joined first.
func TestRoutingAcrossQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Queues: []QueueConfig{
			{Name: "first", JoinWhenEmpty: true, Members: []Member{{Agent: "a"}}},
			{Name: "second", JoinWhenEmpty: true, Members: []Member{{Agent: "a"}}},
		}}
		h := start(t, cfg)
		defer h.stop()
		h.in(queued("old-low", "first", 0))
		time.Sleep(time.Second)
		h.in(queued("tie-second", "second", 1), queued("tie-first", "first", 1))
		time.Sleep(time.Second)
		h.in(queued("new-high", "second", 2))
		time.Sleep(time.Second)
		h.in(queued("later-high", "first", 2))

		h.in(Input{Kind: AgentSignedIn, Agent: "a"})
		order := serve(h, "a", 5)
		require.Equal(t, []string{"new-high", "later-high", "tie-first", "tie-second", "old-low"}, order)
	})
}

// serve makes agent ready and has it answer and end n calls in a row (no
// wrap-up), returning the calls in the order they were offered.
func serve(h *harness, agent string, n int) []string {
	h.t.Helper()
	var order []string
	offers := pick(h.in(Input{Kind: AgentReady, Agent: agent}), Offer)
	for range n {
		require.Len(h.t, offers, 1)
		id := offers[0].Call
		order = append(order, id)
		offers = pick(h.in(Input{Kind: OfferAccepted, Call: id, Agent: agent}, Input{Kind: CallEnded, Call: id}), Offer)
	}
	return order
}

func TestPriorityThenFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", JoinWhenEmpty: true, Members: []Member{{Agent: "a"}}}))
		defer h.stop()
		for _, c := range []Input{queued("p0-1", "q", 0), queued("p5-1", "q", 5), queued("p0-2", "q", 0), queued("p5-2", "q", 5)} {
			h.in(c)
			time.Sleep(time.Second)
		}
		s := h.snapshot()
		var ids []string
		for _, c := range s.Queues[0].Calls {
			ids = append(ids, c.Call)
		}
		require.Equal(t, []string{"p5-1", "p5-2", "p0-1", "p0-2"}, ids, "snapshot lists calls by position")
		require.Equal(t, 4*time.Second, s.Queues[0].LongestWait)

		h.in(Input{Kind: AgentSignedIn, Agent: "a"})
		order := serve(h, "a", 4)
		require.Equal(t, []string{"p5-1", "p5-2", "p0-1", "p0-2"}, order)
	})
}

func TestRingNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", RingTimeout: 15 * time.Second,
			Members: []Member{{Agent: "a"}, {Agent: "b"}}}))
		defer h.stop()
		h.signIn("a", "b")
		h.in(queued("c1", "q", 0))
		got := h.sleep(14 * time.Second)
		require.Empty(t, got, "still ringing before the timeout")
		h.in(queued("c2", "q", 0)) // goes to b at once
		got = h.sleep(time.Second)
		require.Equal(t, []brief{
			{Kind: OfferWithdrawn, Call: "c1", Agent: "a", Reason: "ring timeout"},
			{Kind: AgentStateChanged, Agent: "a", State: StateNotReady, Reason: ReasonMissedCall},
		}, briefs(got), "no other agent is free, so c1 waits")
		st := h.snapshot().Queues[0]
		require.Equal(t, "c1", st.Calls[0].Call)
		require.Equal(t, 1, st.Calls[0].Position)

		// b finishes; c1 kept its place, so b gets it before any later call.
		h.in(queued("c3", "q", 0))
		got = h.in(Input{Kind: OfferAccepted, Call: "c2", Agent: "b"}, Input{Kind: CallEnded, Call: "c2"})
		require.Equal(t, "c1", pick(got, Offer)[0].Call)
		// A late accept from a loses: it is refused, nothing is bridged.
		got = h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "a"})
		require.Equal(t, []brief{{Kind: Rejected, Call: "c1", Agent: "a", Reason: `no live offer of call "c1" to agent "a"`}}, briefs(got))
	})
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", Members: []Member{{Agent: "a"}}}))
		defer h.stop()
		h.signIn("a")
		h.in(queued("c1", "q", 0), queued("c2", "q", 0))
		got := h.in(Input{Kind: CallerHungUp, Call: "c1"})
		require.Equal(t, []brief{
			{Kind: OfferWithdrawn, Call: "c1", Agent: "a", Reason: "caller hung up"},
			{Kind: AgentStateChanged, Agent: "a", State: StateReady},
			{Kind: Offer, Call: "c2", Agent: "a", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c2", Agent: "a", State: StateOffered},
		}, briefs(got))
	})
}

func TestRejectGoesToNextAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", Strategy: Linear, Members: []Member{{Agent: "a"}, {Agent: "b"}}}))
		defer h.stop()
		h.signIn("b", "a")
		require.Equal(t, "a", pick(h.in(queued("c1", "q", 0)), Offer)[0].Agent, "linear follows member order")
		got := h.in(Input{Kind: OfferRejected, Call: "c1", Agent: "a"})
		require.Equal(t, []brief{
			{Kind: OfferWithdrawn, Call: "c1", Agent: "a", Reason: "rejected"},
			{Kind: AgentStateChanged, Agent: "a", State: StateNotReady, Reason: ReasonRejected},
			{Kind: Offer, Call: "c1", Agent: "b", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOffered},
		}, briefs(got))
	})
}

func TestRingAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", Strategy: RingAll,
			Members: []Member{{Agent: "a"}, {Agent: "b"}, {Agent: "c"}}}))
		defer h.stop()
		h.signIn("a", "b", "c")
		h.in(queued("c1", "q", 0), queued("c2", "q", 0))
		require.Len(t, h.snapshot().Queues[0].Calls[1].Agents, 3, "c1 rings everyone")
		got := h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "b"})
		require.Equal(t, []brief{
			{Kind: Connected, Call: "c1", Agent: "b"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOnCall},
			{Kind: OfferWithdrawn, Call: "c1", Agent: "a", Reason: "answered elsewhere"},
			{Kind: AgentStateChanged, Agent: "a", State: StateReady},
			{Kind: OfferWithdrawn, Call: "c1", Agent: "c", Reason: "answered elsewhere"},
			{Kind: AgentStateChanged, Agent: "c", State: StateReady},
			{Kind: Offer, Call: "c2", Agent: "a", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c2", Agent: "a", State: StateOffered},
			{Kind: Offer, Call: "c2", Agent: "c", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c2", Agent: "c", State: StateOffered},
		}, briefs(got), "c2 was waiting; the freed agents ring for it")
		st, reason := h.agentState("a")
		require.Equal(t, StateOffered, st)
		require.Empty(t, reason)
	})
}

func TestStrategies(t *testing.T) {
	members := []Member{{Agent: "m1"}, {Agent: "m2"}, {Agent: "m3"}}
	// Agents become ready in the order m3, m1, m2; each call is answered and
	// ended at once (no wrap-up), so the agent is ready again right away.
	run := func(t *testing.T, strategy string) []string {
		var who []string
		synctest.Test(t, func(t *testing.T) {
			h := start(t, oneQueue(QueueConfig{Name: "q", Strategy: strategy, Members: members}))
			defer h.stop()
			h.signIn("m3", "m1", "m2")
			for i := range 4 {
				call := "c" + string(rune('1'+i))
				got := pick(h.in(queued(call, "q", 0)), Offer)
				require.Len(t, got, 1)
				who = append(who, got[0].Agent)
				h.in(Input{Kind: OfferAccepted, Call: call, Agent: got[0].Agent})
				time.Sleep(time.Second)
				h.in(Input{Kind: CallEnded, Call: call})
				time.Sleep(time.Second)
			}
		})
		return who
	}
	t.Run("longest-idle", func(t *testing.T) { require.Equal(t, []string{"m3", "m1", "m2", "m3"}, run(t, LongestIdle)) })
	t.Run("default is longest-idle", func(t *testing.T) { require.Equal(t, []string{"m3", "m1", "m2", "m3"}, run(t, "")) })
	t.Run("linear", func(t *testing.T) { require.Equal(t, []string{"m1", "m1", "m1", "m1"}, run(t, Linear)) })
	t.Run("round-robin", func(t *testing.T) { require.Equal(t, []string{"m1", "m2", "m3", "m1"}, run(t, RoundRobin)) })
	t.Run("fewest-calls", func(t *testing.T) { require.Equal(t, []string{"m3", "m1", "m2", "m3"}, run(t, FewestCalls)) })
	t.Run("random is repeatable", func(t *testing.T) {
		first := run(t, Random)
		require.Equal(t, first, run(t, Random))
	})
}

func TestSkillsWidening(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{
			Name: "tech", RequiredSkills: map[string]int{"tech": 3}, JoinWhenEmpty: true,
			Widen: []Widening{{After: 60 * time.Second, Skills: map[string]int{"tech": 1}}},
			Members: []Member{
				{Agent: "junior", Skills: map[string]int{"tech": 1, "ru": 1}},
				{Agent: "none", Skills: map[string]int{"ru": 2}},
			},
		}))
		defer h.stop()
		h.signIn("junior", "none")
		joined := time.Now()
		require.Empty(t, pick(h.in(queued("c1", "tech", 0, "ru")), Offer), "nobody has tech 3")
		require.Empty(t, pick(h.sleep(59*time.Second), Offer))
		got := pick(h.sleep(time.Second), Offer)
		require.Len(t, got, 1)
		require.Equal(t, "junior", got[0].Agent, "after 60 s tech ≥ 1 will do")
		require.Equal(t, 60*time.Second, got[0].At.Sub(joined))
	})
}

func TestMaxWaitOverflowsToAnotherQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, Config{Queues: []QueueConfig{
			{Name: "first", MaxWait: 2 * time.Minute, Overflow: "queue:backup", JoinWhenEmpty: true, Members: []Member{{Agent: "x"}}},
			{Name: "backup", Overflow: "node:main:voicemail", JoinWhenEmpty: true, Members: []Member{{Agent: "b"}}},
		}})
		defer h.stop()
		h.in(queued("c1", "first", 0))
		got := h.sleep(2 * time.Minute)
		require.Equal(t, []brief{{Kind: Overflow, Call: "c1", Target: "queue:backup", Reason: "max wait"}}, briefs(got))
		s := h.snapshot()
		require.Equal(t, 0, s.Queues[0].Waiting)
		require.Equal(t, 1, s.Queues[1].Waiting)
		got = pick(h.in(Input{Kind: AgentSignedIn, Agent: "b"}, Input{Kind: AgentReady, Agent: "b"}), Offer)
		require.Equal(t, "c1", got[0].Call)
	})
}

func TestMaxLenAndEmptyQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, Config{Queues: []QueueConfig{
			{Name: "small", MaxLen: 1, JoinWhenEmpty: true, Members: []Member{{Agent: "a"}}},
			{Name: "strict", Members: []Member{{Agent: "a"}}, LeaveWhenEmpty: true, JoinWhenEmpty: false, Overflow: "node:main:closed"},
		}})
		defer h.stop()
		h.in(queued("c1", "small", 0))
		got := h.in(queued("c2", "small", 0))
		require.Equal(t, []brief{{Kind: Overflow, Call: "c2", Target: "hangup", Reason: "queue full"}}, briefs(got))

		got = h.in(queued("c3", "strict", 0))
		require.Equal(t, []brief{{Kind: Overflow, Call: "c3", Target: "node:main:closed", Reason: "queue empty"}}, briefs(got),
			"nobody signed in and join_when_empty is off")

		h.in(Input{Kind: AgentSignedIn, Agent: "a"}) // signed in, not ready: the queue is staffed
		require.Empty(t, pick(h.in(queued("c4", "strict", 0)), Overflow))
		got = h.in(Input{Kind: AgentSignedOut, Agent: "a"})
		require.Equal(t, []brief{
			{Kind: AgentStateChanged, Agent: "a", State: StateSignedOut},
			{Kind: Overflow, Call: "c4", Target: "node:main:closed", Reason: "queue empty"},
		}, briefs(got), "leave_when_empty: the last member left")
		require.Equal(t, 1, h.snapshot().Queues[0].Waiting, "small has no leave_when_empty")

		// The last member signs out while the call rings for them: it does
		// not go back to wait in the empty queue.
		h.in(Input{Kind: CallerHungUp, Call: "c1"})
		h.signIn("a")
		h.in(queued("c5", "strict", 0))
		require.Equal(t, StateOffered, h.snapshot().Agents[0].State, "c5 rings for a")
		got = h.in(Input{Kind: AgentSignedOut, Agent: "a"})
		require.Contains(t, briefs(got), brief{Kind: Overflow, Call: "c5", Target: "node:main:closed", Reason: "queue empty"},
			"leave_when_empty: the last member left while the call rang for them")
		require.Zero(t, h.snapshot().Queues[1].Waiting)
	})
}

func TestAnnouncements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", AnnounceEvery: 30 * time.Second,
			Members: []Member{{Agent: "a"}, {Agent: "b"}}}))
		defer h.stop()
		h.signIn("a", "b")
		h.in(queued("busy1", "q", 0), queued("busy2", "q", 0))
		h.in(Input{Kind: OfferAccepted, Call: "busy1", Agent: "a"}, Input{Kind: OfferAccepted, Call: "busy2", Agent: "b"})

		got := h.in(queued("c1", "q", 0), queued("c2", "q", 0))
		// 2 agents staffed, AHT 3 min: position 1 → 1.5 min → "2 minutes"; position 2 → 3 min.
		require.Equal(t, []brief{
			{Kind: Announce, Call: "c1", Position: 1, EWTMinutes: 2},
			{Kind: Announce, Call: "c2", Position: 2, EWTMinutes: 3},
		}, briefs(got))
		require.Empty(t, h.sleep(30*time.Second), "nothing changed, nothing said")

		h.in(Input{Kind: CallerHungUp, Call: "c1"})
		got = h.sleep(30 * time.Second)
		require.Equal(t, []brief{{Kind: Announce, Call: "c2", Position: 1, EWTMinutes: 2}}, briefs(got))
		require.Equal(t, "en", got[0].Language)
	})
}

func TestEWTBounds(t *testing.T) {
	m := newMachine(oneQueue(QueueConfig{Name: "q"}), 0)
	q := m.queues[0]
	require.Equal(t, 3*time.Minute, m.ewt(q, 1), "no agents staffed counts as one")
	require.Equal(t, MaxEWT, m.ewt(q, 1_000_000), "capped")
	require.Equal(t, MaxEWT, m.ewt(q, int(^uint(0)>>1)), "no overflow")
	require.Equal(t, time.Duration(0), m.ewt(q, -5), "never negative")
	q.aht = -time.Hour
	require.Equal(t, time.Duration(0), m.ewt(q, 3))
}

func TestDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", WrapUp: 10 * time.Second, Members: []Member{{Agent: "a"}, {Agent: "b"}}}))
		defer h.stop()
		h.signIn("a", "b")
		h.in(queued("c1", "q", 0))
		got := h.in(Input{Kind: AgentDisconnected, Agent: "a"})
		require.Equal(t, []brief{
			{Kind: OfferWithdrawn, Call: "c1", Agent: "a", Reason: "agent disconnected"},
			{Kind: AgentStateChanged, Agent: "a", State: StateNotReady, Reason: ReasonDisconnected},
			{Kind: Offer, Call: "c1", Agent: "b", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOffered},
		}, briefs(got), "an offer to a dead browser is re-routed at once")

		h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "b"})
		require.Empty(t, h.in(Input{Kind: AgentDisconnected, Agent: "b"}), "a reload during a call keeps the call")
		require.Empty(t, h.in(Input{Kind: AgentSignedIn, Agent: "b"}), "re-attached to the same call")
		st, _ := h.agentState("b")
		require.Equal(t, StateOnCall, st)

		h.in(Input{Kind: AgentDisconnected, Agent: "b"})
		got = h.in(Input{Kind: CallEnded, Call: "c1"})
		require.Equal(t, []brief{{Kind: AgentStateChanged, Agent: "b", State: StateNotReady, Reason: ReasonDisconnected}}, briefs(got),
			"gone for good: no wrap-up, not ready")
	})
}

func TestNotReadyAndSignOutDuringCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", WrapUp: 10 * time.Second, Members: []Member{{Agent: "a"}}}))
		defer h.stop()
		h.signIn("a")
		h.in(queued("c1", "q", 0), Input{Kind: OfferAccepted, Call: "c1", Agent: "a"})
		got := h.in(Input{Kind: AgentNotReady, Agent: "a", Reason: "coffee"})
		require.Equal(t, []brief{{Kind: Rejected, Agent: "a", Reason: `"coffee" is not a configured not-ready reason`}}, briefs(got))
		require.Empty(t, h.in(Input{Kind: AgentNotReady, Agent: "a", Reason: "break"}), "takes effect after the call")
		h.in(Input{Kind: CallEnded, Call: "c1"})
		got = h.sleep(10 * time.Second)
		require.Equal(t, []brief{{Kind: AgentStateChanged, Agent: "a", State: StateNotReady, Reason: "break"}}, briefs(got))

		h.in(Input{Kind: AgentReady, Agent: "a"}, queued("c2", "q", 0), Input{Kind: OfferAccepted, Call: "c2", Agent: "a"})
		require.Empty(t, h.in(Input{Kind: AgentSignedOut, Agent: "a"}))
		got = h.in(Input{Kind: CallEnded, Call: "c2"})
		require.Equal(t, []brief{{Kind: AgentStateChanged, Agent: "a", State: StateSignedOut}}, briefs(got))
	})
}

func TestTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, Config{Queues: []QueueConfig{
			{Name: "front", Members: []Member{{Agent: "a"}}},
			{Name: "tech", Members: []Member{{Agent: "b"}}},
		}})
		defer h.stop()
		h.signIn("a", "b")
		h.in(queued("c1", "front", 3), Input{Kind: OfferAccepted, Call: "c1", Agent: "a"})
		got := h.in(Input{Kind: CallTransferred, Call: "c1", Queue: "tech"})
		require.Equal(t, []brief{
			{Kind: Transferred, Call: "c1", Agent: "a", Target: "queue:tech"},
			{Kind: AgentStateChanged, Agent: "a", State: StateReady},
			{Kind: Offer, Call: "c1", Agent: "b", DeadlineAfter: DefaultRingTimeout},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOffered},
		}, briefs(got))
	})
}

func TestRejectedInputs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q", JoinWhenEmpty: true}))
		defer h.stop()
		got := h.in(
			queued("c1", "nope", 0),
			queued("", "q", 0),
			queued("c2", "q", 0), queued("c2", "q", 0),
			Input{Kind: AgentReady, Agent: "zed"},
			Input{Kind: "dance"},
			Input{Kind: CallEnded, Call: "ghost"},
		)
		var reasons []string
		for _, d := range got {
			if d.Kind == Rejected {
				reasons = append(reasons, d.Reason)
			}
		}
		require.Equal(t, []string{
			`no queue "nope"`, "no call id given", `call "c2" is already in the ACD`,
			`agent "zed" is not signed in`, `unknown input kind "dance"`, `no call "ghost" in the ACD`,
		}, reasons)
	})
}

func TestRunLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, oneQueue(QueueConfig{Name: "q"}))
		synctest.Wait()
		require.Error(t, h.a.Run(t.Context()), "Run twice")
		h.stop()
		require.ErrorIs(t, h.a.Submit(Input{Kind: Tick}), ErrStopped)
		_, err := h.a.Snapshot(t.Context())
		require.ErrorIs(t, err, ErrStopped)
		_, ok := <-h.a.Decisions()
		require.False(t, ok, "Decisions is closed")
	})
}

func TestValuesAreJSON(t *testing.T) {
	in := queued("c1", "q", 2, "ru")
	in.At = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"call_queued","call":"c1","queue":"q","priority":2,"skills":["ru"],"language":"en","at":"2026-01-02T03:04:05Z"}`, string(b))
	var back Input
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, in, back)

	d := Decision{Seq: 1, Kind: Offer, At: in.At, Call: "c1", Agent: "a", Queue: "q", Deadline: in.At.Add(time.Second)}
	b, err = json.Marshal(d)
	require.NoError(t, err)
	var dBack Decision
	require.NoError(t, json.Unmarshal(b, &dBack))
	require.Equal(t, d, dBack)
}
