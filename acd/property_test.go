package acd

import (
	"math/rand/v2"
	"slices"
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
// holds and transfers from many seeds, checking every invariant after each
// input; then it ends every call and checks that nobody is left stuck.
func TestRandomInterleavings(t *testing.T) {
	for seed := range uint64(300) {
		s := newSim(t, driveConfig(), seed)
		drive(s, randChooser{rand.New(rand.NewPCG(seed, 7))}, 400)

		// Wind down: every call ends, time passes, no agent may stay offered or on a call.
		for _, id := range sortedCallIDs(s.m) {
			s.step(Input{Kind: CallEnded, Call: id})
		}
		s.wait(time.Hour)
		require.Empty(t, s.m.calls, "seed %d", seed)
		for id, a := range s.m.agents {
			require.NotContains(t, []State{StateOffered, StateOnCall, StateOnHold, StateWrapUp}, a.state, "seed %d agent %s", seed, id)
		}
	}
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
