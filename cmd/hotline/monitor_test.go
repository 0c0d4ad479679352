package main

// End-to-end test of supervisors on live calls: a real node, the test
// phone as the caller, the pure-Go softphone for the agent and for the
// supervisor, each speaking a tone of its own, and who hears whom checked
// by ear (Goertzel) in every mode.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
	"github.com/hotline/hotline/internal/store"
)

// The tones of the three parties.
const (
	monCallerHz     = 600
	monAgentHz      = 1000
	monSupervisorHz = 1500
	monBorisHz      = 1200 // the agent a call is transferred to
)

// connectSupervisor connects a signed-in supervisor's softphone: hello and
// the peer connection, no ready (a supervisor is no agent).
func connectSupervisor(t *testing.T, n *testNode, s session) (*agentclient.Client, softphone.Welcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := agentclient.Dial(ctx, "ws://"+n.HTTPAddr()+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Cookie": {s.cookie}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	w, err := c.Hello(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Connect(ctx))
	return c, w
}

// The supervisor sam monitors a call anna took: in listen he hears the
// caller and anna and nobody hears him; in whisper anna hears him and the
// caller does not (also while anna holds the call: the caller hears the
// music only); in barge both do; off, nobody hears him and he hears
// nothing. Each change is an event on the call, an audit entry, and a
// monitor message on sam's softphone only. An agent may not monitor, an
// unknown call is 404, a supervisor with no softphone 409; the agent's
// transfer and the end of the call end the monitoring.
func TestSupervisorMonitorsWhispersBarges(t *testing.T) {
	started := time.Now()
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	samSession := n.signIn("sam", store.RoleSupervisor)
	sam, welcome := connectSupervisor(t, n, samSession)
	require.Equal(t, softphone.StateSignedOut, welcome.State, "a supervisor's softphone is no agent")
	require.Empty(t, welcome.Queues)
	anna.SetTone(monAgentHz)
	sam.SetTone(monSupervisorHz)

	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	go func() { _ = call.Say(ctx, media.Tone([]float64{monCallerHz}, time.Minute, 0.3)) }()
	id := ring.CallID

	const window = 300 * time.Millisecond
	callerHears := func(hz float64) float64 { return call.Level(hz, window) }
	agentHears := func(hz float64) float64 { return anna.Heard(hz, window) }
	supHears := func(hz float64) float64 { return sam.Heard(hz, window) }
	hears := func(who string, level func(float64) float64, hz float64) {
		t.Helper()
		require.Eventually(t, func() bool { return level(hz) > 0.01 }, 5*time.Second, 20*time.Millisecond,
			"%s never heard %v Hz (level %.4f)", who, hz, level(hz))
	}
	deaf := func(who string, level func(float64) float64, hz float64) {
		t.Helper()
		require.Less(t, level(hz), 0.002, "%s hears %v Hz", who, hz)
	}
	monitor := func(s session, call, mode string) int {
		t.Helper()
		return n.api(&s, "POST", "/api/v1/calls/"+call+"/monitor", map[string]string{"mode": mode}, nil)
	}
	told := func(mode string) softphone.Monitor {
		t.Helper()
		m := waitMsg[softphone.Monitor](t, sam, softphone.TypeMonitor)
		require.Equal(t, id, m.CallID)
		require.Equal(t, mode, m.Mode)
		return m
	}
	hears("the agent", agentHears, monCallerHz)
	hears("the caller", callerHears, monAgentHz)
	// settle waits for a change to reach every ear: the last window of
	// audio each side heard is all from after it.
	settle := func() { time.Sleep(window + 100*time.Millisecond) }
	// levels logs who hears which tone now, for the record.
	levels := func(phase string) {
		t.Logf("%-7s caller hears %.3f %.3f | agent hears %.3f %.3f | supervisor hears %.3f %.3f %.3f",
			phase, callerHears(monAgentHz), callerHears(monSupervisorHz), agentHears(monCallerHz), agentHears(monSupervisorHz),
			supHears(monCallerHz), supHears(monAgentHz), supHears(monSupervisorHz))
	}

	// Listen: sam hears both; nobody hears sam.
	require.Equal(t, http.StatusOK, monitor(samSession, id, "listen"))
	m := told(softphone.MonitorListen)
	require.Equal(t, "anna", m.Agent)
	require.Equal(t, "support", m.Queue)
	require.NotEmpty(t, m.From)
	hears("the supervisor", supHears, monCallerHz)
	hears("the supervisor", supHears, monAgentHz)
	settle()
	deaf("the agent", agentHears, monSupervisorHz)
	deaf("the caller", callerHears, monSupervisorHz)
	require.Greater(t, agentHears(monCallerHz), 0.01, "the agent still hears the caller")
	require.Greater(t, callerHears(monAgentHz), 0.01, "the caller still hears the agent")
	levels("listen")

	// Whisper: anna hears sam (and still the caller); the caller does not.
	require.Equal(t, http.StatusOK, monitor(samSession, id, "whisper"))
	told(softphone.MonitorWhisper)
	hears("the agent", agentHears, monSupervisorHz)
	settle()
	require.Greater(t, agentHears(monCallerHz), 0.01, "the agent still hears the caller")
	deaf("the caller", callerHears, monSupervisorHz)
	require.Greater(t, supHears(monCallerHz), 0.01, "the supervisor still hears the caller")
	levels("whisper")

	// Hold while whispering: the caller hears the music only; sam and anna
	// talk, and sam no longer hears the caller.
	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: id, On: true}))
	require.Equal(t, softphone.CallHeld, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	hears("the caller", callerHears, holdTone)
	settle()
	deaf("the caller", callerHears, monSupervisorHz)
	deaf("the caller", callerHears, monAgentHz)
	require.Greater(t, agentHears(monSupervisorHz), 0.01, "the agent hears the supervisor during the hold")
	deaf("the agent", agentHears, monCallerHz)
	require.Greater(t, supHears(monAgentHz), 0.01, "the supervisor hears the agent during the hold")
	deaf("the supervisor", supHears, monCallerHz)
	levels("hold")
	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: id, On: false}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	hears("the supervisor", supHears, monCallerHz)
	hears("the agent", agentHears, monCallerHz)

	// Barge: both hear sam.
	require.Equal(t, http.StatusOK, monitor(samSession, id, "barge"))
	told(softphone.MonitorBarge)
	hears("the caller", callerHears, monSupervisorHz)
	hears("the agent", agentHears, monSupervisorHz)
	require.Greater(t, callerHears(monAgentHz), 0.01, "the caller still hears the agent")
	require.Greater(t, agentHears(monCallerHz), 0.01, "the agent still hears the caller")
	settle()
	levels("barge")

	// Off: nobody hears sam, and sam hears nothing at all.
	require.Equal(t, http.StatusOK, monitor(samSession, id, "off"))
	require.Equal(t, "off", told(softphone.MonitorOff).Reason)
	settle()
	deaf("the caller", callerHears, monSupervisorHz)
	deaf("the agent", agentHears, monSupervisorHz)
	got := sam.Received()
	time.Sleep(window)
	require.Equal(t, got, sam.Received(), "the supervisor's softphone gets no audio once off")
	require.Greater(t, agentHears(monCallerHz), 0.01, "the bridge goes on as before")
	require.Greater(t, callerHears(monAgentHz), 0.01, "the bridge goes on as before")
	require.Equal(t, http.StatusOK, monitor(samSession, id, "off"), "off again is no error")
	levels("off")

	// Who may, and the refusals.
	boris := n.signIn("boris", store.RoleAgent)
	require.Equal(t, http.StatusForbidden, monitor(boris, id, "listen"), "agents may not monitor")
	require.Equal(t, http.StatusNotFound, monitor(samSession, "no-such-call", "listen"))
	tom := n.signIn("tom", store.RoleSupervisor)
	require.Equal(t, http.StatusConflict, monitor(tom, id, "listen"), "tom has no softphone")

	// Back to listening; anna transfers the call to boris: the monitoring
	// ends with anna's part, and sam may listen to boris next, until boris
	// hangs up.
	borisPhone, _ := connectAgent(t, n.HTTPAddr(), boris.cookie)
	borisPhone.SetTone(monBorisHz)
	require.Equal(t, http.StatusOK, monitor(samSession, id, "listen"))
	told(softphone.MonitorListen)
	hears("the supervisor", supHears, monAgentHz)
	require.NoError(t, anna.Send(ctx, softphone.Transfer{CallID: id, Agent: "boris"}))
	require.Equal(t, "transfer", told(softphone.MonitorOff).Reason)
	require.Equal(t, "transfer", waitMsg[softphone.Call](t, anna, softphone.TypeCall).EndedBy)
	require.Equal(t, http.StatusConflict, monitor(samSession, id, "listen"), "nobody is on the call while it waits for boris")
	require.Equal(t, id, waitMsg[softphone.Ring](t, borisPhone, softphone.TypeRing).CallID)
	require.NoError(t, borisPhone.Send(ctx, softphone.Accept{CallID: id}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, borisPhone, softphone.TypeCall).Status)
	require.Equal(t, http.StatusOK, monitor(samSession, id, "listen"))
	require.Equal(t, "boris", told(softphone.MonitorListen).Agent)
	hears("the supervisor", supHears, monBorisHz)
	hears("the supervisor", supHears, monCallerHz)
	require.NoError(t, borisPhone.Send(ctx, softphone.Hangup{CallID: id}))
	require.Equal(t, "hangup", told(softphone.MonitorOff).Reason)

	// The agent was never told.
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	_, err := anna.Wait(short, softphone.TypeMonitor)
	require.Error(t, err, "the agent's softphone gets no monitor message")

	// The call's events and the audit log.
	d := n.waitEnded(call.CallID())
	var events []string
	for _, e := range d.Events {
		switch e.Kind {
		case "monitor_start", "monitor_mode", "monitor_stop":
			events = append(events, e.Kind+" "+e.Detail)
		}
	}
	require.Equal(t, []string{
		"monitor_start sam listen", "monitor_mode sam whisper", "monitor_mode sam barge", "monitor_stop sam off",
		"monitor_start sam listen", "monitor_stop sam transfer", "monitor_start sam listen", "monitor_stop sam hangup",
	}, events)
	var audit []string
	require.Eventually(t, func() bool {
		evs, err := n.store.ListAudit(context.Background(), store.AuditFilter{Action: "call.monitor"})
		require.NoError(t, err)
		audit = audit[:0]
		for _, e := range evs {
			require.Equal(t, id, e.CallID)
			audit = append(audit, e.Actor+" "+e.Detail)
		}
		return len(audit) >= 7
	}, 5*time.Second, 50*time.Millisecond, "the monitor requests are audited: %v", audit)
	require.Equal(t, []string{"sam mode=listen", "sam mode=whisper", "sam mode=barge", "sam mode=off", "sam mode=off",
		"sam mode=listen", "sam mode=listen"}, audit)
	t.Logf("monitor test took %s", time.Since(started).Round(100*time.Millisecond))
}
