package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
	"github.com/hotline/hotline/internal/store"
)

// waitReason waits for the agent's state message with state and reason.
func waitReason(t *testing.T, c *agentclient.Client, state, reason string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		m, err := c.Wait(ctx, softphone.TypeState)
		require.NoError(t, err, "waiting for state %s %q", state, reason)
		if st := m.(softphone.State); st.State == state && st.Reason == reason {
			return
		}
	}
}

// An agent whose media never came up (anna: the page could not reach the
// softphone's address), and one whose media connection failed during the
// day (boris: his peer connection closed), are made not ready "audio" once
// softphone.audio_grace passes; the supervisors' agent list says so; a
// caller is offered to neither, and reaches boris once his audio is back
// and he is ready again.
func TestAgentWithoutAudioIsMadeNotReady(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues + "  audio_grace: 2s\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cookie, status := n.login("anna", n.addUser("anna", store.RoleAgent))
	require.Equal(t, 200, status)
	anna, err := agentclient.Dial(ctx, "ws://"+n.HTTPAddr()+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Cookie": {cookie}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = anna.Close() })
	_, err = anna.Hello(ctx)
	require.NoError(t, err)
	require.NoError(t, anna.Send(ctx, softphone.Ready{}))
	waitState(t, anna, softphone.StateReady)
	waitReason(t, anna, softphone.StateNotReady, "audio", 10*time.Second)

	boris := n.agent("boris")
	require.NoError(t, boris.CloseMedia())
	waitReason(t, boris, softphone.StateNotReady, "audio", 40*time.Second)

	var q httpapi.QueuesJSON
	n.getJSON("/api/v1/queues", &q)
	reasons := map[string]string{}
	for _, a := range q.Agents {
		reasons[a.Agent] = a.State + " " + a.Reason
	}
	require.Equal(t, map[string]string{"anna": "not_ready audio", "boris": "not_ready audio"}, reasons)

	call := dialSupport(t, n, "")
	for _, c := range []*agentclient.Client{anna, boris} {
		wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := c.Wait(wctx, softphone.TypeRing)
		wcancel()
		require.Error(t, err, "no call is offered to an agent without audio")
	}

	// Boris's audio is back; he goes ready and gets the waiting caller.
	require.NoError(t, boris.Connect(ctx))
	require.NoError(t, boris.Send(ctx, softphone.Ready{}))
	ring := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
	require.NoError(t, call.Hangup(ctx))
	require.Equal(t, "boris", n.waitEnded(call.CallID()).Call.Agent)
}
