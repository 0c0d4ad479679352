package main

// End-to-end tests of the warm (consult) transfer: a SIP caller, two agents
// on the pure-Go agent client (real WebSocket, real pion WebRTC).

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
	"github.com/hotline/hotline/sip/siptest"
)

// consultSetup is anna talking to a caller of the support queue, with
// boris ready; it returns the call id the agents see.
func consultSetup(t *testing.T, ctx context.Context) (n *testNode, anna, boris *agentclient.Client, call *siptest.PhoneCall, id string) {
	t.Helper()
	n = startTestNode(t, nodeOptions{extra: agentQueues})
	anna, welcome := n.agentWelcome("anna")
	require.True(t, welcome.Consult, "the welcome offers consultations")
	boris = n.agent("boris")
	call = dialSupport(t, n, testSerial)
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing) // linear: anna first
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	anna.SetTone(1000)
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond), "anna talks to the caller")
	return n, anna, boris, call, ring.CallID
}

// consultBoris has anna consult boris and boris accept: each is told, the
// caller hears the hold music, and anna and boris hear each other.
func consultBoris(t *testing.T, ctx context.Context, anna, boris *agentclient.Client, call *siptest.PhoneCall, id string) {
	t.Helper()
	require.NoError(t, anna.Send(ctx, softphone.Consult{CallID: id, Agent: "boris"}))
	mine := waitMsg[softphone.Consultation](t, anna, softphone.TypeConsultation)
	require.Equal(t, softphone.Consultation{CallID: id, Role: softphone.ConsultInitiator, Status: softphone.ConsultRinging, Agent: "boris"}, mine)
	offer := waitMsg[softphone.Consultation](t, boris, softphone.TypeConsultation)
	require.Equal(t, softphone.ConsultTarget, offer.Role)
	require.Equal(t, softphone.ConsultRinging, offer.Status)
	require.Equal(t, "anna", offer.Agent, "boris sees who asks")
	require.NotEmpty(t, offer.From, "…and who is calling")
	require.Equal(t, testSerial, offer.Vars["serial"])
	require.Positive(t, offer.TimeoutMS)
	waitState(t, anna, softphone.StateConsult)
	waitState(t, boris, softphone.StateConsult)
	require.NoError(t, call.WaitTone(ctx, holdTone, 300*time.Millisecond), "the caller hears the hold music")

	require.NoError(t, boris.Send(ctx, softphone.ConsultAccept{CallID: id}))
	require.Equal(t, softphone.ConsultTalking, waitMsg[softphone.Consultation](t, anna, softphone.TypeConsultation).Status)
	require.Equal(t, softphone.ConsultTalking, waitMsg[softphone.Consultation](t, boris, softphone.TypeConsultation).Status)
	boris.SetTone(1400)
	require.Eventually(t, func() bool { return boris.Heard(1000, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "boris hears anna")
	require.Eventually(t, func() bool { return anna.Heard(1400, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "anna hears boris")
	require.Less(t, call.Level(1000, 200*time.Millisecond), 0.001, "the caller does not hear anna")
	require.Less(t, call.Level(1400, 200*time.Millisecond), 0.001, "…nor boris")
}

// hearsNoMore waits until c's audio no longer carries hz: what it receives
// lacks it, or it receives nothing (a leg nobody talks to gets no packets).
func hearsNoMore(t *testing.T, c *agentclient.Client, hz float64, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		before := c.Received()
		time.Sleep(300 * time.Millisecond)
		return c.Received() == before || c.Heard(hz, 200*time.Millisecond) < 0.001
	}, 5*time.Second, 50*time.Millisecond, msg)
}

// say plays a tone to the hotline from the caller's phone; the returned
// channel is closed when it has finished.
func say(ctx context.Context, call *siptest.PhoneCall, hz float64) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = call.Say(ctx, media.Tone([]float64{hz}, 2*time.Second, 0.3))
	}()
	return done
}

// Warm transfer: anna consults boris while the caller holds, then
// completes: the caller and boris hear each other both ways, anna no
// longer hears the caller and wraps up, and the call row says answered and
// names boris.
func TestAgentConsultsAndCompletes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n, anna, boris, call, id := consultSetup(t, ctx)

	// Refused: an unknown agent, and boris cannot accept what was never offered.
	require.NoError(t, anna.Send(ctx, softphone.Consult{CallID: id, Agent: "nobody"}))
	refused := waitMsg[softphone.Error](t, anna, softphone.TypeError)
	require.Equal(t, softphone.TypeConsult, refused.Ref)
	require.Contains(t, refused.Message, `no agent "nobody"`)
	require.NoError(t, boris.Send(ctx, softphone.ConsultAccept{CallID: id}))
	require.Equal(t, softphone.CodeForbidden, waitMsg[softphone.Error](t, boris, softphone.TypeError).Code)

	consultBoris(t, ctx, anna, boris, call, id)
	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: id, On: false}))
	require.Equal(t, softphone.CodeState, waitMsg[softphone.Error](t, anna, softphone.TypeError).Code, "no hold games during a consultation")

	require.NoError(t, anna.Send(ctx, softphone.ConsultComplete{CallID: id}))
	done := waitMsg[softphone.Consultation](t, anna, softphone.TypeConsultation)
	require.Equal(t, softphone.ConsultEnded, done.Status)
	require.Equal(t, "completed", done.Reason)
	require.Equal(t, "completed", waitMsg[softphone.Consultation](t, boris, softphone.TypeConsultation).Reason)
	ended := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, softphone.CallEnded, ended.Status)
	require.Equal(t, "transfer", ended.EndedBy)
	waitState(t, anna, softphone.StateWrapUp)
	connected := waitMsg[softphone.Call](t, boris, softphone.TypeCall)
	require.Equal(t, softphone.CallConnected, connected.Status)
	require.Equal(t, id, connected.CallID)
	waitState(t, boris, softphone.StateOnCall)

	require.NoError(t, call.WaitTone(ctx, 1400, 200*time.Millisecond), "boris's voice reaches the caller")
	said := say(ctx, call, 800)
	require.Eventually(t, func() bool { return boris.Heard(800, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller's voice reaches boris")
	require.Less(t, anna.Heard(800, 200*time.Millisecond), 0.001, "anna no longer hears the caller")
	require.Less(t, call.Level(1000, 200*time.Millisecond), 0.001, "…nor the caller anna")
	<-said

	require.NoError(t, call.Hangup(ctx))
	require.Equal(t, "caller", waitMsg[softphone.Call](t, boris, softphone.TypeCall).EndedBy)
	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "boris", d.Call.Agent, "the row names the agent who ended up with the caller")
	var events []string
	for _, e := range d.Events {
		switch e.Kind {
		case "agent_answered", "consult", "consult_connected", "consult_ended":
			events = append(events, e.Kind+" "+e.Detail)
		}
	}
	require.Equal(t, []string{
		"agent_answered anna",
		"consult anna → agent:boris", "consult_connected anna → agent:boris", "consult_ended anna → agent:boris completed",
		"agent_answered boris",
	}, events)
	require.Equal(t, "1", n.metric(`hotline_queue_calls_total{outcome="answered",queue="support"}`), "one queued call, answered once")

	// One recording: anna's segment, then boris's; the consultation is a
	// hold (silence in the file, the agents' talk is not recorded).
	row := n.waitRecording(id)
	require.Equal(t, store.RecordingComplete, row.State, row.Reason)
	require.Len(t, row.Segments, 2, "one segment per agent")
	require.Equal(t, "anna", row.Segments[0].Agent)
	require.Equal(t, "boris", row.Segments[1].Agent)
	var kinds []string
	for _, m := range row.Markers {
		kinds = append(kinds, m.Kind)
	}
	require.Equal(t, []string{"hold"}, kinds, "the caller's wait during the consultation is marked as hold")
}

// Cancelled, the consultation leaves the caller with anna, both ways, and
// boris ready.
func TestAgentConsultsAndCancels(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n, anna, boris, call, id := consultSetup(t, ctx)
	consultBoris(t, ctx, anna, boris, call, id)

	// boris reloads his page during the consultation: its welcome shows
	// it, and on the new peer connection he hears anna again.
	cookie, status := n.login("boris", "correct horse battery staple")
	require.Equal(t, http.StatusOK, status)
	boris, err := agentclient.Dial(ctx, "ws://"+n.HTTPAddr()+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Cookie": {cookie}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = boris.Close() })
	w, err := boris.Hello(ctx)
	require.NoError(t, err)
	require.Equal(t, softphone.StateConsult, w.State)
	require.NotNil(t, w.Consultation)
	require.Equal(t, softphone.Consultation{CallID: id, Role: softphone.ConsultTarget, Status: softphone.ConsultTalking, Agent: "anna",
		From: w.Consultation.From, Queue: "support", Vars: w.Consultation.Vars, Caller: w.Consultation.Caller}, *w.Consultation)
	require.Equal(t, testSerial, w.Consultation.Vars["serial"])
	require.NoError(t, boris.Connect(ctx))
	require.Eventually(t, func() bool { return boris.Heard(1000, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "after the reload boris hears anna")

	require.NoError(t, anna.Send(ctx, softphone.ConsultCancel{CallID: id}))
	require.Equal(t, "cancelled", waitMsg[softphone.Consultation](t, anna, softphone.TypeConsultation).Reason)
	require.Equal(t, "cancelled", waitMsg[softphone.Consultation](t, boris, softphone.TypeConsultation).Reason)
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	waitState(t, anna, softphone.StateOnCall)
	waitState(t, boris, softphone.StateReady)

	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond), "anna's voice reaches the caller again")
	said := say(ctx, call, 800)
	require.Eventually(t, func() bool { return anna.Heard(800, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller's voice reaches anna again")
	require.Less(t, boris.Heard(800, 200*time.Millisecond), 0.001, "boris does not hear the caller")
	hearsNoMore(t, boris, 1000, "boris no longer hears anna")
	<-said

	// Boris rejects the next one: anna keeps the caller.
	require.NoError(t, anna.Send(ctx, softphone.Consult{CallID: id, Agent: "boris"}))
	waitMsg[softphone.Consultation](t, boris, softphone.TypeConsultation)
	require.NoError(t, boris.Send(ctx, softphone.ConsultReject{CallID: id}))
	for {
		m := waitMsg[softphone.Consultation](t, anna, softphone.TypeConsultation)
		if m.Status == softphone.ConsultEnded {
			require.Equal(t, "rejected", m.Reason)
			break
		}
	}
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond), "after a rejected consultation the caller hears anna")

	require.NoError(t, call.Hangup(ctx))
	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "anna", d.Call.Agent)
}

// The caller hangs up while anna and boris consult: anna's call ends and
// she wraps up, boris is ready again, and the row says answered by anna.
func TestCallerHangsUpDuringConsult(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n, anna, boris, call, id := consultSetup(t, ctx)
	consultBoris(t, ctx, anna, boris, call, id)

	require.NoError(t, call.Hangup(ctx))
	ended := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, softphone.CallEnded, ended.Status)
	require.Equal(t, "caller", ended.EndedBy)
	for _, c := range []*agentclient.Client{anna, boris} {
		m := waitMsg[softphone.Consultation](t, c, softphone.TypeConsultation)
		require.Equal(t, softphone.ConsultEnded, m.Status)
		require.Equal(t, "caller_hangup", m.Reason)
	}
	waitState(t, anna, softphone.StateWrapUp)
	waitState(t, boris, softphone.StateReady)
	hearsNoMore(t, boris, 1000, "boris no longer hears anna")

	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "anna", d.Call.Agent)
	require.Equal(t, "caller", d.Call.HangupSide)

	// Boris takes the next call as usual.
	next := dialSupport(t, n, "")
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: id}))
	ring := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
	require.NoError(t, next.WaitTone(ctx, 1400, 200*time.Millisecond), "boris talks to the next caller")
	require.NoError(t, next.Hangup(ctx))
}

// A supervisor listening in leaves when the agent consults another agent
// (monitor reason "consult"), may not join during the consultation, and
// may listen again once the call is back with the agent.
func TestSupervisorLeavesWhenAgentConsults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n, anna, boris, call, id := consultSetup(t, ctx)
	samSession := n.signIn("sam", store.RoleSupervisor)
	sam, _ := connectSupervisor(t, n, samSession)
	monitor := func(mode string) int {
		t.Helper()
		return n.api(&samSession, "POST", "/api/v1/calls/"+id+"/monitor", map[string]string{"mode": mode}, nil)
	}
	require.Eventually(t, func() bool { return monitor(softphone.MonitorListen) == http.StatusOK },
		5*time.Second, 100*time.Millisecond, "sam listens in once his softphone's peer connection is up")
	require.Equal(t, softphone.MonitorListen, waitMsg[softphone.Monitor](t, sam, softphone.TypeMonitor).Mode)
	require.Eventually(t, func() bool { return sam.Heard(1000, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "sam hears anna")

	consultBoris(t, ctx, anna, boris, call, id)
	off := waitMsg[softphone.Monitor](t, sam, softphone.TypeMonitor)
	require.Equal(t, softphone.MonitorOff, off.Mode)
	require.Equal(t, "consult", off.Reason)
	hearsNoMore(t, sam, 1400, "sam does not hear the consultation")
	require.Equal(t, http.StatusConflict, monitor(softphone.MonitorListen), "no listening in on a consultation")

	require.NoError(t, anna.Send(ctx, softphone.ConsultCancel{CallID: id}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status, "the call is anna's again")
	var why map[string]any
	require.Equal(t, http.StatusOK, n.api(&samSession, "POST", "/api/v1/calls/"+id+"/monitor", map[string]string{"mode": "listen"}, &why), "%v", why)
	require.Eventually(t, func() bool { return sam.Heard(1000, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "sam hears anna again")
	require.NoError(t, call.Hangup(ctx))
}
