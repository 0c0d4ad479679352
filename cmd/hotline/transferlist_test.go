package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
	"github.com/hotline/hotline/internal/store"
)

// overviewAs reads GET /api/v1/agent/overview with an agent's session.
func (n *testNode) overviewAs(cookie string) httpapi.AgentOverviewJSON {
	n.t.Helper()
	req, err := http.NewRequest("GET", "http://"+n.HTTPAddr()+"/api/v1/agent/overview", nil)
	require.NoError(n.t, err)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	require.NoError(n.t, err)
	defer res.Body.Close()
	require.Equal(n.t, http.StatusOK, res.StatusCode)
	var out httpapi.AgentOverviewJSON
	require.NoError(n.t, json.NewDecoder(res.Body).Decode(&out))
	return out
}

// The transfer list anna reads during her call has boris with his state
// (not ready with his reason, then ready), neither anna herself nor a
// supervisor whose softphone is connected; the agent she picks from it is
// the one the call rings.
func TestTransferToAgentPickedFromList(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	annaCookie, status := n.login("anna", n.addUser("anna", store.RoleAgent))
	require.Equal(t, 200, status)
	anna, _ := connectAgent(t, n.HTTPAddr(), annaCookie)
	boris := n.agent("boris")
	supCookie, status := n.login("sveta", n.addUser("sveta", store.RoleSupervisor))
	require.Equal(t, 200, status)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sveta, err := agentclient.Dial(ctx, "ws://"+n.HTTPAddr()+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Cookie": {supCookie}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sveta.Close() })
	_, err = sveta.Hello(ctx)
	require.NoError(t, err)
	require.NoError(t, sveta.Connect(ctx), "the supervisor's softphone is attached (to listen in)")

	list := func() []string {
		var out []string
		for _, a := range n.overviewAs(annaCookie).Agents {
			out = append(out, a.Agent+" "+a.State+" "+a.Reason)
		}
		return out
	}
	require.NoError(t, boris.Send(ctx, softphone.NotReady{Reason: "break"}))
	waitState(t, boris, softphone.StateNotReady)
	require.Eventually(t, func() bool { return len(list()) == 1 && list()[0] == "boris not_ready break" },
		5*time.Second, 50*time.Millisecond, "boris on a break: %v", list())

	call := dialSupport(t, n, "")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)

	require.NoError(t, boris.Send(ctx, softphone.Ready{}))
	waitState(t, boris, softphone.StateReady)
	var picked string
	require.Eventually(t, func() bool {
		l := n.overviewAs(annaCookie).Agents
		if len(l) == 1 && l[0].State == "ready" {
			picked = l[0].Agent
			return true
		}
		return false
	}, 5*time.Second, 50*time.Millisecond, "during anna's call the list follows boris: %v", list())
	require.Equal(t, "boris", picked)

	require.NoError(t, anna.Send(ctx, softphone.Transfer{CallID: ring.CallID, Agent: picked}))
	ended := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, "transfer", ended.EndedBy)
	ring2 := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
	require.Equal(t, ring.CallID, ring2.CallID, "the call rings the agent picked")
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring2.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
	require.NoError(t, call.Hangup(ctx))
	d := n.waitEnded(call.CallID())
	require.Equal(t, "boris", d.Call.Agent)
}
