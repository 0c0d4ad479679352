package acd

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// transferConfig is one queue of four agents (longest idle), with the
// timers the transfer tests count on.
func transferConfig() Config {
	return Config{NotReadyReasons: []string{"break"}, Queues: []QueueConfig{{
		Name: "q", RingTimeout: 15 * time.Second, WrapUp: 10 * time.Second, TransferWait: 40 * time.Second,
		JoinWhenEmpty: true,
		Members:       []Member{{Agent: "a"}, {Agent: "b"}, {Agent: "x"}, {Agent: "y"}},
	}}}
}

// talk queues call and has agent answer it; agent must be the one it rings.
func (h *harness) talk(call, agent string) {
	h.t.Helper()
	offers := pick(h.in(queued(call, "q", 0)), Offer)
	require.Len(h.t, offers, 1)
	require.Equal(h.t, agent, offers[0].Agent, "who %s rings", call)
	h.in(Input{Kind: OfferAccepted, Call: call, Agent: agent})
}

func toAgent(call, agent string) Input {
	return Input{Kind: CallTransferred, Call: call, Agent: agent}
}

func (h *harness) callState(id string) CallSnapshot {
	for _, q := range h.snapshot().Queues {
		for _, c := range q.Calls {
			if c.Call == id {
				return c
			}
		}
	}
	return CallSnapshot{}
}

func TestTransferToReadyAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "x", "y", "b") // x and y have been idle longer than b
		h.talk("c1", "a")

		got := h.in(toAgent("c1", "b"))
		require.Equal(t, []brief{
			{Kind: Transferred, Call: "c1", Agent: "a", Target: "agent:b"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateWrapUp},
			{Kind: Offer, Call: "c1", Agent: "b", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOffered},
		}, briefs(got), "only the target rings, though x and y are idle longer")
		require.Equal(t, "q", got[0].Queue, "the call stays in its queue")

		got = h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "b"})
		require.Equal(t, Connected, got[0].Kind)
		s := h.snapshot().Queues[0]
		require.Equal(t, 1, s.Talking)
		require.Zero(t, s.Waiting+s.Ringing+s.Reserved)
		require.Equal(t, []brief{{Kind: AgentStateChanged, Agent: "a", State: StateReady}}, briefs(h.sleep(time.Minute)),
			"a's wrap-up ends; the transfer wait left no timer behind")
	})
}

func TestTransferToBusyAgentWaitsForThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "b", "x")
		h.talk("c1", "a")
		h.talk("c2", "b")

		got := h.in(toAgent("c1", "b"))
		require.Equal(t, []brief{
			{Kind: Transferred, Call: "c1", Agent: "a", Target: "agent:b"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateWrapUp},
		}, briefs(got), "x is ready but is not offered a call reserved for b")
		c1 := h.callState("c1")
		require.Equal(t, "reserved", c1.State)
		require.Equal(t, []string{"b"}, c1.Agents)
		s := h.snapshot().Queues[0]
		require.Equal(t, 1, s.Waiting, "a reserved caller is waiting")
		require.Equal(t, 1, s.Reserved)

		// Queue calls go around it: c3 to x, c4 waits.
		h.talk("c3", "x")
		h.in(Input{Kind: AgentNotReady, Agent: "a", Reason: "break"})
		time.Sleep(time.Second)
		require.Empty(t, pick(h.in(queued("c4", "q", 5)), Offer))

		// b ends c2: after b's wrap-up, c1 rings for b, ahead of c4 and its higher priority.
		h.in(Input{Kind: CallEnded, Call: "c2"})
		require.Empty(t, h.sleep(9*time.Second))
		got = h.sleep(time.Second)
		require.Equal(t, []brief{
			{Kind: AgentStateChanged, Agent: "b", State: StateReady},
			{Kind: Offer, Call: "c1", Agent: "b", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOffered},
		}, briefs(got))
		h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "b"})
		require.Equal(t, "connected", h.callState("c1").State)
		require.Equal(t, "waiting", h.callState("c4").State)
	})
}

func TestTransferTargetDoesNotAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "b")
		h.talk("c1", "a")
		h.in(toAgent("c1", "b"))
		h.signIn("x") // ready while c1 rings for b: not offered it

		require.Empty(t, pick(h.sleep(13*time.Second), Offer), "a's wrap-up ends meanwhile; a gets nothing either")
		got := h.sleep(time.Second)
		require.Equal(t, []brief{
			{Kind: OfferWithdrawn, Call: "c1", Agent: "b", Reason: "ring timeout"},
			{Kind: AgentStateChanged, Agent: "b", State: StateNotReady, Reason: ReasonMissedCall},
			{Kind: TransferLapsed, Call: "c1", Agent: "b", Reason: "ring timeout"},
			{Kind: Offer, Call: "c1", Agent: "x", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "x", State: StateOffered},
		}, briefs(got), "the target is missed and the call goes to the queue's next agent")

		// Rejected by the target: the same, with the reject's not-ready reason.
		h.in(Input{Kind: OfferAccepted, Call: "c1", Agent: "x"}, Input{Kind: AgentReady, Agent: "b"})
		got = h.in(toAgent("c1", "b"), Input{Kind: OfferRejected, Call: "c1", Agent: "b"})
		require.Equal(t, []brief{
			{Kind: Transferred, Call: "c1", Agent: "x", Target: "agent:b"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "x", State: StateWrapUp},
			{Kind: Offer, Call: "c1", Agent: "b", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOffered},
			{Kind: OfferWithdrawn, Call: "c1", Agent: "b", Reason: "rejected"},
			{Kind: AgentStateChanged, Agent: "b", State: StateNotReady, Reason: ReasonRejected},
			{Kind: TransferLapsed, Call: "c1", Agent: "b", Reason: "rejected"},
			{Kind: Offer, Call: "c1", Agent: "a", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateOffered},
		}, briefs(got))
	})
}

func TestTransferTargetLeaves(t *testing.T) {
	for _, tc := range []struct {
		name   string
		leave  Input
		reason string
	}{
		{"signs out", Input{Kind: AgentSignedOut, Agent: "b"}, "agent signed out"},
		{"disconnects", Input{Kind: AgentDisconnected, Agent: "b"}, "agent disconnected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := start(t, transferConfig())
				defer h.stop()
				h.signIn("a", "b")
				h.talk("c1", "a")
				h.talk("c2", "b")
				h.in(toAgent("c1", "b"))
				h.signIn("x")

				got := h.in(tc.leave)
				require.Equal(t, []brief{
					{Kind: TransferLapsed, Call: "c1", Agent: "b", Reason: tc.reason},
					{Kind: Offer, Call: "c1", Agent: "x", DeadlineAfter: 15 * time.Second},
					{Kind: AgentStateChanged, Call: "c1", Agent: "x", State: StateOffered},
				}, briefs(got), "b is still on c2, but c1 does not wait for b any longer")
			})
		})
	}
}

func TestTransferWaitLapses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "b")
		h.in(Input{Kind: AgentNotReady, Agent: "b", Reason: "break"})
		h.talk("c1", "a")
		time.Sleep(time.Minute)
		h.in(queued("later", "q", 0), queued("high", "q", 1))
		h.in(toAgent("c1", "b"))
		offers := pick(h.sleep(10*time.Second), Offer)
		require.Len(t, offers, 1)
		require.Equal(t, brief{Kind: Offer, Call: "high", Agent: "a", DeadlineAfter: 15 * time.Second}, briefs(offers)[0],
			"a's wrap-up ends and a takes a queue call: c1 is kept for b")
		h.in(Input{Kind: OfferAccepted, Call: "high", Agent: "a"})

		got := h.sleep(30 * time.Second)
		require.Equal(t, []brief{
			{Kind: TransferLapsed, Call: "c1", Agent: "b", Reason: "transfer wait"},
		}, briefs(got), "b stayed on a break for the whole transfer wait")
		st, reason := h.agentState("b")
		require.Equal(t, StateNotReady, st)
		require.Equal(t, "break", reason, "a lapse does not change the target's state")

		// Back in routing, c1 is ahead of "later", which joined the queue after it.
		s := h.snapshot().Queues[0]
		require.Equal(t, 2, s.Waiting)
		require.Zero(t, s.Reserved)
		require.Equal(t, "c1", s.Calls[0].Call)
		require.Equal(t, 1, s.Calls[0].Position)
		h.in(Input{Kind: CallEnded, Call: "high"})
		got = h.sleep(10 * time.Second)
		require.Equal(t, "c1", pick(got, Offer)[0].Call)
	})
}

// A transfer the ACD refuses changes nothing: the call stays with its agent.
func TestTransferRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := transferConfig()
		cfg.Queues[0].Members = append(cfg.Queues[0].Members, Member{Agent: "gone"}, Member{Agent: "leaving"})
		h := start(t, cfg)
		defer h.stop()
		h.signIn("a", "b", "leaving", "x")
		h.in(Input{Kind: AgentDisconnected, Agent: "x"})
		h.talk("c1", "a")
		h.talk("c2", "b")
		h.talk("c3", "leaving")
		h.in(Input{Kind: AgentSignedOut, Agent: "leaving"}) // after c3
		h.in(queued("waiting", "q", 0))

		got := h.in(
			toAgent("c1", "zed"),
			toAgent("c1", "gone"),
			toAgent("c1", "a"),
			toAgent("c1", "x"),
			toAgent("c1", "leaving"),
			toAgent("waiting", "b"),
			Input{Kind: CallTransferred, Call: "c1", Agent: "b", Queue: "q"},
			Input{Kind: CallTransferred, Call: "c1", Queue: "nope"},
			toAgent("ghost", "b"),
		)
		var reasons []string
		for _, d := range got {
			require.Equal(t, Rejected, d.Kind)
			require.Equal(t, CallTransferred, d.Input)
			reasons = append(reasons, d.Reason)
		}
		require.Equal(t, []string{
			`no agent "zed"`,
			`agent "gone" is not signed in`,
			`agent "a" is already on the call`,
			`agent "x" is not connected`,
			`agent "leaving" is signing out`,
			`call "waiting" is not connected`,
			"transfer to a queue or to an agent, not both",
			`no queue "nope"`,
			`no call "ghost" in the ACD`,
		}, reasons)
		st, _ := h.agentState("a")
		require.Equal(t, StateOnCall, st)
		require.Equal(t, []string{"a"}, h.callState("c1").Agents)
	})
}
