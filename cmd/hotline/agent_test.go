package main

// End-to-end tests of the agent's half: agents sign in over HTTP, connect
// their softphone (the pure-Go agent client: real WebSocket, real pion
// WebRTC), and take calls a SIP caller routes to a queue through the IVR.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/sip/siptest"
)

// agentQueues is the ACD part of the test configuration: a support queue
// answered by anna and boris, with short timers.
const agentQueues = `
acd:
  not_ready_reasons: [break]
  queues:
    - name: support
      strategy: linear
      members: [{agent: anna}, {agent: boris}]
      ring_timeout: 2s
      wrap_up: 1s
      join_when_empty: true
    - name: billing
      members: [{agent: boris}]
      join_when_empty: true
    - name: operator
      members: [{agent: anna}]
      join_when_empty: true
softphone:
  udp_addr: 127.0.0.1:0
`

// addUser creates a user in the node's store and returns the password.
func (n *testNode) addUser(username string, role store.Role) string {
	n.t.Helper()
	const password = "correct horse battery staple"
	u, err := newUser(username, strings.ToUpper(username[:1])+username[1:], role, nil, "en", password)
	require.NoError(n.t, err)
	require.NoError(n.t, n.store.CreateUser(context.Background(), u))
	return password
}

// login signs in over the API and returns the session cookie header.
func (n *testNode) login(username, password string) (cookie string, status int) {
	n.t.Helper()
	return loginAt(n.t, n.HTTPAddr(), username, password)
}

// loginAt signs in at a hotline's HTTP address.
func loginAt(t *testing.T, httpAddr, username, password string) (cookie string, status int) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	res, err := http.Post("http://"+httpAddr+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		cookie = c.Name + "=" + c.Value
	}
	return cookie, res.StatusCode
}

// agent signs in, connects the softphone, and goes ready.
func (n *testNode) agent(username string) *agentclient.Client {
	n.t.Helper()
	c, _ := n.agentWelcome(username)
	return c
}

// agentWelcome is agent, also returning the welcome the softphone got.
func (n *testNode) agentWelcome(username string) (*agentclient.Client, softphone.Welcome) {
	n.t.Helper()
	cookie, status := n.login(username, n.addUser(username, store.RoleAgent))
	require.Equal(n.t, 200, status)
	return connectAgent(n.t, n.HTTPAddr(), cookie)
}

// connectAgent connects a signed-in agent's softphone and goes ready.
func connectAgent(t *testing.T, httpAddr, cookie string) (*agentclient.Client, softphone.Welcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := agentclient.Dial(ctx, "ws://"+httpAddr+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Cookie": {cookie}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	w, err := c.Hello(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Connect(ctx))
	require.NoError(t, c.Send(ctx, softphone.Ready{}))
	waitState(t, c, softphone.StateReady)
	return c, w
}

// waitState waits for the agent's state message.
func waitState(t *testing.T, c *agentclient.Client, state string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := c.Wait(ctx, softphone.TypeState)
		require.NoError(t, err, "waiting for state %s", state)
		if m.(softphone.State).State == state {
			return
		}
	}
}

func waitMsg[T softphone.Message](t *testing.T, c *agentclient.Client, typ string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	m, err := c.Wait(ctx, typ)
	require.NoError(t, err, "waiting for %s", typ)
	return m.(T)
}

// dialSupport calls the hotline and picks English, technical support, and
// enters a serial number ("" skips it) and confirms it with 1.
func dialSupport(t *testing.T, n *testNode, serial string) *siptest.PhoneCall {
	t.Helper()
	phone := newPhone(t, siptest.PhoneOptions{Transport: "udp", Codecs: []media.Codec{media.PCMU}, DTMFType: 101})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := phone.Dial(ctx, n.uri("support"), siptest.DialOptions{})
	require.NoError(t, err)
	if serial != "" {
		serial += "#1"
	}
	press(t, call, "11"+cmp.Or(serial, "#"), media.SourceRFC4733)
	return call
}

// The whole path: the caller navigates the IVR into the queue, the agent's
// softphone rings with the caller's number and serial, the agent accepts,
// tones cross both ways, the agent hangs up, and the call row says who
// answered.
func TestAgentAnswersCall(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna, welcome := n.agentWelcome("anna")
	require.InDelta(t, time.Now().UnixMilli(), welcome.Since, float64(time.Minute.Milliseconds()),
		"the first welcome's since is now, in Unix milliseconds")
	call := dialSupport(t, n, testSerial)

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NotNil(t, ring.Tickets, "the ring always carries its tickets, [] when none")
	require.Equal(t, "support", ring.Queue)
	require.Equal(t, testSerial, ring.Vars["serial"])
	require.Equal(t, "en", ring.Language)
	require.NotEmpty(t, ring.From)
	// The ring carries the IVR path with the flow's labels, and what the
	// collect and language nodes got.
	require.Len(t, ring.IVRSteps, len(ring.IVRPath))
	steps := map[string]softphone.IVRStep{}
	for i, st := range ring.IVRSteps {
		require.Equal(t, ring.IVRPath[i], st.Node)
		steps[st.Node] = st
	}
	require.Equal(t, "Technical support", steps["enter-serial"].Label["en"])
	require.Equal(t, "Техническая поддержка", steps["enter-serial"].Label["ru"])
	require.Equal(t, softphone.IVRStep{Node: "enter-serial", Type: "collect", Label: steps["enter-serial"].Label,
		Var: "serial", Value: testSerial}, steps["enter-serial"])
	require.Equal(t, "en", steps["choose-language"].Value)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	connected := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, ring.IVRSteps, connected.IVRSteps, "the call keeps the steps (a reload redraws them)")
	require.Equal(t, softphone.CallConnected, connected.Status)

	// The agent's microphone reaches the caller...
	anna.SetTone(1000)
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond))
	// ...and the caller's voice reaches the agent.
	go func() { _ = call.Say(ctx, media.Tone([]float64{600}, 3*time.Second, 0.3)) }()
	require.Eventually(t, func() bool { return anna.Heard(600, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller's tone never reached the agent")

	require.NoError(t, anna.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the caller never got BYE")
	}
	ended := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, softphone.CallEnded, ended.Status)
	require.Equal(t, "agent", ended.EndedBy)
	waitState(t, anna, softphone.StateWrapUp)
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: ring.CallID, Disposition: "resolved", Note: "reset the router"}))
	waitState(t, anna, softphone.StateReady)

	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "hotline", d.Call.HangupSide)
	require.Equal(t, "anna", d.Call.Agent)
	require.NotNil(t, d.Call.QueuedAt)
	require.NotNil(t, d.Call.OfferedAt)
	require.NotNil(t, d.Call.ConnectedAt)
	require.False(t, d.Call.ConnectedAt.Before(*d.Call.QueuedAt), "the wait runs from queued to connected")
	require.Eventually(t, func() bool {
		n.getJSON("/api/v1/calls/"+d.Call.ID, &d)
		return d.Call.Note == "reset the router"
	}, 5*time.Second, 50*time.Millisecond, "the wrap-up note is stored with the call")
	require.Equal(t, "resolved", d.Call.Disposition)

	// Every state change of the agent is in the store, for handle time and occupancy.
	var states []string
	require.Eventually(t, func() bool {
		ev, err := n.store.ListAgentEvents(context.Background(), "anna", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		require.NoError(t, err)
		states = states[:0]
		for _, e := range ev {
			states = append(states, e.State)
		}
		return len(states) >= 6
	}, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{"not_ready", "ready", "offered", "on_call", "wrap_up", "ready"}, states)
}

// Ring no answer: the first agent does not pick up, the call goes to the
// next one and keeps its place; the first is made not ready ("missed call").
func TestRingNoAnswerGoesToNextAgent(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	boris := n.agent("boris")
	call := dialSupport(t, n, "")

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing) // linear: anna first
	var snap acd.Snapshot
	require.Equal(t, 200, n.getJSON("/api/v1/queues", &snap))
	require.Equal(t, "support", snap.Queues[0].Name)
	require.Equal(t, 1, snap.Queues[0].Ringing, "supervisors see the call ringing")
	cancelled := waitMsg[softphone.RingCancel](t, anna, softphone.TypeRingCancel)
	require.Equal(t, ring.CallID, cancelled.CallID)
	require.Equal(t, "timeout", cancelled.Reason)
	waitState(t, anna, softphone.StateNotReady)

	ring2 := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
	require.Equal(t, ring.CallID, ring2.CallID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring2.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)
	require.NoError(t, call.Hangup(ctx))
	ended := waitMsg[softphone.Call](t, boris, softphone.TypeCall)
	require.Equal(t, "caller", ended.EndedBy)
}

// A caller who hangs up while the agent's phone rings withdraws the offer at
// once, and the agent is ready again.
func TestCallerHangsUpWhileRinging(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	call := dialSupport(t, n, "")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, call.Hangup(ctx))
	cancelled := waitMsg[softphone.RingCancel](t, anna, softphone.TypeRingCancel)
	require.Equal(t, ring.CallID, cancelled.CallID)
	require.Equal(t, "caller_hangup", cancelled.Reason)
	waitState(t, anna, softphone.StateReady)
	d := n.waitEnded(call.CallID())
	require.Equal(t, "abandoned", d.Call.Outcome)
	require.Equal(t, "1", n.metric(`hotline_queue_calls_total{outcome="abandoned",queue="support"}`))
	require.Equal(t, "1", n.metric(`hotline_queue_wait_seconds_count{outcome="abandoned",queue="support"}`))
	require.Equal(t, "1", n.metric(`hotline_queue_offered_total{queue="support"}`), "offered as it joined the queue")
	require.Eventually(t, func() bool { return n.metric(`hotline_agents{state="ready"}`) == "1" },
		3*time.Second, 100*time.Millisecond, "the agent gauge follows the ACD")
}

// An agent cannot take another agent's offer or act on their call: the
// command is refused (forbidden) and logged.
func TestAnotherAgentsCallIsForbidden(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	boris := n.agent("boris")
	dialSupport(t, n, "")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	e := waitMsg[softphone.Error](t, boris, softphone.TypeError)
	require.Equal(t, softphone.CodeForbidden, e.Code)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	require.NoError(t, boris.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	require.Equal(t, softphone.CodeForbidden, waitMsg[softphone.Error](t, boris, softphone.TypeError).Code)

	// Over HTTP: an agent may not read the call list, and a wrong password is refused.
	_, status := n.login("anna", "wrong")
	require.Equal(t, http.StatusUnauthorized, status)
}

// Blind transfer to a named agent: anna answers, asks for an agent and a
// queue that do not exist (refused; the call stays hers and she still hears
// the caller),
// then transfers to boris, who is offered the call alone, accepts, and
// talks with the caller both ways while anna no longer hears them. The call
// row ends with boris as its agent and the transfer among its events.
func TestAgentTransfersToAgent(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna, welcome := n.agentWelcome("anna")
	require.Equal(t, []string{"support", "billing", "operator"}, welcome.Queues, "welcome lists the transfer targets")
	require.Equal(t, []string{"boris"}, welcome.Agents, "…the other agents, not anna herself")
	boris := n.agent("boris")
	call := dialSupport(t, n, testSerial)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// say plays a tone to the hotline from the caller's phone, in the
	// background; the returned channel is closed when it has finished.
	say := func(hz float64) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = call.Say(ctx, media.Tone([]float64{hz}, 2*time.Second, 0.3))
		}()
		return done
	}

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing) // linear: anna first
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	anna.SetTone(1000)
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond))

	require.NoError(t, anna.Send(ctx, softphone.Transfer{CallID: ring.CallID, Agent: "nobody"}))
	refused := waitMsg[softphone.Error](t, anna, softphone.TypeError)
	require.Equal(t, softphone.CodeInvalid, refused.Code)
	require.Equal(t, softphone.TypeTransfer, refused.Ref)
	require.Contains(t, refused.Message, `no agent "nobody"`)
	require.NoError(t, anna.Send(ctx, softphone.Transfer{CallID: ring.CallID, Queue: "nowhere"}))
	refused = waitMsg[softphone.Error](t, anna, softphone.TypeError)
	require.Equal(t, softphone.CodeInvalid, refused.Code)
	require.Contains(t, refused.Message, `no queue "nowhere"`)
	said := say(600)
	require.Eventually(t, func() bool { return anna.Heard(600, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "after a refused transfer the caller still talks to anna")
	<-said

	require.NoError(t, anna.Send(ctx, softphone.Transfer{CallID: ring.CallID, Agent: "boris"}))
	ended := waitMsg[softphone.Call](t, anna, softphone.TypeCall)
	require.Equal(t, softphone.CallEnded, ended.Status)
	require.Equal(t, "transfer", ended.EndedBy)
	waitState(t, anna, softphone.StateWrapUp)

	ring2 := waitMsg[softphone.Ring](t, boris, softphone.TypeRing)
	require.Equal(t, ring.CallID, ring2.CallID)
	require.Equal(t, testSerial, ring2.Vars["serial"], "the screen pop goes along")
	require.NoError(t, boris.Send(ctx, softphone.Accept{CallID: ring2.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, boris, softphone.TypeCall).Status)

	boris.SetTone(1400)
	require.NoError(t, call.WaitTone(ctx, 1400, 200*time.Millisecond), "boris's voice reaches the caller")
	said = say(800)
	require.Eventually(t, func() bool { return boris.Heard(800, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller's voice never reached boris")
	require.Less(t, anna.Heard(800, 200*time.Millisecond), 0.001, "anna no longer hears the caller")
	<-said

	require.NoError(t, call.Hangup(ctx))
	require.Equal(t, "caller", waitMsg[softphone.Call](t, boris, softphone.TypeCall).EndedBy)
	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "boris", d.Call.Agent, "the row's agent is the last one")
	var events []string
	for _, e := range d.Events {
		switch e.Kind {
		case "offered", "agent_answered", "transferred", "transfer_lapsed":
			events = append(events, e.Kind+" "+e.Detail)
		}
	}
	require.Equal(t, []string{
		"offered anna", "agent_answered anna",
		"transferred anna → agent boris",
		"offered boris", "agent_answered boris",
	}, events)
	require.Equal(t, "1", n.metric(`hotline_queue_calls_total{outcome="answered",queue="support"}`),
		"one queued call, answered once: waiting for a named agent is no second stay in the queue")
	require.Equal(t, "1", n.metric(`hotline_queue_offered_total{queue="support"}`),
		"offered once: a transfer to a named agent does not join the queue again")
}

// The bridge keeps the agent's audio one RTP stream across hold and a new
// peer connection (a reloaded page makes one): the numbering goes on, and
// the audio crosses both ways again after each.
func TestBridgeSurvivesHoldAndReconnect(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	call := dialSupport(t, n, testSerial)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// talk checks that audio crosses both ways, with tones of its own.
	talk := func(toAgent, toCaller float64, when string) {
		t.Helper()
		anna.SetTone(toCaller)
		require.NoError(t, call.WaitTone(ctx, toCaller, 200*time.Millisecond), "the agent's voice reaches the caller %s", when)
		said := make(chan struct{})
		go func() {
			defer close(said)
			_ = call.Say(ctx, media.Tone([]float64{toAgent}, 2*time.Second, 0.3))
		}()
		require.Eventually(t, func() bool { return anna.Heard(toAgent, 200*time.Millisecond) > 0.01 },
			5*time.Second, 50*time.Millisecond, "the caller's voice never reached the agent %s", when)
		<-said
	}

	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	talk(600, 1000, "after answering")

	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: ring.CallID, On: true}))
	require.Equal(t, softphone.CallHeld, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	waitState(t, anna, softphone.StateOnHold)
	require.NoError(t, anna.Send(ctx, softphone.Hold{CallID: ring.CallID, On: false}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	talk(700, 1100, "after hold")

	require.NoError(t, anna.Connect(ctx), "a new peer connection during the call")
	talk(800, 1200, "after a new peer connection")

	st := anna.Stream()
	require.Greater(t, st.Packets, int64(100))
	require.Zero(t, st.Misnumbered, "sequence numbers and timestamps go on as one stream, across the new peer connection too: %+v", st)
	require.Equal(t, int64(1), st.SSRCChanges, "each peer connection has its own SSRC: %+v", st)

	require.NoError(t, call.Hangup(ctx))
	d := n.waitEnded(call.CallID())
	var kinds []string
	for _, e := range d.Events {
		if e.Kind == "held" || e.Kind == "resumed" {
			kinds = append(kinds, e.Kind)
		}
	}
	require.Equal(t, []string{"held", "resumed"}, kinds, "hold is in the call's events")
}

// The agent socket takes a signed-in agent's session, never an API token,
// as the protocol doc says.
func TestAgentSocketRefusesTokens(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := agentclient.Dial(ctx, "ws://"+n.HTTPAddr()+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Authorization": {"Bearer " + n.token}}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "403")
}

// The ring says who calls: the number, and their earlier calls of the day
// from the calls table (the first call hung up while it rang: abandoned).
func TestRingTellsCallerHistory(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	first := dialSupport(t, n, "")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NotNil(t, ring.Caller)
	require.Equal(t, ring.From, ring.Caller.Number)
	require.Zero(t, ring.Caller.CallsToday, "the first call of the day")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, first.Hangup(ctx))
	require.Equal(t, "caller_hangup", waitMsg[softphone.RingCancel](t, anna, softphone.TypeRingCancel).Reason)
	require.Eventually(t, func() bool {
		c, _, err := n.store.GetCall(ctx, ring.CallID)
		return err == nil && c.Outcome == "abandoned"
	}, 10*time.Second, 50*time.Millisecond, "the first call's row is written")

	second := dialSupport(t, n, "")
	ring2 := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	require.NotEqual(t, ring.CallID, ring2.CallID)
	require.Equal(t, &softphone.Caller{Number: ring.From, CallsToday: 1, LastCallAt: ring2.Caller.LastCallAt,
		LastOutcome: "abandoned"}, ring2.Caller)
	require.InDelta(t, time.Now().UnixMilli(), ring2.Caller.LastCallAt, float64(time.Minute.Milliseconds()))
	require.NoError(t, second.Hangup(ctx))
}
