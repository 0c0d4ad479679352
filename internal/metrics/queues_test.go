package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
)

var _ interface {
	Joined(queue string)
	Left(queue, outcome string, wait time.Duration)
} = (*Queues)(nil) // switchboard.QueueMetrics

// The agents gauges show every state the ACD has, so an alert on "no agent
// ready" has a series at 0 rather than none.
func TestAgentStatesAreTheACDs(t *testing.T) {
	require.Equal(t, []string{
		string(acd.StateSignedOut), string(acd.StateReady), string(acd.StateNotReady), string(acd.StateOffered),
		string(acd.StateOnCall), string(acd.StateOnHold), string(acd.StateWrapUp), string(acd.StateConsult),
	}, agentStates)
	m := New()
	require.Equal(t, len(agentStates), testutil.CollectAndCount(m.Queues.agents), "every state at zero from the start")
}

func TestQueueAgentsByState(t *testing.T) {
	m := New()
	m.Queues.SetQueueAgents("support", map[string]int{"ready": 2, "on_call": 1})
	m.Queues.SetQueueAgents("sales", map[string]int{"paused": 1})
	m.Queues.SetQueueAgents("support", map[string]int{"on_call": 3})
	require.Equal(t, 0.0, testutil.ToFloat64(m.Queues.queueAgents.WithLabelValues("support", "ready")), "a state left reads 0")
	require.Equal(t, 3.0, testutil.ToFloat64(m.Queues.queueAgents.WithLabelValues("support", "on_call")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.Queues.queueAgents.WithLabelValues("sales", "paused")), "a state the list does not know")
	require.Equal(t, 0.0, testutil.ToFloat64(m.Queues.queueAgents.WithLabelValues("sales", "ready")))
	require.Equal(t, 2*len(agentStates)+1, testutil.CollectAndCount(m.Queues.queueAgents))
}

// A queue the ACD reports has its outcome and handle-time series at zero
// before its first call, so increase() sees the first one.
func TestSetQueueCreatesSeries(t *testing.T) {
	m := New()
	m.Queues.SetQueue("support", 2, 1, 30*time.Second)
	m.Queues.SetQueue("support", 0, 1, 0)
	want := `
# HELP hotline_queue_calls_total Calls that left a queue, by queue and outcome.
# TYPE hotline_queue_calls_total counter
hotline_queue_calls_total{outcome="abandoned",queue="support"} 0
hotline_queue_calls_total{outcome="answered",queue="support"} 0
hotline_queue_calls_total{outcome="overflow",queue="support"} 0
`
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "hotline_queue_calls_total"))
	require.Equal(t, 3, testutil.CollectAndCount(m.Queues.wait))
	require.Equal(t, 3, testutil.CollectAndCount(m.Queues.handle))
	require.Equal(t, 0.0, testutil.ToFloat64(m.Queues.offered.WithLabelValues("support")), "offered at zero before the first call")
	m.Queues.Joined("support")
	m.Queues.Joined("support")
	require.Equal(t, 2.0, testutil.ToFloat64(m.Queues.offered.WithLabelValues("support")))
	require.Equal(t, 0.0, testutil.ToFloat64(m.Queues.waiting.WithLabelValues("support")))
}

// handleTimes returns the sums and the count of the handle histogram of a queue.
func handleTimes(t *testing.T, m *Set, queue string) (talk, hold, wrapup float64, n uint64) {
	t.Helper()
	families, err := m.Registry.Gather()
	require.NoError(t, err)
	counts := map[string]uint64{}
	sums := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "hotline_queue_handle_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["queue"] == queue {
				counts[labels["part"]] = s.GetHistogram().GetSampleCount()
				sums[labels["part"]] = s.GetHistogram().GetSampleSum()
			}
		}
	}
	require.Equal(t, counts[PartTalk], counts[PartHold], "one observation per part")
	require.Equal(t, counts[PartTalk], counts[PartWrapup], "one observation per part")
	return sums[PartTalk], sums[PartHold], sums[PartWrapup], counts[PartTalk]
}

func TestHandleTimeFromAgentStates(t *testing.T) {
	m := New()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	q := m.Queues

	// alice: ring, talk 60 s, hold 20 s, talk 30 s, wrap up 15 s, ready.
	q.AgentState("alice", "", "", "ready", at(0))
	q.AgentState("alice", "c1", "support", "offered", at(1))
	q.AgentState("alice", "c1", "support", "on_call", at(5))
	q.AgentState("alice", "c1", "support", "on_hold", at(65))
	q.AgentState("alice", "c1", "support", "on_call", at(85))
	q.AgentState("alice", "c1", "support", "wrap_up", at(115))
	talk, hold, wrap, n := handleTimes(t, m, "support")
	require.Zero(t, n, "not handled until the wrap-up is over")
	q.AgentState("alice", "", "", "ready", at(130))
	talk, hold, wrap, n = handleTimes(t, m, "support")
	require.Equal(t, uint64(1), n)
	require.Equal(t, []float64{90, 20, 15}, []float64{talk, hold, wrap})

	// bob, in the same second: a queue without wrap-up, straight to not ready.
	q.AgentState("bob", "c2", "sales", "on_call", at(10))
	q.AgentState("bob", "", "", "not_ready", at(40))
	talk, hold, wrap, n = handleTimes(t, m, "sales")
	require.Equal(t, uint64(1), n)
	require.Equal(t, []float64{30, 0, 0}, []float64{talk, hold, wrap})

	// A new call ends the handling of the one before, and so does a
	// sign-out in the middle of a call.
	q.AgentState("alice", "c3", "support", "on_call", at(200))
	q.AgentState("alice", "c4", "support", "on_call", at(260))
	q.AgentState("alice", "", "", "signed_out", at(270))
	talk, _, _, n = handleTimes(t, m, "support")
	require.Equal(t, uint64(3), n)
	require.Equal(t, 90.0+60+10, talk)

	// States that are not about a call leave nothing behind.
	q.AgentState("carol", "", "", "ready", at(0))
	q.AgentState("carol", "c5", "support", "offered", at(1))
	q.AgentState("carol", "", "", "not_ready", at(20))
	require.Empty(t, q.handling)
	_, _, _, n = handleTimes(t, m, "support")
	require.Equal(t, uint64(3), n, "a missed offer is not a handled call")
}
