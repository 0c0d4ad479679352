package kpi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A warm transfer: anna talks 60 s, consults boris 30 s while the caller
// holds, and completes; boris talks 60 s. anna's handle counts the
// consultation as hold; boris's starts when he takes the call, though his
// time consulting counts as handling time in his occupancy.
func TestConsultCountsAsHoldForTheAgentOnTheCall(t *testing.T) {
	at := func(s int) time.Time { return b.Add(sec(s)) }
	ev := func(agent string, s int, state, call string) AgentEvent {
		return AgentEvent{Agent: agent, At: at(s), State: state, CallID: call}
	}
	cfg := Config{From: b, To: b.Add(time.Hour), Bucket: Hour, Location: time.UTC, AsOf: b.Add(time.Hour)}
	calls := []Call{{ID: "c1", Queue: "tech", ArrivedAt: at(0), QueuedAt: at(1), ConnectedAt: at(5),
		EndedAt: at(155), Outcome: "answered", Agent: "boris"}}
	events := []AgentEvent{
		ev("anna", 0, StateReady, ""), ev("boris", 0, StateReady, ""),
		ev("anna", 2, StateOffered, "c1"), ev("anna", 5, StateOnCall, "c1"),
		ev("anna", 65, StateConsult, "c1"), ev("boris", 65, StateConsult, "c1"),
		ev("anna", 95, StateWrapUp, "c1"), ev("boris", 95, StateOnCall, "c1"),
		ev("anna", 105, StateReady, ""),
		ev("boris", 155, StateWrapUp, "c1"), ev("boris", 165, StateReady, ""),
	}
	r, err := Compute(cfg, calls, events)
	require.NoError(t, err)
	agent := func(name string) AgentStats {
		for _, a := range r.Total.Agents {
			if a.Agent == name {
				return a
			}
		}
		t.Fatalf("no agent %s", name)
		return AgentStats{}
	}
	check(t, "anna", agent("anna").Figures(), want{
		KeyHandled: 1, KeyAHT: frac{100, 1}, KeyAvgTalk: frac{60, 1}, KeyAvgHold: frac{30, 1}, KeyAvgWrapUp: frac{10, 1},
	})
	check(t, "boris", agent("boris").Figures(), want{
		KeyHandled: 1, KeyAHT: frac{70, 1}, KeyAvgTalk: frac{60, 1}, KeyAvgHold: frac{0, 1}, KeyAvgWrapUp: frac{10, 1},
		KeyOccupancy: frac{100, 3600},
	})
}
