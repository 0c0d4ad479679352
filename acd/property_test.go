package acd

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type randChooser struct{ r *rand.Rand }

func (c randChooser) pick(n int) int {
	if n <= 0 {
		return 0
	}
	return c.r.IntN(n)
}

func (randChooser) done() bool { return false }

// TestRandomInterleavings drives random sequences of caller hang-ups,
// accepts, rejects, ring timeouts, disconnects, sign-outs, ready/not ready,
// holds, transfers to queues and agents and consultations from many seeds, checking every
// invariant after each input. Then, with no more input, every transfer to
// an agent must be over within the longest transfer wait plus ring timeout;
// and once every call ends, nobody may be left stuck.
func TestRandomInterleavings(t *testing.T) {
	var toAgent, lapsed, answered, consulted, completed int
	for seed := range uint64(300) {
		s := newSim(t, driveConfig(), seed)
		drive(s, randChooser{rand.New(rand.NewPCG(seed, 7))}, 400)

		s.wait(20*time.Second + 10*time.Second) // support's transfer wait and ring timeout, the longest
		for id, c := range s.m.calls {
			require.Nil(t, c.target, "seed %d: call %s is still kept for an agent", seed, id)
		}
		target := map[string]string{} // call → the agent it is kept for
		for _, d := range s.all {
			switch {
			case d.Kind == Transferred && strings.HasPrefix(d.Target, "agent:"):
				toAgent++
				target[d.Call] = strings.TrimPrefix(d.Target, "agent:")
			case d.Kind == ConsultConnected:
				consulted++
			case d.Kind == ConsultEnded && d.Reason == "completed":
				completed++
			case d.Kind == TransferLapsed:
				lapsed++
				delete(target, d.Call)
			case d.Kind == Connected && target[d.Call] != "":
				require.Equal(t, target[d.Call], d.Agent, "seed %d: call %s was kept for another agent", seed, d.Call)
				answered++
				delete(target, d.Call)
			}
		}

		// Wind down: every call ends, time passes, no agent may stay offered or on a call.
		for _, id := range sortedCallIDs(s.m) {
			s.step(Input{Kind: CallEnded, Call: id})
		}
		s.wait(time.Hour)
		require.Empty(t, s.m.calls, "seed %d", seed)
		for id, a := range s.m.agents {
			require.NotContains(t, []State{StateOffered, StateOnCall, StateOnHold, StateWrapUp, StateConsult}, a.state, "seed %d agent %s", seed, id)
			require.Nil(t, a.consultOf, "seed %d agent %s", seed, id)
			require.Empty(t, a.reserved, "seed %d agent %s", seed, id)
		}
	}
	t.Logf("transfers to agents: %d accepted, %d lapsed, %d answered by the target", toAgent, lapsed, answered)
	require.Positive(t, toAgent, "the driver transfers to agents")
	require.Positive(t, lapsed, "the driver lets transfers lapse")
	require.Positive(t, answered, "the driver has targets answer")
	t.Logf("consultations: %d answered, %d completed", consulted, completed)
	require.Positive(t, consulted, "the driver has consultations answered")
	require.Positive(t, completed, "the driver completes consultations")
}

// TestDeterministic runs the same inputs twice and expects identical decisions.
func TestDeterministic(t *testing.T) {
	run := func() []Decision {
		s := newSim(t, driveConfig(), 42)
		drive(s, randChooser{rand.New(rand.NewPCG(42, 7))}, 1000)
		return s.all
	}
	first := run()
	require.NotEmpty(t, first)
	require.Equal(t, first, run())
}

func sortedCallIDs(m *machine) []string {
	ids := make([]string, 0, len(m.calls))
	for id := range m.calls {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
