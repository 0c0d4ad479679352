package web_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// The warm transfer on the page, from both sides: the agent on a call
// picks a colleague and consults them while the caller holds, then
// completes; the colleague sees the offer with the caller, accepts, and
// ends up with the call. In English and Russian, with screenshots.
func TestAgentPageConsult(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	dir := screenshotDir(t)
	now := func() int64 { return time.Now().UnixMilli() }

	t.Run("the agent on the call consults and completes", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		w := welcome(softphone.StateReady)
		w.Agents, w.Consult = []string{"boris", "vera"}, true
		c := signIn(t, p, b, w)
		p.WaitText("#state", "Ready")
		c.send(t, ring("call-1"))
		p.WaitVisible("#ring")
		p.Click("#accept")
		c.expect(t, softphone.TypeAccept)
		c.send(t, softphone.State{State: softphone.StateOnCall, Since: now()})
		call := softphone.Call{CallID: "call-1", Status: softphone.CallConnected, From: "+15551234567", Queue: "support"}
		c.send(t, call)
		p.WaitVisible("#call")
		p.WaitVisible("#consult-form")
		require.Equal(t, []string{"boris", "vera"}, browsertest.Eval[[]string](p,
			`[...document.querySelectorAll('#consult-agent option:not([value=""])')].map((o) => o.value)`), "the other agents to consult")

		// Refused (boris is not ready): the page says why, the call goes on.
		p.SetValue("#consult-agent", "boris")
		p.Click("#consult")
		require.Equal(t, softphone.Consult{CallID: "call-1", Agent: "boris"}, c.expect(t, softphone.TypeConsult))
		c.send(t, softphone.Error{Code: softphone.CodeInvalid, Message: `agent "boris" is not ready (on_call)`, Ref: softphone.TypeConsult})
		p.WaitText("#error", "No consultation")
		require.Contains(t, p.Text("#error"), `agent "boris" is not ready`)

		p.SetValue("#consult-agent", "vera")
		p.Click("#consult")
		require.Equal(t, softphone.Consult{CallID: "call-1", Agent: "vera"}, c.expect(t, softphone.TypeConsult))
		c.send(t, softphone.Consultation{CallID: "call-1", Role: softphone.ConsultInitiator, Status: softphone.ConsultRinging, Agent: "vera"})
		c.send(t, softphone.State{State: softphone.StateConsult, Since: now()})
		p.WaitVisible("#consult-panel")
		require.Equal(t, "Calling vera… The caller is on hold.", p.Text("#consult-title"))
		require.False(t, p.Visible("#consult-complete"), "nothing to complete before vera answers")
		require.True(t, p.Visible("#consult-cancel"))
		require.False(t, p.Visible("#consult-form"), "one consultation at a time")
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('hold').disabled`), "hold waits for the consultation")
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('transfer').disabled`))
		p.WaitText("#state", "Consulting")

		c.send(t, softphone.Consultation{CallID: "call-1", Role: softphone.ConsultInitiator, Status: softphone.ConsultTalking, Agent: "vera"})
		p.WaitText("#consult-title", "Talking with vera")
		p.WaitVisible("#consult-complete")
		for _, lang := range []string{"en", "ru"} {
			p.SetValue("#lang", lang)
			shoot(t, p, dir, "consult-initiator-1366-"+lang, 1366, 900)
			shoot(t, p, dir, "consult-initiator-420-"+lang, 420, 860)
		}
		require.Equal(t, "Разговор с оператором vera. Абонент на удержании.", p.Text("#consult-title"))
		require.Equal(t, "Перевести звонок", p.Text("#consult-complete"))
		p.SetValue("#lang", "en")
		p.SetViewport(1366, 900)

		p.Click("#consult-complete")
		require.Equal(t, softphone.ConsultComplete{CallID: "call-1"}, c.expect(t, softphone.TypeConsultComplete))
		c.send(t, softphone.Consultation{CallID: "call-1", Role: softphone.ConsultInitiator, Status: softphone.ConsultEnded, Agent: "vera", Reason: "completed"})
		call.Status, call.EndedBy = softphone.CallEnded, "transfer"
		c.send(t, call)
		c.send(t, softphone.State{State: softphone.StateWrapUp, Since: now()})
		p.WaitVisible("#wrapup")
		p.WaitHidden("#consult-panel")
		require.False(t, p.Visible("#call"))
		require.NotContains(t, p.Text("#notice"), "{", "no raw placeholder")
		require.False(t, browsertest.Eval[bool](p, `document.getElementById('hold').disabled`), "the next call may hold")
	})

	t.Run("the consulted agent accepts and gets the call", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		w := welcome(softphone.StateReady)
		w.Agents, w.Consult = []string{"anna"}, true
		c := signIn(t, p, b, w)
		p.WaitText("#state", "Ready")

		c.send(t, softphone.State{State: softphone.StateConsult, Since: now()})
		offer := softphone.Consultation{CallID: "call-7", Role: softphone.ConsultTarget, Status: softphone.ConsultRinging, Agent: "anna",
			From: "+15551234567", Queue: "support", TimeoutMS: 15000}
		c.send(t, offer)
		p.WaitVisible("#consult-panel")
		require.Equal(t, "anna asks to consult you about a call", p.Text("#consult-title"))
		require.Equal(t, "Caller: +1 555 123 4567", p.Text("#consult-caller"))
		require.True(t, p.Visible("#consult-accept"))
		require.True(t, p.Visible("#consult-reject"))
		require.False(t, p.Visible("#consult-complete"), "only the agent on the call completes")
		p.WaitTrue(`hotlineAgent.ringing()`)
		for _, lang := range []string{"en", "ru"} {
			p.SetValue("#lang", lang)
			shoot(t, p, dir, "consult-offer-1366-"+lang, 1366, 900)
			shoot(t, p, dir, "consult-offer-420-"+lang, 420, 860)
		}
		require.Equal(t, "anna просит консультацию по звонку", p.Text("#consult-title"))
		p.SetValue("#lang", "en")
		p.SetViewport(1366, 900)

		p.Click("#consult-accept")
		require.Equal(t, softphone.ConsultAccept{CallID: "call-7"}, c.expect(t, softphone.TypeConsultAccept))
		offer.Status = softphone.ConsultTalking
		c.send(t, offer)
		p.WaitText("#consult-title", "Consulting with anna")
		p.WaitVisible("#consult-leave")
		require.False(t, p.Visible("#consult-accept"))
		p.WaitTrue(`!hotlineAgent.ringing()`)

		// anna completes: the consultation ends and the call is this agent's.
		offer.Status, offer.Reason = softphone.ConsultEnded, "completed"
		c.send(t, offer)
		p.WaitHidden("#consult-panel")
		p.WaitText("#notice", "The caller is now yours.")
		c.send(t, softphone.State{State: softphone.StateOnCall, Since: now()})
		c.send(t, softphone.Call{CallID: "call-7", Status: softphone.CallConnected, From: "+15551234567", Queue: "support"})
		p.WaitVisible("#call")
		require.Equal(t, "+1 555 123 4567", p.Text("#call-from"))
		p.WaitText("#state", "On a call")

		// A second consultation, rejected here: the page says nothing is left to do.
		c.send(t, softphone.State{State: softphone.StateReady, Since: now()})
		offer = softphone.Consultation{CallID: "call-8", Role: softphone.ConsultTarget, Status: softphone.ConsultRinging, Agent: "anna", From: "1002"}
		c.send(t, offer)
		p.WaitVisible("#consult-reject")
		p.Click("#consult-reject")
		require.Equal(t, softphone.ConsultReject{CallID: "call-8"}, c.expect(t, softphone.TypeConsultReject))
		offer.Status, offer.Reason = softphone.ConsultEnded, "rejected"
		c.send(t, offer)
		p.WaitHidden("#consult-panel")
		p.WaitTrue(`!hotlineAgent.ringing()`)
	})

	t.Run("a page reloaded during a consultation shows it", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		w := welcome(softphone.StateConsult)
		w.Agents, w.Consult = []string{"anna"}, true
		w.Consultation = &softphone.Consultation{CallID: "call-9", Role: softphone.ConsultTarget, Status: softphone.ConsultTalking,
			Agent: "anna", From: "+15551234567"}
		c := signIn(t, p, b, w)
		p.WaitVisible("#consult-panel")
		require.Equal(t, "Consulting with anna about a call", p.Text("#consult-title"))
		require.True(t, p.Visible("#consult-leave"))
		p.Click("#consult-leave")
		require.Equal(t, softphone.ConsultReject{CallID: "call-9"}, c.expect(t, softphone.TypeConsultReject))
	})
}
