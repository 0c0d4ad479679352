package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// Warm transfer to a colleague in a real browser: anna (the pure-Go
// softphone) has a caller and consults boris, whose page in headless
// Chromium rings with the caller and accepts; boris and anna hear each
// other while the caller hears the hold music; anna completes, and the
// caller and boris's page hear each other both ways while anna no longer
// hears the caller.
func TestBrowserConsultCompletes(t *testing.T) {
	n := startTestNode(t, nodeOptions{extra: agentQueues})
	anna := n.agent("anna")
	password := n.addUser("boris", store.RoleAgent)
	br := browsertest.Start(t, browsertest.Options{MicToneHz: micHz})
	p := br.NewPage(t)
	signInPage(t, p, "http://"+n.HTTPAddr()+"/agent/?audio=raw", "boris", password)
	p.WaitVisible("#ready")
	p.WaitText("#conn", "Connected")
	p.Click("#ready")
	waitPageState(t, p, softphone.StateReady, "Ready")
	p.WaitTrue(`hotlineAgent.rtc() === 'connected'`)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	call := dialSupport(t, n, testSerial)
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing) // linear: anna first
	id := ring.CallID
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: id}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	anna.SetTone(1400)
	require.NoError(t, call.WaitTone(ctx, 1400, 200*time.Millisecond), "anna talks to the caller")
	from := callerNumber(t, n, call)

	require.NoError(t, anna.Send(ctx, softphone.Consult{CallID: id, Agent: "boris"}))
	p.WaitVisible("#consult-panel")
	require.Equal(t, "anna asks to consult you about a call", p.Text("#consult-title"))
	require.Equal(t, "Caller: "+from, p.Text("#consult-caller"))
	waitPageState(t, p, softphone.StateConsult, "Consulting")
	require.NoError(t, call.WaitTone(ctx, holdTone, 300*time.Millisecond), "the caller hears the hold music")
	p.Click("#consult-accept")
	for {
		if m := waitMsg[softphone.Consultation](t, anna, softphone.TypeConsultation); m.Status == softphone.ConsultTalking {
			break
		}
	}
	p.WaitText("#consult-title", "Consulting with anna")
	p.WaitRemoteLevel(1400, minLevel) // boris hears anna
	require.Eventually(t, func() bool { return anna.Heard(micHz, 200*time.Millisecond) > 0.01 },
		10*time.Second, 50*time.Millisecond, "anna hears boris's microphone")
	require.Less(t, call.Level(micHz, 200*time.Millisecond), 0.001, "the caller does not hear boris yet")

	require.NoError(t, anna.Send(ctx, softphone.ConsultComplete{CallID: id}))
	p.WaitVisible("#call")
	p.WaitHidden("#consult-panel")
	waitPageState(t, p, softphone.StateOnCall, "On a call")
	require.Equal(t, from, p.Text("#call-from"))
	require.Equal(t, testSerial, p.Text("#call-serial"), "the screen pop goes along")
	waitState(t, anna, softphone.StateWrapUp)

	require.NoError(t, call.WaitTone(ctx, micHz, 200*time.Millisecond), "boris's microphone reaches the caller")
	said := say(ctx, call, callerHz)
	p.WaitRemoteLevel(callerHz, minLevel)
	hearsNoMore(t, anna, callerHz, "anna no longer hears the caller")
	<-said

	p.Click("#hangup")
	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "boris", d.Call.Agent)
}
