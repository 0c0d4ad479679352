package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/store"
)

// The overview's agents are anna's transfer list: the other signed-in,
// attached agents, ready first, each with their state and reason; not
// anna herself, not a signed-out or detached agent, not a supervisor
// (a member of no queue).
func TestAgentOverviewTransferList(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ag := func(id string, st acd.State, reason string, connected bool, queues ...string) acd.AgentSnapshot {
		return acd.AgentSnapshot{Agent: id, State: st, Reason: reason, Since: now.Add(-time.Minute), Connected: connected, Queues: queues}
	}
	snap := acd.Snapshot{At: now, Queues: []acd.QueueSnapshot{{Name: "support"}}, Agents: []acd.AgentSnapshot{
		ag("anna", acd.StateReady, "", true, "support"),
		ag("boris", acd.StateNotReady, "break", true, "support"),
		ag("carol", acd.StateOnCall, "", true, "support"),
		ag("dora", acd.StateReady, "", true, "support"),
		ag("egor", acd.StateWrapUp, "", true, "support"),
		ag("fedor", acd.StateReady, "", false, "support"),
		ag("gleb", acd.StateSignedOut, "", false, "support"),
		ag("sveta", acd.StateNotReady, "", true), // a supervisor listening in
	}}
	e := newAuthEnvWith(t, func(o *Options) {
		o.Queues = fakeQueues{snap}
		o.Now = func() time.Time { return now }
	})
	e.addUser("anna", store.RoleAgent, "correct horse")
	anna := e.browser()
	require.Equal(t, http.StatusOK, anna.login("anna", "correct horse").code)

	r := anna.do("GET", "/api/v1/agent/overview", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	agents, _ := r.body["agents"].([]any)
	var list []string
	for _, a := range agents {
		m := a.(map[string]any)
		list = append(list, m["agent"].(string)+" "+m["state"].(string)+" "+m["reason"].(string))
	}
	require.Equal(t, []string{"dora ready ", "egor wrap_up ", "carol on_call ", "boris not_ready break"}, list)
	require.Equal(t, now.Add(-time.Minute).Format(time.RFC3339), agents[0].(map[string]any)["since"])
}
