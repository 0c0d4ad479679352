package web_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// transferOverview is an overview whose transfer list is agents (JSON).
func transferOverview(agents string) []byte {
	return []byte(`{"queues":[{"name":"support","waiting":0,"longest_wait_ms":0,"ready":1}],"day":null,"agents":` + agents + `}`)
}

// During a call the transfer list offers the queues, and the signed-in
// colleagues with their states, ready first, in the agent's language; it
// follows their states while the call goes on, and a transfer picked from
// it names the agent picked.
func TestAgentTransferList(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	b.overview.Store(transferOverview(`[{"agent":"dora","state":"ready","reason":"","since":null},` +
		`{"agent":"egor","state":"wrap_up","reason":"","since":null},{"agent":"carol","state":"on_call","reason":"","since":null},` +
		`{"agent":"boris","state":"not_ready","reason":"break","since":null}]`))
	p := br.NewPage(t)
	w := welcome(softphone.StateReady)
	w.Queues, w.Agents = []string{"support", "billing"}, []string{"boris", "carol", "dora", "egor"}
	c := signIn(t, p, b, w)
	p.WaitText("#state", "Ready")

	c.send(t, ring("call-1"))
	p.WaitVisible("#ring")
	p.Click("#accept")
	c.expect(t, softphone.TypeAccept)
	c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
	c.send(t, softphone.Call{CallID: "call-1", Status: softphone.CallConnected, From: "+15551234567", Queue: "support"})
	p.WaitVisible("#call")

	options := func() []string {
		return browsertest.Eval[[]string](p, `[...document.querySelectorAll('#transfer-target option:not([value=""])')].map((o) => o.textContent)`)
	}
	p.SetValue("#transfer-kind", "queue")
	require.Equal(t, []string{"support", "billing"}, options())
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('transfer').disabled`), "nothing picked: Transfer is off")
	p.SetValue("#transfer-kind", "agent")
	require.Equal(t, []string{"dora — Ready", "egor — Wrap-up", "carol — On a call", "boris — Not ready: Break"}, options())
	p.SetValue("#lang", "ru")
	require.Equal(t, []string{"dora — Готов", "egor — Обработка после звонка", "carol — Разговор", "boris — Не готов: Перерыв"}, options())
	p.SetValue("#lang", "en")
	shoot(t, p, screenshotDir(t), "transfer-list-1366-en", 1366, 900)

	// While the call goes on, the list follows the colleagues: boris is
	// back, carol has signed out.
	b.overview.Store(transferOverview(`[{"agent":"boris","state":"ready","reason":"","since":null},` +
		`{"agent":"dora","state":"ready","reason":"","since":null},{"agent":"egor","state":"on_call","reason":"","since":null}]`))
	require.Eventually(t, func() bool {
		got := options()
		return len(got) == 3 && got[0] == "boris — Ready"
	}, 10*time.Second, 100*time.Millisecond, "the list is read again during the call")
	require.Equal(t, []string{"boris — Ready", "dora — Ready", "egor — On a call"}, options())

	p.SetValue("#transfer-target", "dora")
	require.False(t, browsertest.Eval[bool](p, `document.getElementById('transfer').disabled`))
	p.Click("#transfer")
	tr := c.expect(t, softphone.TypeTransfer).(softphone.Transfer)
	require.Equal(t, softphone.Transfer{CallID: "call-1", Agent: "dora"}, tr)

	// Nobody else signed in: the list says so and Transfer stays off.
	b.overview.Store(transferOverview(`[]`))
	p.WaitText("#transfer-target option", "No colleague is signed in")
	require.Empty(t, options())
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('transfer').disabled`))
}
