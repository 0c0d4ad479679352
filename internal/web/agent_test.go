package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// signIn goes through the sign-in page to the agent page (?audio=raw, as
// tests with a fake tone need) and answers the page's hello with welcome.
// The fake backend answers no WebRTC offer, so the page's audio-trouble
// retries are put off for the test (audio_connect_ms: an hour).
func signIn(t *testing.T, p *browsertest.Page, b *backend, welcome softphone.Welcome) *agentConn {
	t.Helper()
	p.Open(b.URL + "/agent/?audio=raw&audio_connect_ms=3600000")
	// No session yet: the page sends the agent to the sign-in page.
	p.WaitVisible("#login-submit")
	p.Type("#login-user", testUser)
	p.Type("#login-pass", testPassword)
	p.Click("#login-submit")
	p.WaitVisible("#ready")
	require.Contains(t, browsertest.Eval[string](p, `location.search`), "audio=raw", "the page came back with its query")
	c := b.next(t)
	c.expect(t, softphone.TypeHello)
	c.send(t, welcome)
	return c
}

func welcome(state string) softphone.Welcome {
	return softphone.Welcome{
		Agent:   softphone.AgentInfo{ID: testUser, Name: testName},
		State:   state,
		Since:   time.Now().Add(-65 * time.Second).UnixMilli(),
		Reasons: []string{"break", "lunch", "missed_call"},
	}
}

func ring(id string) softphone.Ring {
	return softphone.Ring{
		CallID:    id,
		From:      "+15551234567",
		Queue:     "support",
		Language:  "ru",
		Vars:      map[string]string{"serial": "SN-4242", "product": "router"},
		IVRPath:   []string{"language: 2", "technical support: 1"},
		TimeoutMS: 20000,
		Tickets:   []softphone.Ticket{{Number: "T-17", Subject: "No internet", Status: "open"}},
	}
}

func TestAgentPage(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{MicToneHz: 1000})

	t.Run("audio both ways with the softphone hub", func(t *testing.T) { testAudioBothWays(t, br) })

	t.Run("sign-in errors", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		p.Open(b.URL + "/login")
		p.Type("#login-user", testUser)
		p.Type("#login-pass", "wrong")
		p.Click("#login-submit")
		require.Equal(t, "Wrong user name or password.", p.WaitText("#login-error", "Wrong"))
		require.Empty(t, browsertest.Eval[string](p, `document.getElementById('login-pass').value`), "a refused password is cleared")

		b.retryAfter.Store(17)
		p.Type("#login-pass", testPassword)
		p.Click("#login-submit")
		p.WaitText("#login-error", "Try again in 17 s")
		require.Contains(t, browsertest.Eval[string](p, `location.pathname`), "/login", "a throttled sign-in stays on the page")
	})

	t.Run("ready, ring, accept, cancel", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		c := signIn(t, p, b, welcome(softphone.StateNotReady))
		require.Equal(t, testName, p.WaitText("#agent-name", testName))
		p.WaitText("#state", "Not ready")
		p.WaitText("#state-timer", "1:0") // since 65 s ago
		require.Equal(t, "Connected", p.Text("#conn"))

		// The page offers WebRTC on its own right after welcome.
		offer := c.expect(t, softphone.TypeWebRTCOffer).(softphone.WebRTCOffer)
		require.Contains(t, offer.SDP, "m=audio")
		require.Contains(t, offer.SDP, "PCMU")

		// Automatic reasons are not offered in the list.
		require.Equal(t, []string{"break", "lunch"}, browsertest.Eval[[]string](p,
			`[...document.querySelectorAll('#reason option:not([value=""])')].map((o) => o.value)`))

		p.Click("#ready")
		c.expect(t, softphone.TypeReady)
		c.send(t, softphone.State{State: softphone.StateReady, Since: time.Now().UnixMilli()})
		p.WaitText("#state", "Ready")
		p.WaitText("#state-timer", "0:0")
		p.WaitHidden("#sound-hint") // after a click the page may make sound

		c.send(t, ring("call-1"))
		p.WaitVisible("#ring")
		require.Equal(t, "+1 555 123 4567", p.Text("#ring-from"), "the calling number, formatted")
		require.Equal(t, "SN-4242", p.Text("#ring-serial"))
		require.Equal(t, "Russian", p.Text("#ring-language"))
		require.Equal(t, "support", p.Text("#ring-queue"))
		require.Equal(t, "language: 2 → technical support: 1", p.Text("#ring-ivr"))
		require.Contains(t, p.Text("#ring-vars"), "router")
		require.Contains(t, p.Text("#ring-tickets"), "T-17 — No internet (open)")
		require.True(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`), "the ring sound plays")
		require.Equal(t, "☎ +1 555 123 4567 — Incoming call", browsertest.Eval[string](p, `document.title`))
		require.NotContains(t, p.Text("body"), "{", "no raw JSON on screen")

		p.Click("#accept")
		acc := c.expect(t, softphone.TypeAccept).(softphone.Accept)
		require.Equal(t, "call-1", acc.CallID)
		require.False(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`), "the ring sound stops on accept")

		// The caller hung up before the accept reached the server.
		c.send(t, softphone.RingCancel{CallID: "call-1", Reason: "caller_hangup"})
		p.WaitHidden("#ring")
		p.WaitText("#notice", "The caller hung up before you answered.")
		require.Equal(t, "Hotline — agent", browsertest.Eval[string](p, `document.title`))

		// A second offer is rejected, then not ready with a reason.
		c.send(t, ring("call-2"))
		p.WaitVisible("#ring")
		require.True(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`))
		p.Click("#reject")
		require.Equal(t, "call-2", c.expect(t, softphone.TypeReject).(softphone.Reject).CallID)
		p.WaitHidden("#ring")
		require.False(t, browsertest.Eval[bool](p, `hotlineAgent.ringing()`))

		p.SetValue("#reason", "lunch")
		p.Click("#not-ready")
		require.Equal(t, "lunch", c.expect(t, softphone.TypeNotReady).(softphone.NotReady).Reason)
		c.send(t, softphone.State{State: softphone.StateNotReady, Reason: "lunch", Since: time.Now().UnixMilli()})
		p.WaitText("#state", "Not ready")
		p.WaitText("#state-reason", "Lunch")

		c.send(t, softphone.Error{Code: softphone.CodeForbidden, Message: "not your call", Ref: "accept"})
		p.WaitText("#error", "That call is not yours.")

		for _, line := range p.Console() {
			require.False(t, strings.HasPrefix(line, "uncaught") || strings.HasPrefix(line, "console.error"), "page error: %s", line)
		}
	})

	t.Run("call controls and wrap-up", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		w := welcome(softphone.StateReady)
		w.Queues, w.Agents = []string{"support", "billing"}, []string{"bob", "carol"}
		c := signIn(t, p, b, w)
		p.WaitText("#state", "Ready")
		c.send(t, ring("call-7"))
		p.WaitVisible("#ring")
		p.Click("#accept")
		c.expect(t, softphone.TypeAccept)
		c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
		call := softphone.Call{CallID: "call-7", Status: softphone.CallConnected, From: "+15551234567",
			Queue: "support", Language: "en", Vars: map[string]string{"serial": "SN-4242"}}
		c.send(t, call)
		p.WaitVisible("#call")
		p.WaitHidden("#ring")
		require.Equal(t, "+1 555 123 4567", p.Text("#call-from"))
		require.Equal(t, "SN-4242", p.Text("#call-serial"))
		require.Equal(t, "Connected", p.Text("#call-status"))
		p.WaitText("#state", "On a call")

		p.Click("#mute")
		require.True(t, browsertest.Eval[bool](p, `hotlineAgent.muted()`))
		require.Equal(t, "Unmute", p.Text("#mute"))
		require.Equal(t, softphone.Mute{CallID: "call-7", On: true}, c.expect(t, softphone.TypeMute), "the server marks the recording")
		p.Click("#mute")
		require.False(t, browsertest.Eval[bool](p, `hotlineAgent.muted()`))
		require.Equal(t, softphone.Mute{CallID: "call-7", On: false}, c.expect(t, softphone.TypeMute))
		require.False(t, p.Visible("#rec-pause"), "a call that is not recorded has no pause button")

		p.Click("#hold")
		h := c.expect(t, softphone.TypeHold).(softphone.Hold)
		require.Equal(t, softphone.Hold{CallID: "call-7", On: true}, h)
		call.Status = softphone.CallHeld
		c.send(t, call)
		p.WaitText("#call-status", "On hold")
		require.Equal(t, "Resume", p.Text("#hold"))
		p.Click("#hold")
		require.False(t, c.expect(t, softphone.TypeHold).(softphone.Hold).On)
		call.Status = softphone.CallConnected
		c.send(t, call)
		p.WaitText("#call-status", "Connected")

		p.Click(`#keypad button[data-digit="5"]`)
		p.Click(`#keypad button[data-digit="#"]`)
		require.Equal(t, "5", c.expect(t, softphone.TypeDTMF).(softphone.DTMF).Digits)
		require.Equal(t, "#", c.expect(t, softphone.TypeDTMF).(softphone.DTMF).Digits)
		p.WaitText("#dtmf-sent", "5#")

		// The transfer list offers the queues, or the agents from welcome
		// (no overview here: no states).
		targets := func() []string {
			return browsertest.Eval[[]string](p, `[...document.querySelectorAll('#transfer-target option:not([value=""])')].map((o) => o.value)`)
		}
		require.Equal(t, "SELECT", browsertest.Eval[string](p, `document.getElementById('transfer-target').tagName`), "a list, not a text box")
		p.SetValue("#transfer-kind", "queue")
		require.Equal(t, []string{"support", "billing"}, targets())
		p.SetValue("#transfer-kind", "agent")
		require.Equal(t, []string{"bob", "carol"}, targets())

		// A refused transfer to an agent says why; the call stays on screen.
		p.SetValue("#transfer-target", "bob")
		p.Click("#transfer")
		tr := c.expect(t, softphone.TypeTransfer).(softphone.Transfer)
		require.Equal(t, softphone.Transfer{CallID: "call-7", Agent: "bob"}, tr)
		c.send(t, softphone.Error{Code: softphone.CodeInvalid, Message: `agent "bob" is not signed in`, Ref: softphone.TypeTransfer})
		require.Contains(t, p.WaitText("#error", "not transferred"), `agent "bob" is not signed in`)
		require.True(t, p.Visible("#call"), "the call view stays")

		p.SetValue("#transfer-kind", "queue")
		p.SetValue("#transfer-target", "billing")
		p.Click("#transfer")
		tr = c.expect(t, softphone.TypeTransfer).(softphone.Transfer)
		require.Equal(t, softphone.Transfer{CallID: "call-7", Queue: "billing"}, tr)
		p.WaitHidden("#error") // a new transfer clears the old refusal

		p.Click("#hangup")
		require.Equal(t, "call-7", c.expect(t, softphone.TypeHangup).(softphone.Hangup).CallID)
		call.Status, call.EndedBy = softphone.CallEnded, "agent"
		c.send(t, call)
		c.send(t, softphone.State{State: softphone.StateWrapUp, Since: time.Now().UnixMilli()})
		p.WaitHidden("#call")
		p.WaitVisible("#wrapup")
		p.WaitText("#state", "Wrap-up")
		p.Type("#wrapup-note", "Router reset; works now.")
		p.SetValue("#wrapup-disposition", "resolved")
		p.Click("#wrapup-done")
		wd := c.expect(t, softphone.TypeWrapupDone).(softphone.WrapupDone)
		require.Equal(t, softphone.WrapupDone{CallID: "call-7", Note: "Router reset; works now.", Disposition: "resolved"}, wd)
		c.send(t, softphone.State{State: softphone.StateReady, Since: time.Now().UnixMilli()})
		p.WaitHidden("#wrapup")
		p.WaitText("#state", "Ready")
	})

	t.Run("recording: pause, mute, recent calls", func(t *testing.T) { testRecordingControls(t, br) })

	t.Run("tickets: screen pop, attach, search, new ticket, disposition", func(t *testing.T) { testTicketPanel(t, br) })

	t.Run("tickets in russian", func(t *testing.T) { testTicketPanelRussian(t, br) })

	t.Run("reconnect re-attaches the live call", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		c := signIn(t, p, b, welcome(softphone.StateReady))
		p.WaitText("#state", "Ready")
		c.expect(t, softphone.TypeWebRTCOffer)

		// The server goes away; the page reconnects by itself and the new
		// welcome carries the live call.
		require.NoError(t, c.c.Close(websocket.StatusGoingAway, "restart"))
		p.WaitText("#conn", "reconnecting")
		c2 := b.next(t)
		c2.expect(t, softphone.TypeHello)
		w := welcome(softphone.StateOnCall)
		w.Call = &softphone.Call{CallID: "call-9", Status: softphone.CallConnected, From: "+4930123456", Queue: "support",
			Vars: map[string]string{"serial": "SN-1"}, Recording: softphone.RecordingOn}
		c2.send(t, w)
		// The reloaded page's microphone is on: a mute the recording marked ends.
		require.Equal(t, softphone.Mute{CallID: "call-9", On: false}, c2.expect(t, softphone.TypeMute))
		p.WaitVisible("#call")
		require.Equal(t, "● Recording", p.Text("#rec-status"))
		require.Equal(t, "+4930123456", p.Text("#call-from"), "a number of another plan as dialled")
		p.WaitText("#state", "On a call")
		p.WaitText("#conn", "Connected")
		// A new WebSocket session means a new peer connection and offer.
		c2.expect(t, softphone.TypeWebRTCOffer)
		p.Click("#hangup")
		require.Equal(t, "call-9", c2.expect(t, softphone.TypeHangup).(softphone.Hangup).CallID)

		// The same agent opened another tab: this page stops and says so.
		require.NoError(t, c2.c.Close(websocket.StatusCode(4000), "replaced"))
		p.WaitText("#error", "another page or tab")
	})

	t.Run("russian", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		c := signIn(t, p, b, welcome(softphone.StateReady))
		p.WaitText("#state", "Ready")
		p.SetValue("#lang", "ru")
		p.WaitText("#state", "Готов")
		require.Equal(t, "Не готов", p.Text("#not-ready"))
		require.Equal(t, "Выйти", p.Text("#logout"))
		require.Equal(t, []string{"Перерыв", "Обед"}, browsertest.Eval[[]string](p,
			`[...document.querySelectorAll('#reason option:not([value=""])')].map((o) => o.textContent)`))
		c.send(t, ring("call-3"))
		p.WaitVisible("#ring")
		require.Equal(t, "Принять", p.Text("#accept"))
		require.Equal(t, "русский", p.Text("#ring-language"))

		// The choice is remembered on the next load, and a page reloaded
		// while ringing rings again.
		p.Reload()
		c2 := b.next(t)
		c2.expect(t, softphone.TypeHello)
		w := welcome(softphone.StateOffered)
		r := ring("call-3")
		w.Ring = &r
		c2.send(t, w)
		p.WaitText("#state", "Входящий звонок")
		p.WaitVisible("#ring")
		require.Equal(t, "+1 555 123 4567", p.Text("#ring-from"), "the calling number, formatted")
		p.Click("#reject")
		c2.expect(t, softphone.TypeReject)
		c2.send(t, softphone.State{State: softphone.StateReady, Since: time.Now().UnixMilli()})
		p.WaitText("#state", "Готов")
		p.SetValue("#lang", "en")
		p.WaitText("#state", "Ready")

		// Sign out: the CSRF token goes with it and the page leaves.
		p.Click("#logout")
		p.WaitVisible("#login-submit")
		require.EqualValues(t, 1, b.logouts.Load())
		require.True(t, strings.HasSuffix(browsertest.Eval[string](p, `location.pathname`), "/login"))
	})
}
