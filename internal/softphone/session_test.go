package softphone_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
)

func TestCommandsReachTheDesk(t *testing.T) {
	r := newRig(t, softphone.Config{})
	c, _ := r.dial(t, "anna", agentclient.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	sent := []softphone.Message{
		softphone.Ready{},
		softphone.Accept{CallID: "c1"},
		softphone.Hold{CallID: "c1", On: true},
		softphone.DTMF{CallID: "c1", Digits: "42#"},
		softphone.Transfer{CallID: "c1", Queue: "sales"},
		softphone.Hangup{CallID: "c1"},
		softphone.WrapupDone{CallID: "c1", Note: "ok", Disposition: "solved"},
		softphone.NotReady{Reason: "lunch"},
		softphone.Reject{CallID: "c2"},
	}
	for _, m := range sent {
		require.NoError(t, c.Send(ctx, m))
	}
	for _, want := range sent {
		select {
		case got := <-r.desk.commands:
			require.Equal(t, "anna", got.agent)
			require.Equal(t, want, got.m)
		case <-ctx.Done():
			t.Fatalf("the desk never got %#v", want)
		}
	}
}

func TestCommandErrorsGoBackToTheBrowser(t *testing.T) {
	r := newRig(t, softphone.Config{})
	r.desk.reply = func(m softphone.Message) error {
		if a, ok := m.(softphone.Accept); ok && a.CallID == "theirs" {
			return &softphone.Error{Code: softphone.CodeForbidden, Message: "that call is offered to another agent"}
		}
		return errors.New("database on fire")
	}
	c, _ := r.dial(t, "anna", agentclient.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()

	require.NoError(t, c.Send(ctx, softphone.Accept{CallID: "theirs"}))
	m, err := c.Wait(ctx, softphone.TypeError)
	require.NoError(t, err)
	require.Equal(t, softphone.Error{Code: softphone.CodeForbidden, Ref: "accept", Message: "that call is offered to another agent"}, m)

	require.NoError(t, c.Send(ctx, softphone.Ready{}))
	m, err = c.Wait(ctx, softphone.TypeError)
	require.NoError(t, err)
	e := m.(softphone.Error)
	require.Equal(t, softphone.CodeInternal, e.Code)
	require.NotContains(t, e.Message, "fire", "internal errors stay on the server")
}

func TestBadMessagesKeepTheConnection(t *testing.T) {
	r := newRig(t, softphone.Config{})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	c, err := agentclient.Dial(ctx, r.url+"?agent=anna", agentclient.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	for _, tc := range []struct{ raw, code string }{
		{`{not json`, softphone.CodeBadJSON},
		{`{"v":2,"type":"hello"}`, softphone.CodeVersion},
		{`{"v":1,"type":"dance"}`, softphone.CodeUnknownType},
		{`{"v":1,"type":"ring","call_id":"c1"}`, softphone.CodeUnknownType},
		{`{"v":1,"type":"accept"}`, softphone.CodeInvalid},
		{`{"v":1,"type":"ready"}`, softphone.CodeSequence}, // before hello
	} {
		require.NoError(t, c.SendRaw(ctx, []byte(tc.raw)))
		m, err := c.Wait(ctx, softphone.TypeError)
		require.NoError(t, err)
		require.Equal(t, tc.code, m.(softphone.Error).Code, tc.raw)
	}
	_, err = c.Hello(ctx)
	require.NoError(t, err, "the connection survived bad input")
	require.Empty(t, r.desk.commands)
}

func TestPushedMessagesFollowWelcome(t *testing.T) {
	r := newRig(t, softphone.Config{})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	c, err := agentclient.Dial(ctx, r.url+"?agent=anna", agentclient.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	state := softphone.State{State: softphone.StateReady, Since: 2000}
	require.Eventually(t, func() bool { return r.hub.Send("anna", state) == nil }, waitFor, 5*time.Millisecond)
	require.NoError(t, c.Send(ctx, softphone.Hello{}))
	m, err := c.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, softphone.TypeWelcome, m.Type(), "welcome comes first")
	m, err = c.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, state, m)

	ring := softphone.Ring{CallID: "c1", From: "+100", Queue: "support", TimeoutMS: 15000, Vars: map[string]string{"serial": "SN-7"}}
	require.NoError(t, r.hub.Send("anna", ring))
	m, err = c.Wait(ctx, softphone.TypeRing)
	require.NoError(t, err)
	require.Equal(t, ring, m)

	require.ErrorIs(t, r.hub.Send("bob", state), softphone.ErrNotConnected)
}

func TestHeartbeatTimeoutDetaches(t *testing.T) {
	r := newRig(t, softphone.Config{HeartbeatTimeout: 300 * time.Millisecond})
	c, _ := r.dial(t, "anna", agentclient.Options{PingInterval: -1}) // a frozen page
	select {
	case d := <-r.desk.detached:
		require.Equal(t, detach{"anna", softphone.ReasonDisconnected}, d)
	case <-time.After(waitFor):
		t.Fatal("a silent browser was never detached")
	}
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("the silent browser's socket stayed open")
	}
	leg, err := r.hub.Leg("anna")
	require.NoError(t, err, "the agent keeps their leg until sign-out")
	require.NoError(t, leg.WriteFrame(make([]int16, 160)))
}

func TestClosedTabDetachesAfterGrace(t *testing.T) {
	r := newRig(t, softphone.Config{ReloadGrace: 200 * time.Millisecond})
	c, _ := r.dial(t, "anna", agentclient.Options{})
	require.NoError(t, c.Close())
	select {
	case d := <-r.desk.detached:
		require.Equal(t, detach{"anna", softphone.ReasonDisconnected}, d)
	case <-time.After(waitFor):
		t.Fatal("a closed tab was never detached")
	}
}

func TestReloadKeepsTheLegAndAudio(t *testing.T) {
	r := newRig(t, softphone.Config{ReloadGrace: time.Minute})
	c1, _ := r.dial(t, "anna", agentclient.Options{})
	connect(t, c1)
	leg, err := r.hub.Leg("anna")
	require.NoError(t, err)
	rec := &recorder{}
	leg.SetSink(rec)
	playTone(t, leg, 440)
	c1.SetTone(1000)
	requireTone(t, "before reload", rec.power, 1000)

	require.NoError(t, c1.Close()) // the page goes away mid-call
	c1.SetTone(0)
	c2, _ := r.dial(t, "anna", agentclient.Options{})
	connect(t, c2)
	c2.SetTone(700)

	leg2, err := r.hub.Leg("anna")
	require.NoError(t, err)
	require.Same(t, leg, leg2, "the reloaded page re-attaches the same leg")
	requireTone(t, "agent hears caller after reload", func(hz float64) float64 { return c2.Heard(hz, 300*time.Millisecond) }, 440)
	requireTone(t, "caller hears agent after reload", rec.power, 700)
	require.Empty(t, r.desk.detached, "a reload is not a disconnect")
}

func TestSecondTabReplacesTheFirst(t *testing.T) {
	r := newRig(t, softphone.Config{})
	c1, _ := r.dial(t, "anna", agentclient.Options{})
	c2, _ := r.dial(t, "anna", agentclient.Options{})
	select {
	case <-c1.Done():
	case <-time.After(waitFor):
		t.Fatal("the first tab was not closed")
	}
	require.Equal(t, softphone.StatusReplaced, websocket.CloseStatus(c1.Err()), "%v", c1.Err())

	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	require.NoError(t, r.hub.Send("anna", softphone.State{State: softphone.StateReady}))
	_, err := c2.Wait(ctx, softphone.TypeState)
	require.NoError(t, err, "messages go to the newest tab")
	require.Empty(t, r.desk.detached)
}

func TestSignOutAndClose(t *testing.T) {
	r := newRig(t, softphone.Config{})
	c, _ := r.dial(t, "anna", agentclient.Options{})
	leg, err := r.hub.Leg("anna")
	require.NoError(t, err)

	r.hub.SignOut("anna")
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("sign-out did not close the socket")
	}
	require.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(c.Err()))
	require.ErrorIs(t, leg.WriteFrame(make([]int16, 160)), softphone.ErrLegClosed)
	_, err = r.hub.Leg("anna")
	require.ErrorIs(t, err, softphone.ErrUnknownAgent)

	c2, _ := r.dial(t, "bob", agentclient.Options{})
	require.NoError(t, r.hub.Close())
	require.NoError(t, r.hub.Close(), "Close is idempotent")
	select {
	case <-c2.Done():
	case <-time.After(waitFor):
		t.Fatal("Close did not close the socket")
	}
	require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(c2.Err()))
	require.ErrorIs(t, r.hub.Send("bob", softphone.Pong{}), softphone.ErrClosed)
	_, err = r.hub.Leg("bob")
	require.ErrorIs(t, err, softphone.ErrClosed)
	require.Empty(t, r.desk.detached, "sign-out and shutdown are not disconnects")
}

func TestNoGoroutineLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("session", func(t *testing.T) {
		r := newRig(t, softphone.Config{})
		c, _ := r.dial(t, "anna", agentclient.Options{})
		connect(t, c)
		leg, err := r.hub.Leg("anna")
		require.NoError(t, err)
		playTone(t, leg, 440)
		requireTone(t, "agent hears", func(hz float64) float64 { return c.Heard(hz, 300*time.Millisecond) }, 440)
	})
	// Polled here, not with require.Eventually, whose own goroutines count.
	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if runtime.NumGoroutine() > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after:\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

func TestConfigValidate(t *testing.T) {
	good := softphone.DefaultConfig()
	require.NoError(t, good.Validate())
	bad := softphone.Config{
		UDPAddr:          "nowhere",
		PublicIPs:        []string{"1.2.3"},
		ICEServers:       []softphone.ICEServer{{URLs: []string{"http://x"}}, {URLs: []string{"turn:t.example:3478"}}, {}},
		HeartbeatTimeout: -1,
	}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{
		`softphone.udp_addr: "nowhere" is not an ip:port address`,
		`softphone.public_ips[0]: "1.2.3" is not an IP address`,
		`softphone.ice_servers[0].urls[0]: "http://x" is not a stun:`,
		`softphone.ice_servers[1]: a TURN server needs username and credential`,
		`softphone.ice_servers[2].urls: list at least one`,
		`softphone.heartbeat_timeout: must not be negative`,
	} {
		require.Contains(t, err.Error(), want)
	}
	_, err = softphone.NewHub(bad, newFakeDesk(), nil)
	require.Error(t, err)
}
