package web_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// fakeRecording is one recording as GET /api/v1/recordings shows it (the
// fields the pages use).
type fakeRecording struct {
	ID         string    `json:"id"`
	CallID     string    `json:"call_id"`
	State      string    `json:"state"`
	Queue      string    `json:"queue"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	Agents     []string  `json:"agents"`
	LegalHold  bool      `json:"legal_hold"`
	AudioURL   string    `json:"audio_url"`
}

// recordingsAPI is the fake's recordings: a list newest first, the queries
// the pages made, the legal holds they set.
type recordingsAPI struct {
	mu      sync.Mutex
	list    []fakeRecording
	queries []url.Values
	holds   []string // "id=true"
	plays   int      // audio requests
}

func (a *recordingsAPI) set(list ...fakeRecording) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = list
}

func (a *recordingsAPI) lastQuery() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queries) == 0 {
		return nil
	}
	return a.queries[len(a.queries)-1]
}

func (a *recordingsAPI) queryCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queries)
}

func (a *recordingsAPI) holdsSet() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.holds...)
}

// listRecordings filters by agent, queue and call and pages by offset.
func (b *backend) listRecordings(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
		return
	}
	q := r.URL.Query()
	a := &b.recs
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queries = append(a.queries, q)
	if b.currentRole() == "agent" && q.Get("agent") != "" && q.Get("agent") != testUser {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "agents may list only their own recordings"})
		return
	}
	match := []fakeRecording{}
	for _, rec := range a.list {
		if (q.Get("queue") == "" || rec.Queue == q.Get("queue")) && (q.Get("call") == "" || rec.CallID == q.Get("call")) &&
			(q.Get("agent") == "" || strings.Contains(","+strings.Join(rec.Agents, ",")+",", ","+q.Get("agent")+",")) {
			match = append(match, rec)
		}
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = 50
	}
	start, _ := strconv.Atoi(strings.TrimPrefix(q.Get("cursor"), "p"))
	start = min(max(start, 0), len(match))
	end := min(start+limit, len(match))
	out := map[string]any{"recordings": match[start:end]}
	if end < len(match) {
		out["next"] = fmt.Sprintf("p%d", end)
	}
	writeJSON(w, http.StatusOK, out)
}

// recordingAudio serves one second of a 440 Hz WAV (8 kHz, 16-bit, stereo)
// with Range support, as the real API does.
func (b *backend) recordingAudio(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
		return
	}
	b.recs.mu.Lock()
	b.recs.plays++
	b.recs.mu.Unlock()
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeContent(w, r, "r.wav", time.Time{}, bytes.NewReader(wavTone(440, time.Second)))
}

func (b *backend) legalHold(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) || r.Header.Get("X-CSRF-Token") != testCSRF {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "csrf"})
		return
	}
	var req struct {
		Hold *bool `json:"hold"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Hold == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `send JSON {"hold": true} or {"hold": false}`})
		return
	}
	a := &b.recs
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.list {
		if a.list[i].ID == r.PathValue("id") {
			a.list[i].LegalHold = *req.Hold
			a.holds = append(a.holds, fmt.Sprintf("%s=%v", a.list[i].ID, *req.Hold))
			writeJSON(w, http.StatusOK, a.list[i])
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no recording with this id"})
}

// wavTone is a WAV file of a tone on both channels.
func wavTone(hz float64, d time.Duration) []byte {
	const rate, channels = 8000, 2
	n := int(d.Seconds() * rate)
	var buf bytes.Buffer
	w := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	buf.WriteString("RIFF")
	w(uint32(36 + n*channels*2))
	buf.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(channels))
	w(uint32(rate))
	w(uint32(rate * channels * 2))
	w(uint16(channels * 2))
	w(uint16(16))
	buf.WriteString("data")
	w(uint32(n * channels * 2))
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/rate))
		w(v)
		w(v)
	}
	return buf.Bytes()
}

// testRecordings: three recordings of alice's, newest first; the oldest is
// deleted (no audio).
func testRecordings() []fakeRecording {
	at := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	return []fakeRecording{
		{ID: "r3", CallID: "call-33", State: "complete", Queue: "support", StartedAt: at, DurationMS: 65_000,
			Agents: []string{testUser, "bob"}, AudioURL: "/api/v1/recordings/r3/audio"},
		{ID: "r2", CallID: "call-22", State: "complete", Queue: "billing", StartedAt: at.Add(-time.Hour), DurationMS: 5_000,
			Agents: []string{testUser}, AudioURL: "/api/v1/recordings/r2/audio"},
		{ID: "r1", CallID: "call-11", State: "deleted", Queue: "support", StartedAt: at.Add(-48 * time.Hour), DurationMS: 3_000,
			Agents: []string{testUser}},
	}
}

// signInAt opens path, goes through the sign-in page and comes back to it.
func signInAt(t *testing.T, p *browsertest.Page, b *backend, path, waitFor string) {
	t.Helper()
	p.Open(b.URL + path)
	p.WaitVisible("#login-submit")
	p.Type("#login-user", testUser)
	p.Type("#login-pass", testPassword)
	p.Click("#login-submit")
	p.WaitVisible(waitFor)
}

func rowIDs(p *browsertest.Page) []string {
	return browsertest.Eval[[]string](p, `[...document.querySelectorAll('#rec-rows tr.rec-row')].map((r) => r.dataset.id)`)
}

func TestRecordingsPage(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})

	t.Run("supervisor: list, player, paging, legal hold, filters, russian", func(t *testing.T) {
		b := newBackend(t)
		b.role.Store("supervisor")
		b.recs.set(testRecordings()...)
		p := br.NewPage(t)
		signInAt(t, p, b, "/recordings/?limit=2", "#rec-filters")
		require.Contains(t, browsertest.Eval[string](p, `location.pathname + location.search`), "/recordings/?limit=2",
			"the sign-in came back to the recordings page")
		p.WaitVisible("#rec-row-r3")
		require.Equal(t, []string{"r3", "r2"}, rowIDs(p), "newest first, a page of 2")
		require.Equal(t, "2", b.recs.lastQuery().Get("limit"))
		require.Equal(t, testName, p.Text("#user-name"))

		require.Equal(t, "1:05", p.Text("#rec-row-r3 .rec-duration"))
		require.Equal(t, "support", p.Text("#rec-row-r3 .rec-queue"))
		require.Equal(t, "alice, bob", p.Text("#rec-row-r3 .rec-agents"))
		require.Equal(t, "Complete", p.Text("#rec-row-r3 .rec-state"))
		require.Equal(t, "call-33", p.Text("#rec-row-r3 .rec-call"))
		require.Contains(t, p.Text("#rec-row-r3 .rec-started"), "2026")

		// The player plays the recording's audio_url; nothing loads before play.
		require.Equal(t, "/api/v1/recordings/r3/audio", browsertest.Eval[string](p, `document.getElementById('rec-audio-r3').getAttribute('src')`))
		require.Equal(t, "none", browsertest.Eval[string](p, `document.getElementById('rec-audio-r3').preload`))
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('rec-audio-r3').controls`))
		require.Equal(t, b.URL+"/api/v1/recordings/r3/audio?download=1",
			browsertest.Eval[string](p, `document.getElementById('rec-download-r3').href`))
		require.Equal(t, "Download", p.Text("#rec-download-r3"))
		require.Equal(t, 0, func() int { b.recs.mu.Lock(); defer b.recs.mu.Unlock(); return b.recs.plays }(), "preload none")
		// And the browser can load it with the session cookie.
		browsertest.Eval[bool](p, `(() => { const a = document.getElementById('rec-audio-r2'); a.preload = 'metadata'; a.load(); return true; })()`)
		p.WaitTrue(`document.getElementById('rec-audio-r2').duration > 0.9`)

		// Supervisors get the legal-hold column.
		require.True(t, p.Visible("#col-hold"))
		require.True(t, p.Visible("#f-agent-box"))
		require.False(t, p.Visible("#rec-only-yours"))
		p.Click("#rec-hold-r2")
		require.Eventually(t, func() bool { return len(b.recs.holdsSet()) == 1 }, 5*time.Second, 20*time.Millisecond)
		require.Equal(t, []string{"r2=true"}, b.recs.holdsSet())
		p.WaitTrue(`document.getElementById('rec-hold-r2').checked && !document.getElementById('rec-hold-r2').disabled`)

		// Paging.
		require.True(t, browsertest.Eval[bool](p, `!document.getElementById('rec-next').disabled`))
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('rec-prev').disabled`))
		p.Click("#rec-next")
		p.WaitVisible("#rec-row-r1")
		require.Equal(t, []string{"r1"}, rowIDs(p))
		require.Equal(t, "p2", b.recs.lastQuery().Get("cursor"))
		require.Equal(t, "Deleted", p.Text("#rec-row-r1 .rec-state"))
		require.Equal(t, "No audio", p.Text("#rec-row-r1 .rec-player"))
		require.Equal(t, 0, browsertest.Eval[int](p, `document.querySelectorAll('#rec-row-r1 audio').length`))
		require.Equal(t, "Page 2", p.Text("#rec-page"))
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('rec-next').disabled`))
		p.Click("#rec-prev")
		p.WaitVisible("#rec-row-r3")
		require.Equal(t, []string{"r3", "r2"}, rowIDs(p))
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('rec-hold-r2').checked`), "the hold is stored")

		// Filters go to the API and into the page's address.
		p.Type("#f-queue", "billing")
		p.Click("#f-apply")
		p.WaitTrue(`document.querySelectorAll('#rec-rows tr.rec-row').length === 1`)
		require.Equal(t, []string{"r2"}, rowIDs(p))
		q := b.recs.lastQuery()
		require.Equal(t, "billing", q.Get("queue"))
		require.Empty(t, q.Get("cursor"), "a new filter starts at the first page")
		require.Contains(t, browsertest.Eval[string](p, `location.search`), "queue=billing")
		p.SetValue("#f-from", "2026-12-01T00:00")
		p.SetValue("#f-to", "2026-11-01T00:00")
		p.Click("#f-apply")
		p.WaitText("#rec-error", "“From” must be before “To”.")
		p.SetValue("#f-to", "")
		p.Click("#f-apply")
		p.WaitHidden("#rec-error")
		require.Eventually(t, func() bool { return b.recs.lastQuery().Get("from") != "" }, 5*time.Second, 20*time.Millisecond)
		from, err := time.Parse(time.RFC3339, b.recs.lastQuery().Get("from"))
		require.NoError(t, err, "from is sent as RFC 3339")
		require.WithinDuration(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local), from, 0)
		p.Click("#f-clear")
		p.WaitTrue(`document.querySelectorAll('#rec-rows tr.rec-row').length === 2`)
		p.Type("#f-call", "call-11")
		p.Click("#f-apply")
		p.WaitTrue(`document.querySelectorAll('#rec-rows tr.rec-row').length === 1`)
		require.Equal(t, []string{"r1"}, rowIDs(p))
		p.Click("#f-clear")
		p.WaitTrue(`document.querySelectorAll('#rec-rows tr.rec-row').length === 2`)

		// Russian.
		p.SetValue("#lang", "ru")
		p.WaitText("h1", "Записи разговоров")
		require.Equal(t, "Готова", p.Text("#rec-row-r3 .rec-state"))
		require.Equal(t, "Скачать", p.Text("#rec-download-r3"))
		require.Equal(t, "Показать", p.Text("#f-apply"))
		require.Equal(t, "Далее", p.Text("#rec-next"))
		require.Equal(t, "Юридическое удержание", p.Text("#col-hold"))
		require.Equal(t, "Рабочее место", p.Text("#nav-agent"))
		require.Regexp(t, `дек|Дек`, p.Text("#rec-row-r3 .rec-started"), "dates in Russian")
		require.Equal(t, "Записи разговоров", browsertest.Eval[string](p, `document.title`))
		p.SetValue("#lang", "en")
		p.WaitText("h1", "Call recordings")

		// A link opens the page filtered.
		p.Open(b.URL + "/recordings/?call=call-22")
		p.WaitVisible("#rec-row-r2")
		require.Equal(t, []string{"r2"}, rowIDs(p))
		require.Equal(t, "call-22", browsertest.Eval[string](p, `document.getElementById('f-call').value`))

		p.Click("#nav-agent")
		p.WaitVisible("#ready")
		for _, line := range p.Console() {
			require.False(t, strings.HasPrefix(line, "uncaught") || strings.HasPrefix(line, "console.error"), "page error: %s", line)
		}
	})

	t.Run("agent: own recordings only, no legal hold", func(t *testing.T) {
		b := newBackend(t)
		b.recs.set(testRecordings()...)
		p := br.NewPage(t)
		signInAt(t, p, b, "/recordings/", "#rec-filters")
		p.WaitVisible("#rec-row-r3")
		require.Equal(t, []string{"r3", "r2", "r1"}, rowIDs(p))
		require.Empty(t, b.recs.lastQuery().Get("agent"), "the API filters an agent's list itself")
		require.False(t, p.Visible("#col-hold"))
		require.False(t, p.Visible("#f-agent-box"))
		require.True(t, p.Visible("#rec-only-yours"))
		require.Equal(t, 0, browsertest.Eval[int](p, `document.querySelectorAll('.rec-hold-box').length`))
		require.Equal(t, "/api/v1/recordings/r2/audio", browsertest.Eval[string](p, `document.getElementById('rec-audio-r2').getAttribute('src')`))

		// An agent filter in a link is dropped for agents (the API would refuse it).
		p.Open(b.URL + "/recordings/?agent=bob")
		p.WaitVisible("#rec-row-r3") // the page drops an agent filter for agents
		require.Empty(t, b.recs.lastQuery().Get("agent"))
	})

	t.Run("russian from the start", func(t *testing.T) {
		b := newBackend(t)
		b.recs.set(testRecordings()...)
		p := br.NewPage(t)
		signInAt(t, p, b, "/recordings/?lang=ru", "#rec-filters")
		p.WaitVisible("#rec-row-r1")
		require.Equal(t, "Записи разговоров", p.Text("h1"))
		require.Equal(t, "Удалена", p.Text("#rec-row-r1 .rec-state"))
		require.Equal(t, "Нет звука", p.Text("#rec-row-r1 .rec-player"))
		require.Equal(t, "Вы видите записи только своих звонков.", p.Text("#rec-only-yours"))
		require.Equal(t, "1:05", p.Text("#rec-row-r3 .rec-duration"))
	})
}

// testRecordingControls is the agent page's side of recordings: the PCI
// pause button, mute reported to the server, and the recent calls panel.
func testRecordingControls(t *testing.T, br *browsertest.Browser) {
	b := newBackend(t)
	b.recs.set(testRecordings()...)
	p := br.NewPage(t)
	c := signIn(t, p, b, welcome(softphone.StateReady))
	p.WaitText("#state", "Ready")

	// Recent calls: the agent's last 10, each with a player.
	p.WaitVisible("#recent-audio-r3")
	q := b.recs.lastQuery()
	require.Equal(t, "10", q.Get("limit"))
	require.Equal(t, testUser, q.Get("agent"))
	require.Equal(t, "/api/v1/recordings/r3/audio", browsertest.Eval[string](p, `document.getElementById('recent-audio-r3').getAttribute('src')`))
	require.Equal(t, "none", browsertest.Eval[string](p, `document.getElementById('recent-audio-r3').preload`))
	require.Equal(t, "1:05", p.Text("#recent-r3 .recent-duration"))
	require.Equal(t, "billing", p.Text("#recent-r2 .recent-queue"))
	require.Equal(t, "Deleted", p.Text("#recent-r1 .recent-state"))
	require.Equal(t, "/recordings/", browsertest.Eval[string](p, `document.getElementById('nav-recordings').getAttribute('href')`))
	require.True(t, p.Visible("#nav-recordings"))

	c.send(t, ring("call-5"))
	p.WaitVisible("#ring")
	p.Click("#accept")
	c.expect(t, softphone.TypeAccept)
	c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
	call := softphone.Call{CallID: "call-5", Status: softphone.CallConnected, From: "+15551234567", Queue: "support",
		Recording: softphone.RecordingOn}
	c.send(t, call)
	p.WaitVisible("#call")
	p.WaitVisible("#rec-pause")
	require.Equal(t, "Pause recording", p.Text("#rec-pause"))
	require.Equal(t, "● Recording", p.Text("#rec-status"))
	require.Equal(t, "on", browsertest.Eval[string](p, `hotlineAgent.recording()`))

	// PCI pause: the page asks, the server's call message confirms.
	p.Click("#rec-pause")
	require.Equal(t, softphone.PauseRecording{CallID: "call-5", On: true}, c.expect(t, softphone.TypePauseRecording))
	require.Equal(t, "● Recording", p.Text("#rec-status"), "nothing changes before the server says so")
	call.Recording = softphone.RecordingPaused
	c.send(t, call)
	p.WaitText("#rec-status", "Recording paused")
	require.Equal(t, "Resume recording", p.Text("#rec-pause"))
	require.Equal(t, "true", browsertest.Eval[string](p, `document.getElementById('rec-pause').getAttribute('aria-pressed')`))
	require.Equal(t, "paused", browsertest.Eval[string](p, `document.getElementById('call').dataset.recording`))

	// The held call keeps the pause (every call message carries it).
	call.Status = softphone.CallHeld
	c.send(t, call)
	p.WaitText("#call-status", "On hold")
	require.Equal(t, "Recording paused", p.Text("#rec-status"))
	call.Status = softphone.CallConnected
	c.send(t, call)
	p.WaitText("#call-status", "Connected")

	p.SetValue("#lang", "ru")
	p.WaitText("#rec-status", "Запись приостановлена")
	require.Equal(t, "Возобновить запись", p.Text("#rec-pause"))
	require.Equal(t, "Последние звонки", p.Text("#recent-title"))
	require.Equal(t, "Записи", p.Text("#nav-recordings"))
	require.Equal(t, "Удалена", p.Text("#recent-r1 .recent-state"))
	p.SetValue("#lang", "en")
	p.WaitText("#rec-status", "Recording paused")

	p.Click("#rec-pause")
	require.Equal(t, softphone.PauseRecording{CallID: "call-5", On: false}, c.expect(t, softphone.TypePauseRecording))
	c.send(t, softphone.Error{Code: softphone.CodeState, Message: "the recorder is not running", Ref: softphone.TypePauseRecording})
	p.WaitText("#error", "The recording was not paused or resumed: the recorder is not running")
	call.Recording = softphone.RecordingOn
	c.send(t, call)
	p.WaitText("#rec-status", "● Recording")
	require.Equal(t, "Pause recording", p.Text("#rec-pause"))

	// Mute tells the server; a refusal of that notice is no error on screen.
	p.Click("#mute")
	require.Equal(t, softphone.Mute{CallID: "call-5", On: true}, c.expect(t, softphone.TypeMute))
	require.True(t, browsertest.Eval[bool](p, `hotlineAgent.muted()`))
	c.send(t, softphone.Error{Code: softphone.CodeUnknownType, Message: "not a call-center command: mute", Ref: softphone.TypeMute})
	p.Click("#mute")
	require.Equal(t, softphone.Mute{CallID: "call-5", On: false}, c.expect(t, softphone.TypeMute))
	require.NotContains(t, p.Text("#error"), "mute")

	// A call that is not recorded has no pause button.
	call.Recording = ""
	c.send(t, call)
	p.WaitHidden("#rec-pause")
	p.WaitHidden("#rec-status")
	require.Equal(t, "", browsertest.Eval[string](p, `hotlineAgent.recording()`))

	// After the call and its wrap-up the recent calls are loaded again.
	before := b.recs.queryCount()
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	b.recs.set(append([]fakeRecording{{ID: "r5", CallID: "call-5", State: "complete", Queue: "support", StartedAt: at,
		DurationMS: 42_000, Agents: []string{testUser}, AudioURL: "/api/v1/recordings/r5/audio"}}, testRecordings()...)...)
	p.Click("#hangup")
	c.expect(t, softphone.TypeHangup)
	call.Status, call.EndedBy = softphone.CallEnded, "agent"
	c.send(t, call)
	c.send(t, softphone.State{State: softphone.StateWrapUp, Since: time.Now().UnixMilli()})
	p.WaitVisible("#wrapup")
	require.Equal(t, before, b.recs.queryCount(), "not during wrap-up")
	p.Click("#wrapup-done")
	c.expect(t, softphone.TypeWrapupDone)
	c.send(t, softphone.State{State: softphone.StateReady, Since: time.Now().UnixMilli()})
	p.WaitVisible("#recent-audio-r5")
	require.Equal(t, "0:42", p.Text("#recent-r5 .recent-duration"))
	require.Equal(t, before+1, b.recs.queryCount())
	require.Equal(t, "r5", browsertest.Eval[[]string](p, `hotlineAgent.recent()`)[0])

	for _, line := range p.Console() {
		require.False(t, strings.HasPrefix(line, "uncaught") || strings.HasPrefix(line, "console.error"), "page error: %s", line)
	}
}
