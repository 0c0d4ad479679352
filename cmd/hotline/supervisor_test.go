package main

// End-to-end tests of the supervisors' live push: a real node, a caller
// through the IVR into a queue, the wallboard socket as a browser opens it.

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/wallboard"
	"github.com/hotline/hotline/sip/siptest"
)

// dialWallboard opens the supervisor socket with a session cookie.
func dialWallboard(t *testing.T, n *testNode, s session) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws://"+n.HTTPAddr()+"/api/v1/supervisor/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Cookie": {s.cookie}, "Origin": {"http://" + n.HTTPAddr()}},
	})
}

// readBoard reads wallboard messages until ok accepts one.
func readBoard(t *testing.T, c *websocket.Conn, within time.Duration, ok func(wallboard.Message) bool) wallboard.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		require.NoError(t, err, "no wallboard message in time")
		var m wallboard.Message
		require.NoError(t, json.Unmarshal(b, &m))
		if ok(m) {
			return m
		}
	}
}

func queueView(m wallboard.Message, name string) wallboard.QueueView {
	for _, q := range m.Queues {
		if q.Name == name {
			return q
		}
	}
	return wallboard.QueueView{}
}

// The wallboard shows a waiting caller within a second of their joining
// the queue and clears them within a second of their leaving; an agent's
// session is refused.
func TestWallboardFollowsTheQueue(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	_, res, err := dialWallboard(t, n, n.signIn("boris", store.RoleAgent))
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "agents do not get the wallboard")

	c, _, err := dialWallboard(t, n, n.signIn("sam", store.RoleSupervisor))
	require.NoError(t, err)
	defer c.CloseNow()
	first := readBoard(t, c, 5*time.Second, func(wallboard.Message) bool { return true })
	require.Equal(t, "wallboard", first.Type)
	require.Zero(t, queueView(first, "billing").Waiting)

	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	press(t, call, "12", media.SourceRFC4733) // billing: nobody is signed in
	hear(t, call, holdTone)                   // the caller is in the queue
	waiting := readBoard(t, c, time.Second, func(m wallboard.Message) bool { return queueView(m, "billing").Waiting == 1 })
	require.GreaterOrEqual(t, queueView(waiting, "billing").LongestWaitMS, int64(0))

	require.NoError(t, call.Hangup(ctx))
	readBoard(t, c, 2*time.Second, func(m wallboard.Message) bool { return queueView(m, "billing").Waiting == 0 })

	// Today's figures catch up within their refresh and equal the API's.
	today := readBoard(t, c, 10*time.Second, func(m wallboard.Message) bool { return queueView(m, "billing").Today.Abandoned == 1 })
	var rep struct {
		Total struct {
			Queues []struct {
				Queue     string
				Offered   struct{ Value *float64 }
				Abandoned struct{ Value *float64 }
			}
		}
	}
	require.Equal(t, 200, n.getJSON("/api/v1/stats", &rep))
	var found bool
	for _, q := range rep.Total.Queues {
		if q.Queue == "billing" {
			found = true
			require.Equal(t, float64(queueView(today, "billing").Today.Abandoned), *q.Abandoned.Value)
			require.Equal(t, float64(queueView(today, "billing").Today.Offered), *q.Offered.Value)
		}
	}
	require.True(t, found, "the stats API reports billing today")
}

// A supervisor puts an agent not ready and signs another out; both are
// audited; an agent may do neither; an unknown agent is 404.
func TestSupervisorActsOnAgents(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	n.agent("boris") // ready in support, to be signed out
	sam := n.signIn("sam", store.RoleSupervisor)

	require.Equal(t, 400, n.api(&sam, "POST", "/api/v1/agents/anna/not-ready", map[string]string{"reason": "coaching"}, nil),
		"only the configured reasons")
	require.Equal(t, 200, n.api(&sam, "POST", "/api/v1/agents/anna/not-ready", map[string]string{"reason": "break"}, nil))
	for {
		st := waitMsg[softphone.State](t, anna, softphone.TypeState)
		if st.State == softphone.StateNotReady {
			require.Equal(t, "break", st.Reason)
			break
		}
	}
	require.Equal(t, 200, n.api(&sam, "POST", "/api/v1/agents/boris/sign-out", nil, nil))
	require.Eventually(t, func() bool {
		var snap struct {
			Agents []struct{ Agent, State string }
		}
		n.getJSON("/api/v1/queues", &snap)
		for _, a := range snap.Agents {
			if a.Agent == "boris" {
				return a.State == "signed_out"
			}
		}
		return false
	}, 5*time.Second, 50*time.Millisecond, "boris is signed out of the queues")

	annaSession := n.signIn("anna2", store.RoleAgent)
	require.Equal(t, 403, n.api(&annaSession, "POST", "/api/v1/agents/boris/not-ready", nil, nil), "agents may not")
	require.Equal(t, 404, n.api(&sam, "POST", "/api/v1/agents/nobody/sign-out", nil, nil))
	require.Eventually(t, func() bool {
		ev, err := n.store.ListAudit(context.Background(), store.AuditFilter{Object: "anna"})
		require.NoError(t, err)
		return len(ev) == 1 && ev[0].Action == httpapi.AuditAgentNotReady && ev[0].Actor == "sam" && ev[0].Detail == "break"
	}, 5*time.Second, 50*time.Millisecond, "the supervisor's action is audited")
}
