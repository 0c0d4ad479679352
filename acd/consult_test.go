package acd

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func consult(call, agent string) Input {
	return Input{Kind: ConsultRequested, Call: call, Agent: agent}
}

// a consults b about c1 while the caller waits; b answers, a completes:
// the caller is b's, a wraps up, and b's handle time starts at the
// completion.
func TestConsultComplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "b")
		h.talk("c1", "a")

		got := h.in(consult("c1", "b"))
		require.Equal(t, []brief{
			{Kind: ConsultOffer, Call: "c1", Agent: "a", Target: "agent:b", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateConsult},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateConsult},
		}, briefs(got))
		require.Equal(t, "b", h.callState("c1").Consult)
		require.Empty(t, pick(h.in(queued("c2", "q", 0)), Offer), "b, consulted, is not offered queue calls")

		got = h.in(Input{Kind: ConsultAccepted, Call: "c1", Agent: "b"})
		require.Equal(t, []brief{{Kind: ConsultConnected, Call: "c1", Agent: "a", Target: "agent:b"}}, briefs(got))
		require.Empty(t, h.sleep(time.Minute), "an answered consultation does not ring out")

		got = h.in(Input{Kind: ConsultCompleted, Call: "c1"})
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "completed"},
			{Kind: Connected, Call: "c1", Agent: "b"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateWrapUp},
			{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateOnCall},
		}, briefs(got))
		c1 := h.callState("c1")
		require.Equal(t, "connected", c1.State)
		require.Equal(t, []string{"b"}, c1.Agents)
		require.Empty(t, c1.Consult)

		// a's wrap-up ends and a takes c2; b's call ends and b wraps up.
		got = h.sleep(10 * time.Second)
		require.Equal(t, brief{Kind: Offer, Call: "c2", Agent: "a", DeadlineAfter: 15 * time.Second}, briefs(pick(got, Offer))[0])
		got = h.in(Input{Kind: CallEnded, Call: "c1"})
		require.Equal(t, []brief{{Kind: AgentStateChanged, Call: "c1", Agent: "b", State: StateWrapUp}}, briefs(got))
		// Handle times: a's runs from the answer to the end of the wrap-up,
		// the minute of consultation included (70 s); b's from the
		// completion (10 s on the call, 10 s wrap-up).
		h.sleep(10 * time.Second)
		aAHT := (3*DefaultHandleTime + 70*time.Second) / 4
		require.Equal(t, (3*aAHT+20*time.Second)/4, h.snapshot().Queues[0].AHT)
	})
}

// Cancelled, ringing or answered, the consultation leaves the call with a
// and b ready.
func TestConsultCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "b")
		h.talk("c1", "a")

		h.in(consult("c1", "b"), Input{Kind: ConsultAccepted, Call: "c1", Agent: "b"})
		got := h.in(Input{Kind: ConsultCancelled, Call: "c1"})
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "cancelled"},
			{Kind: AgentStateChanged, Agent: "b", State: StateReady},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateOnCall},
		}, briefs(got))
		require.Equal(t, []string{"a"}, h.callState("c1").Agents)

		// Cancelled while it rings: the same; b, ready, takes the next call.
		h.in(consult("c1", "b"))
		got = h.in(Input{Kind: ConsultCancelled, Call: "c1"}, queued("c2", "q", 0))
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "cancelled"},
			{Kind: AgentStateChanged, Agent: "b", State: StateReady},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateOnCall},
			{Kind: Offer, Call: "c2", Agent: "b", DeadlineAfter: 15 * time.Second},
			{Kind: AgentStateChanged, Call: "c2", Agent: "b", State: StateOffered},
		}, briefs(got))

		// The call goes on with a: hold and a blind transfer work again.
		got = h.in(Input{Kind: CallHeld, Call: "c1"})
		require.Equal(t, StateOnHold, got[0].State)
	})
}

// Requests the ACD refuses change nothing; a target who rejects, lets it
// ring out, leaves, or a caller who hangs up ends the consultation cleanly.
func TestConsultRefusedOrFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, transferConfig())
		defer h.stop()
		h.signIn("a", "b", "x")
		h.in(Input{Kind: AgentNotReady, Agent: "x", Reason: "break"})
		h.talk("c1", "a")
		got := h.in(
			consult("c1", "zed"),
			consult("c1", "a"),
			consult("c1", "x"),
			consult("ghost", "b"),
			Input{Kind: ConsultCompleted, Call: "c1"},
			Input{Kind: ConsultAccepted, Call: "c1", Agent: "b"},
		)
		var reasons []string
		for _, d := range got {
			require.Equal(t, Rejected, d.Kind)
			reasons = append(reasons, d.Reason)
		}
		require.Equal(t, []string{
			`no agent "zed"`,
			`agent "a" is already on the call`,
			`agent "x" is not ready (not_ready)`,
			`no call "ghost" in the ACD`,
			`no consultation on call "c1"`,
			`no consultation on call "c1"`,
		}, reasons)
		st, _ := h.agentState("a")
		require.Equal(t, StateOnCall, st)

		// Under way: a second one, a transfer and completing before the answer are refused.
		h.in(consult("c1", "b"))
		got = h.in(consult("c1", "x"), toAgent("c1", "x"), Input{Kind: ConsultCompleted, Call: "c1"},
			Input{Kind: ConsultAccepted, Call: "c1", Agent: "x"})
		reasons = nil
		for _, d := range got {
			require.Equal(t, Rejected, d.Kind)
			reasons = append(reasons, d.Reason)
		}
		require.Equal(t, []string{
			`a consultation on call "c1" is already under way`,
			`a consultation on call "c1" is under way; complete or cancel it`,
			`agent "b" has not answered the consultation yet`,
			`agent "x" is not consulted on call "c1"`,
		}, reasons)

		// b rejects: b stays ready (a colleague's question, not a missed call).
		got = h.in(Input{Kind: ConsultRejected, Call: "c1", Agent: "b"})
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "rejected"},
			{Kind: AgentStateChanged, Agent: "b", State: StateReady},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateOnCall},
		}, briefs(got))

		// b lets it ring out: not ready "missed call", as for any offer.
		h.in(consult("c1", "b"))
		require.Empty(t, h.sleep(14*time.Second))
		got = h.sleep(time.Second)
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "ring timeout"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateOnCall},
			{Kind: AgentStateChanged, Agent: "b", State: StateNotReady, Reason: ReasonMissedCall},
		}, briefs(got))

		// b's browser goes away during it: not ready "disconnected".
		h.in(Input{Kind: AgentReady, Agent: "b"}, consult("c1", "b"), Input{Kind: ConsultAccepted, Call: "c1", Agent: "b"})
		got = h.in(Input{Kind: AgentDisconnected, Agent: "b"})
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "agent disconnected"},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateOnCall},
			{Kind: AgentStateChanged, Agent: "b", State: StateNotReady, Reason: ReasonDisconnected},
		}, briefs(got))

		// The caller hangs up during it: a wraps up, b is ready.
		h.in(Input{Kind: AgentSignedIn, Agent: "b"}, Input{Kind: AgentReady, Agent: "b"})
		h.in(consult("c1", "b"), Input{Kind: ConsultAccepted, Call: "c1", Agent: "b"})
		got = h.in(Input{Kind: CallerHungUp, Call: "c1"})
		require.Equal(t, []brief{
			{Kind: ConsultEnded, Call: "c1", Agent: "a", Target: "agent:b", Reason: "caller hung up"},
			{Kind: AgentStateChanged, Agent: "b", State: StateReady},
			{Kind: AgentStateChanged, Call: "c1", Agent: "a", State: StateWrapUp},
		}, briefs(got))
		require.Empty(t, h.snapshot().Queues[0].Calls)
	})
}
