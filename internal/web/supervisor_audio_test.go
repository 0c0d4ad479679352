package web_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/web/browsertest"
)

// An agent made not ready for lost audio shows the reason in words in the
// supervisors' agent list, in both languages.
func TestSupervisorSeesAudioReason(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})
	b := newBackend(t)
	b.role.Store("supervisor")
	p := br.NewPage(t)
	signInAt(t, p, b, "/supervisor/", "#sup-content")
	wc := b.nextWall(t)
	p.WaitText("#conn", "Connected")
	m := board(0, 0)
	m.Agents[2].Reason = "audio"
	wc.send(t, m)
	p.WaitText("#agent-carol .ag-reason", "No audio connection")
	require.Equal(t, "Not ready", p.Text("#agent-carol .ag-state"))
	p.SetValue("#lang", "ru")
	p.WaitText("#agent-carol .ag-reason", "Нет звукового соединения")
}
