package web_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// demoSteps is the demo flow's path of a caller who pressed 1 (English),
// 1 (technical support) and # (no serial), with the demo's labels.
func demoSteps() []softphone.IVRStep {
	support := map[string]string{"en": "Technical support", "ru": "Техническая поддержка"}
	hidden := map[string]string{"": ""}
	return []softphone.IVRStep{
		{Node: "hours", Type: "hours", Label: hidden},
		{Node: "welcome", Type: "play", Label: hidden},
		{Node: "choose-language", Type: "language", Label: map[string]string{"en": "Language", "ru": "Язык"}, Value: "en"},
		{Node: "main", Type: "menu", Label: hidden},
		{Node: "enter-serial", Type: "collect", Label: support, Var: "serial"},
		{Node: "to-support", Type: "queue", Label: support},
	}
}

// screenshotDir is where the banner tests leave their screenshots for a
// person to look at: $HOTLINE_SCREENSHOTS, else the test's temporary
// directory (removed after the test).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HOTLINE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// shoot saves a screenshot of p at width × height as name.png in dir.
func shoot(t *testing.T, p *browsertest.Page, dir, name string, width, height int) {
	t.Helper()
	p.SetViewport(width, height)
	path := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(path, p.Screenshot(), 0o644))
	t.Logf("screenshot: %s", path)
}

// The call banner speaks the agent's language: what the caller chose from
// the flow's labels, the serial number skipped or not asked, and the
// configured not-ready reasons' own texts; no node id, no raw key.
func TestAgentBannerReadable(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	b.overview.Store([]byte(`{"queues":[{"name":"support","waiting":3,"longest_wait_ms":95000,"ready":0},` +
		`{"name":"billing","waiting":1,"longest_wait_ms":20000,"ready":1}],"day":{"handled":12,"aht_s":240,"ready_s":5400}}`))
	p := br.NewPage(t)
	w := welcome(softphone.StateReady)
	w.Reasons = []string{"break", "paperwork"}
	w.ReasonLabels = map[string]map[string]string{"paperwork": {"en": "Paperwork", "ru": "Работа с документами"}}
	c := signIn(t, p, b, w)
	p.WaitText("#state", "Ready")
	options := `[...document.querySelectorAll('#reason option:not([value=""])')].map((o) => o.textContent)`
	require.Equal(t, []string{"Break", "Paperwork"}, browsertest.Eval[[]string](p, options))

	r := ring("call-1")
	r.Language, r.Vars, r.IVRSteps = "en", map[string]string{"serial": ""}, demoSteps()
	c.send(t, r)
	p.WaitVisible("#ring")
	require.Equal(t, "English → Technical support → serial number skipped", p.Text("#ring-ivr"))
	require.Equal(t, "skipped", p.Text("#ring-serial"))

	p.SetValue("#lang", "ru")
	p.WaitText("#ring-ivr", "Английский")
	require.Equal(t, "Английский → Техническая поддержка → серийный номер пропущен", p.Text("#ring-ivr"))
	require.Equal(t, "пропущен", p.Text("#ring-serial"))
	require.Equal(t, []string{"Перерыв", "Работа с документами"}, browsertest.Eval[[]string](p, options))
	p.SetValue("#lang", "en")

	// Billing asks no serial: "not asked"; a serial given is shown as is.
	c.send(t, softphone.RingCancel{CallID: "call-1", Reason: "taken"})
	p.WaitHidden("#ring")
	r = ring("call-2")
	r.Vars = map[string]string{}
	r.IVRSteps = []softphone.IVRStep{demoSteps()[2], {Node: "to-billing", Type: "queue", Label: map[string]string{"en": "Billing and subscriptions"}},
		{Node: "unlabelled", Type: "play"}}
	c.send(t, r)
	p.WaitVisible("#ring")
	require.Equal(t, "English → Billing and subscriptions → unlabelled", p.Text("#ring-ivr"), "a node without a label shows its id")
	require.Equal(t, "not asked", p.Text("#ring-serial"))

	require.Equal(t, "+1 555 123 4567", p.Text("#ring-from"))
	require.False(t, p.Visible("#ring-history"), "no earlier calls: no line")

	// A caller known from a ticket who called 20 s ago and hung up waiting.
	c.send(t, softphone.RingCancel{CallID: "call-2", Reason: "taken"})
	p.WaitHidden("#ring")
	r = ring("call-3")
	r.Caller = &softphone.Caller{Number: "+74951234567", Name: "Pat Doe", CallsToday: 2,
		LastCallAt: time.Now().Add(-20 * time.Second).UnixMilli(), LastOutcome: "abandoned"}
	c.send(t, r)
	p.WaitVisible("#ring")
	require.Equal(t, "+7 495 123-45-67", p.Text("#ring-from"))
	require.Equal(t, "Pat Doe", p.Text("#ring-name"))
	require.Regexp(t, `^Called 2× before in the last 24 h · last call 2\d s ago, hung up while waiting$`, p.Text("#ring-history"))
	require.Equal(t, "☎ Pat Doe — Incoming call", browsertest.Eval[string](p, `document.title`))
	p.SetValue("#lang", "ru")
	p.WaitText("#ring-history", "Уже звонил")
	require.Regexp(t, `^Уже звонил\(а\) за 24 ч: 2× · последний звонок 2\d с назад, положил\(а\) трубку в очереди$`, p.Text("#ring-history"))
	p.SetValue("#lang", "en")

	// The connected call keeps the readable path.
	p.Click("#accept")
	c.expect(t, softphone.TypeAccept)
	c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
	c.send(t, softphone.Call{CallID: "call-3", Status: softphone.CallConnected, From: "+74951234567", Queue: "support",
		Language: "en", Vars: map[string]string{"serial": "47114715"}, IVRSteps: demoSteps(), Caller: r.Caller})
	p.WaitVisible("#call")
	require.Equal(t, "English → Technical support → serial number skipped", p.Text("#call-ivr"))
	require.Equal(t, "47114715", p.Text("#call-serial"))
	require.Equal(t, "+7 495 123-45-67", p.Text("#call-from"))
	require.Equal(t, "Pat Doe", p.Text("#call-name"))
	require.Contains(t, p.Text("#call-history"), "Called 2× before")

	// On a phone Hang up, Mute and Hold are above the fold, and the IVR
	// path wraps as text, not as a ragged column.
	p.WaitVisible("#strip")
	p.SetViewport(420, 740)
	for _, id := range []string{"hangup", "mute", "hold"} {
		require.True(t, browsertest.Eval[bool](p, `(scrollTo(0, 0), document.getElementById('`+id+`').getBoundingClientRect().bottom < innerHeight)`),
			"#%s is above the fold at 420 px", id)
	}
	dir := screenshotDir(t)
	for _, lang := range []string{"en", "ru"} {
		p.SetValue("#lang", lang)
		shoot(t, p, dir, "connected-call-1366-"+lang, 1366, 900)
		shoot(t, p, dir, "connected-call-420-"+lang, 420, 860)
	}
}
