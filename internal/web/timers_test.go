package web_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// Honest timers: one call timer, a hold timer that turns amber past the
// queue's limit, a wrap-up countdown, "stay not ready after this call",
// a notice that ends with the wrap-up, a Ready button that does not look
// active while disabled and no reason preselected while ready.
func TestAgentCallTimers(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	p := br.NewPage(t)
	c := signIn(t, p, b, welcome(softphone.StateReady))
	p.WaitText("#state", "Ready")
	require.Empty(t, browsertest.Eval[string](p, `document.getElementById('reason').value`), "no reason preselected while ready")
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('not-ready').disabled`), "not ready waits for a reason")
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('ready').disabled`))
	require.Equal(t, "rgb(229, 231, 235)", browsertest.Eval[string](p, `getComputedStyle(document.getElementById('ready')).backgroundColor`),
		"a disabled Ready is grey, not green")
	p.SetValue("#reason", "lunch")
	require.False(t, browsertest.Eval[bool](p, `document.getElementById('not-ready').disabled`))

	c.send(t, ring("call-1"))
	p.WaitVisible("#ring")
	p.Click("#accept")
	c.expect(t, softphone.TypeAccept)
	c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
	call := softphone.Call{CallID: "call-1", Status: softphone.CallConnected, From: "+15551234567", Queue: "support",
		WrapUpMS: 30000, HoldWarnMS: 1000}
	c.send(t, call)
	p.WaitVisible("#call")
	p.WaitHidden("#state-timer") // one call timer
	require.True(t, p.Visible("#call-timer"))
	p.WaitVisible("#stay-box")

	p.Click("#stay-not-ready")
	require.Equal(t, softphone.NotReady{Reason: "lunch"}, c.expect(t, softphone.TypeNotReady), "kept by the ACD until wrap-up ends")

	call.Status = softphone.CallHeld
	c.send(t, call)
	p.WaitVisible("#hold-timer")
	require.Contains(t, p.Text("#hold-timer"), "on hold 0:0")
	require.False(t, browsertest.Eval[bool](p, `document.getElementById('hold-timer').classList.contains('warn')`))
	p.WaitTrue(`document.getElementById('hold-timer').classList.contains('warn')`) // past 1 s
	call.Status = softphone.CallConnected
	c.send(t, call)
	p.WaitHidden("#hold-timer")

	p.Type("#call-note", "Router rebooted")
	p.Click("#hangup")
	c.expect(t, softphone.TypeHangup)
	call.Status, call.EndedBy = softphone.CallEnded, "agent"
	c.send(t, call)
	p.WaitText("#notice", "You ended the call.")
	c.send(t, softphone.State{State: softphone.StateWrapUp, Since: time.Now().UnixMilli()})
	p.WaitVisible("#wrapup")
	require.Equal(t, "Router rebooted", browsertest.Eval[string](p, `document.getElementById('wrapup-note').value`),
		"the notes of the call carry into wrap-up")
	p.WaitText("#wrapup-countdown", "Not ready in 0:")
	require.Regexp(t, `^Not ready in 0:(30|2\d)$`, p.Text("#wrapup-countdown"), "counts down the queue's 30 s")
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('stay-not-ready').disabled`),
		"changing it in wrap-up would end the wrap-up")
	require.True(t, p.Visible("#notice"))

	c.send(t, softphone.State{State: softphone.StateNotReady, Reason: "lunch", Since: time.Now().UnixMilli()})
	p.WaitHidden("#wrapup")
	p.WaitHidden("#notice") // the notice does not outlive the wrap-up
	p.WaitHidden("#stay-box")
	require.Equal(t, "lunch", browsertest.Eval[string](p, `document.getElementById('reason').value`))
	require.True(t, p.Visible("#state-timer"))
}

// A user who is a member of no queue cannot go ready, and the page says why.
func TestAgentInNoQueue(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	p := br.NewPage(t)
	w := welcome(softphone.StateSignedOut)
	w.NoQueue = true
	signIn(t, p, b, w)
	p.WaitVisible("#no-queue")
	require.Contains(t, p.Text("#no-queue"), "You are in no queue")
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('ready').disabled`))
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('not-ready').disabled`))
	p.SetValue("#lang", "ru")
	p.WaitText("#no-queue", "ни в одной очереди")
}

// The queue strip shows the agent's queues now and their day, from GET
// /api/v1/agent/overview, and reads it again while the page is open.
func TestAgentQueueStrip(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	b.overview.Store([]byte(`{"queues":[{"name":"support","waiting":2,"longest_wait_ms":75000,"ready":1},` +
		`{"name":"billing","waiting":0,"longest_wait_ms":0,"ready":0}],"day":{"handled":7,"aht_s":185,"ready_s":3720}}`))
	p := br.NewPage(t)
	signIn(t, p, b, welcome(softphone.StateReady))
	p.WaitVisible("#strip")
	require.Equal(t, "support: 2 waiting, longest 1:15, 1 ready", p.Text(`#strip-list li[data-queue="support"]`))
	require.Equal(t, "billing: 0 waiting, longest 0:00, 0 ready", p.Text(`#strip-list li[data-queue="billing"]`))
	require.Equal(t, "My day: 7 calls handled · average handle time 3:05 · ready 1:02:00", p.Text("#my-day"))
	b.overview.Store([]byte(`{"queues":[{"name":"support","waiting":0,"longest_wait_ms":0,"ready":2}],"day":null}`))
	p.WaitText(`#strip-list li[data-queue="support"]`, "0 waiting")
	p.WaitHidden("#my-day")
	p.SetValue("#lang", "ru")
	p.WaitText(`#strip-list li[data-queue="support"]`, "ждут 0")
}
