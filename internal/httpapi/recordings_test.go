package httpapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// fakeRecordings is an in-memory RecordingReader: ListRecordings filters
// like the stores do and pages by offset ("p2", "p3", ...).
type fakeRecordings struct {
	mu   sync.Mutex
	recs []store.Recording // newest first
	last store.RecordingFilter
	err  error
}

func (f *fakeRecordings) GetRecording(_ context.Context, id string) (store.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.Recording{}, f.err
	}
	for _, r := range f.recs {
		if r.ID == id {
			return r, nil
		}
	}
	return store.Recording{}, fmt.Errorf("store: recording %s: %w", id, store.ErrNotFound)
}

func (f *fakeRecordings) ListRecordings(_ context.Context, flt store.RecordingFilter) ([]store.Recording, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = flt
	if f.err != nil {
		return nil, "", f.err
	}
	var match []store.Recording
	for _, r := range f.recs {
		switch {
		case flt.CallID != "" && r.CallID != flt.CallID,
			flt.Agent != "" && !slices.Contains(r.Agents(), flt.Agent),
			flt.Queue != "" && r.Queue != flt.Queue,
			flt.State != "" && r.State != flt.State,
			!flt.From.IsZero() && r.StartedAt.Before(flt.From),
			!flt.To.IsZero() && !r.StartedAt.Before(flt.To):
			continue
		}
		match = append(match, r)
	}
	start := 0
	if c := flt.Page.Cursor; c != "" {
		if _, err := fmt.Sscanf(c, "p%d", &start); err != nil || start < 0 || start > len(match) {
			return nil, "", store.ErrBadCursor
		}
	}
	limit := flt.Page.Limit
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	end := min(start+limit, len(match))
	next := ""
	if end < len(match) {
		next = fmt.Sprintf("p%d", end)
	}
	return match[start:end], next, nil
}

func (f *fakeRecordings) SetLegalHold(_ context.Context, id string, hold bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.recs {
		if f.recs[i].ID == id {
			f.recs[i].LegalHold = hold
			return nil
		}
	}
	return store.ErrNotFound
}

func (f *fakeRecordings) filter() store.RecordingFilter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// fakeAudio serves WAV bytes by recording id.
type fakeAudio struct{ files map[string][]byte }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (f *fakeAudio) OpenAudio(_ context.Context, r store.Recording) (io.ReadSeekCloser, error) {
	b, ok := f.files[r.ID]
	if !ok {
		return nil, fmt.Errorf("recordings: open %s: %w", r.Path, fs.ErrNotExist)
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

// fakeAudit is the AuditLog and the AuditReader.
type fakeAudit struct {
	mu  sync.Mutex
	evs []store.AuditEvent
}

func (f *fakeAudit) AppendAudit(ev store.AuditEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evs = append(f.evs, ev)
}

func (f *fakeAudit) ListAudit(_ context.Context, flt store.AuditFilter) ([]store.AuditEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AuditEvent
	for _, e := range f.evs {
		if (flt.Action == "" || e.Action == flt.Action) && (flt.Actor == "" || e.Actor == flt.Actor) &&
			(flt.Object == "" || e.Object == flt.Object) {
			out = append(out, e)
		}
	}
	return out, nil
}

// events returns the audit events so far, and forgets them.
func (f *fakeAudit) take() []store.AuditEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := f.evs
	f.evs = nil
	return evs
}

// fakeControl is a CallControl with live recorded calls and their agents.
type fakeControl struct {
	mu     sync.Mutex
	owner  map[string]string // live call id → agent
	paused map[string]bool
}

func (f *fakeControl) PauseRecording(_ context.Context, callID, by string, supervisor, paused bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	owner, ok := f.owner[callID]
	if !ok {
		return fmt.Errorf("switchboard: call %s: %w", callID, ErrNoLiveCall)
	}
	if owner != by && !supervisor {
		return fmt.Errorf("switchboard: call %s is %s's: %w", callID, owner, ErrNotYourCall)
	}
	f.paused[callID] = paused
	return nil
}

// testWAV is a recording's audio: a 44-byte header and counting bytes.
func testWAV(n int) []byte {
	b := make([]byte, 44+n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	for i := 44; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	return b
}

// recEnv is the API with recordings over fakes, and a real Auth.
type recEnv struct {
	*authEnv
	recs    *fakeRecordings
	audio   *fakeAudio
	audit   *fakeAudit
	control *fakeControl
	wav     []byte
	anna    *client
	boris   *client
	sam     *client
}

func newRecEnv(t *testing.T) *recEnv {
	t.Helper()
	at := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	ended := at.Add(2 * time.Minute)
	r := &recEnv{
		recs: &fakeRecordings{recs: []store.Recording{
			{ID: "rec-live", CallID: "call-live", State: store.RecordingActive, Queue: "support", Format: store.FormatWAV,
				StartedAt: at.Add(50 * time.Minute), Segments: []store.RecordingSegment{{Agent: "anna"}}},
			{ID: "rec-gone", CallID: "call-gone", State: store.RecordingDeleted, Reason: "retention", Queue: "support",
				StartedAt: at.Add(40 * time.Minute), Segments: []store.RecordingSegment{{Agent: "anna"}}},
			{ID: "rec-failed", CallID: "call-failed", State: store.RecordingFailed, Reason: "disk full", Queue: "support",
				StartedAt: at.Add(30 * time.Minute), Segments: []store.RecordingSegment{{Agent: "anna"}}},
			{ID: "rec-b", CallID: "call-b", State: store.RecordingComplete, Queue: "billing", Format: store.FormatWAV,
				StartedAt: at.Add(20 * time.Minute), EndedAt: &ended, DurationMS: 60_000,
				Segments: []store.RecordingSegment{{Agent: "boris", StartMS: 0, EndMS: 60_000}}},
			{ID: "rec-ab", CallID: "call-ab", State: store.RecordingComplete, Queue: "support", Format: store.FormatSealedWAV,
				StartedAt: at.Add(10 * time.Minute), EndedAt: &ended, DurationMS: 90_000,
				Segments: []store.RecordingSegment{{Agent: "boris", EndMS: 30_000}, {Agent: "anna", StartMS: 30_000, EndMS: 90_000}}},
			{ID: "rec-a", CallID: "call-a", State: store.RecordingComplete, Queue: "support", Format: store.FormatWAV,
				StartedAt: at, EndedAt: &ended, DurationMS: 120_000, Bytes: 1044, SHA256: "abc123",
				Segments: []store.RecordingSegment{{Agent: "anna", StartMS: 1000, EndMS: 120_000}},
				Markers:  []store.RecordingMarker{{Kind: "pci", StartMS: 5000, EndMS: 9000, By: "anna"}}},
		}},
		audit:   &fakeAudit{},
		control: &fakeControl{owner: map[string]string{"call-1": "anna", "call-2": "boris"}, paused: map[string]bool{}},
		wav:     testWAV(1000),
	}
	r.audio = &fakeAudio{files: map[string][]byte{"rec-a": r.wav, "rec-ab": r.wav, "rec-b": r.wav}}
	var clock func() time.Time
	r.authEnv = newAuthEnvWith(t, func(o *Options) {
		o.Recordings, o.Audio, o.Audit, o.AuditReader, o.CallControl = r.recs, r.audio, r.audit, r.audit, r.control
		o.Now = func() time.Time { return clock() }
	})
	clock = r.clock.Now
	r.addUser("anna", store.RoleAgent, "correct horse")
	r.addUser("boris", store.RoleAgent, "correct horse")
	r.addUser("sam", store.RoleSupervisor, "correct horse")
	for _, c := range []struct {
		name string
		cl   **client
	}{{"anna", &r.anna}, {"boris", &r.boris}, {"sam", &r.sam}} {
		*c.cl = r.browser()
		require.Equal(t, http.StatusOK, (*c.cl).login(c.name, "correct horse").code)
	}
	return r
}

// raw makes a request and returns the response with its whole body.
func (c *client) raw(method, path string, hdr map[string]string) (*http.Response, []byte) {
	t := c.e.t
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.e.srv.URL+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

func (c *client) put(path string, body any) response {
	c.e.t.Helper()
	return c.do("PUT", path, body, map[string]string{CSRFHeader: c.csrf})
}

func ids(r response) []string {
	var out []string
	list, _ := r.body["recordings"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestRecordingMetadataAccess(t *testing.T) {
	e := newRecEnv(t)

	// boris is no agent of anna's call: refused, logged and audited.
	r := e.boris.do("GET", "/api/v1/recordings/rec-a", nil, nil)
	require.Equal(t, http.StatusForbidden, r.code)
	require.Equal(t, "this recording is not of one of your calls", r.str("error"))
	require.Contains(t, e.logs.String(), "user=boris")
	evs := e.audit.take()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, AuditDenied, ev.Action)
	require.Equal(t, "boris", ev.Actor)
	require.Equal(t, "agent", ev.Role)
	require.Equal(t, "rec-a", ev.Object)
	require.Equal(t, "call-a", ev.CallID)
	require.Equal(t, "127.0.0.1", ev.Source)
	require.NotEmpty(t, ev.ID)
	require.Equal(t, e.clock.Now(), ev.At)

	r = e.anna.do("GET", "/api/v1/recordings/rec-a", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, "rec-a", r.str("id"))
	require.Equal(t, "call-a", r.str("call_id"))
	require.Equal(t, "complete", r.str("state"))
	require.Equal(t, "wav", r.str("format"))
	require.Equal(t, "support", r.str("queue"))
	require.Equal(t, "abc123", r.str("sha256"))
	require.EqualValues(t, 120_000, r.body["duration_ms"])
	require.EqualValues(t, 1044, r.body["bytes"])
	require.Equal(t, false, r.body["legal_hold"])
	require.Nil(t, r.body["retain_until"])
	require.Equal(t, "2026-11-24T08:02:00Z", r.str("ended_at"))
	require.Equal(t, "/api/v1/recordings/rec-a/audio", r.str("audio_url"))
	require.Equal(t, []any{map[string]any{"agent": "anna", "start_ms": 1000.0, "end_ms": 120000.0}}, r.body["segments"])
	require.Equal(t, []any{map[string]any{"kind": "pci", "start_ms": 5000.0, "end_ms": 9000.0, "by": "anna"}}, r.body["markers"])
	require.Equal(t, []any{"anna"}, r.body["agents"])

	require.Equal(t, http.StatusOK, e.boris.do("GET", "/api/v1/recordings/rec-ab", nil, nil).code, "boris had the first segment")
	require.Equal(t, http.StatusOK, e.sam.do("GET", "/api/v1/recordings/rec-a", nil, nil).code, "supervisors see all")
	require.Equal(t, "", e.sam.do("GET", "/api/v1/recordings/rec-live", nil, nil).str("audio_url"), "nothing to play yet")
	r = e.sam.do("GET", "/api/v1/recordings/nope", nil, nil)
	require.Equal(t, http.StatusNotFound, r.code)
	require.Equal(t, "no recording with this id", r.str("error"))
	require.Empty(t, e.audit.take(), "metadata reads are not audited")
	require.Equal(t, http.StatusUnauthorized, e.browser().do("GET", "/api/v1/recordings/rec-a", nil, nil).code)

	e.recs.err = errors.New("database is locked")
	r = e.sam.do("GET", "/api/v1/recordings/rec-a", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.code)
	require.NotContains(t, r.str("error"), "locked")
}

func TestRecordingAudio(t *testing.T) {
	e := newRecEnv(t)
	const url = "/api/v1/recordings/rec-a/audio"

	res, _ := e.boris.raw("GET", url, nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	evs := e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, AuditDenied, evs[0].Action)
	require.Equal(t, "rec-a", evs[0].Object)
	require.Contains(t, evs[0].Detail, "play")

	// A whole play: 200, the WAV, audited.
	res, body := e.anna.raw("GET", url, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
	require.Equal(t, "bytes", res.Header.Get("Accept-Ranges"))
	require.Equal(t, e.wav, body)
	require.Empty(t, res.Header.Get("Content-Disposition"))
	require.Contains(t, res.Header.Get("Cache-Control"), "no-store")
	evs = e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, store.AuditEvent{ID: evs[0].ID, At: e.clock.Now(), Actor: "anna", Role: "agent",
		Action: AuditPlay, Object: "rec-a", CallID: "call-a", Source: "127.0.0.1"}, evs[0])

	// A range: 206 with exactly those bytes; a follow-up within the minute is
	// not audited again.
	e.clock.Advance(10 * time.Second)
	res, body = e.anna.raw("GET", url, map[string]string{"Range": "bytes=100-199"})
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	require.Equal(t, e.wav[100:200], body)
	require.Equal(t, fmt.Sprintf("bytes 100-199/%d", len(e.wav)), res.Header.Get("Content-Range"))
	require.Empty(t, e.audit.take(), "a follow-up range of the same play")

	// A new play (from byte 0) is always audited, with its range.
	res, _ = e.anna.raw("GET", url, map[string]string{"Range": "bytes=0-"})
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	evs = e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, "bytes=0-", evs[0].Detail)

	// A seek more than a minute after the last audited request is audited.
	e.clock.Advance(61 * time.Second)
	res, body = e.anna.raw("GET", url, map[string]string{"Range": "bytes=500-"})
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	require.Equal(t, e.wav[500:], body)
	evs = e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, AuditPlay, evs[0].Action)
	require.Equal(t, "bytes=500-", evs[0].Detail)

	// Another actor's follow-up range is theirs to account for.
	res, _ = e.sam.raw("GET", url, map[string]string{"Range": "bytes=100-199"})
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	evs = e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, "sam", evs[0].Actor)
	require.Equal(t, "supervisor", evs[0].Role)

	// A download: attachment, its own action (not covered by the plays).
	res, body = e.sam.raw("GET", url+"?download=1", map[string]string{"Range": "bytes=100-"})
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	require.Equal(t, `attachment; filename="recording-rec-a.wav"`, res.Header.Get("Content-Disposition"))
	require.Equal(t, e.wav[100:], body)
	evs = e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, AuditDownload, evs[0].Action)

	// HEAD carries no audio: served, not audited. A bad range is not a play.
	res, body = e.anna.raw("HEAD", url, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Empty(t, body)
	require.Equal(t, fmt.Sprint(len(e.wav)), res.Header.Get("Content-Length"))
	res, _ = e.anna.raw("GET", url, map[string]string{"Range": "bytes=99999-"})
	require.Equal(t, http.StatusRequestedRangeNotSatisfiable, res.StatusCode)
	require.Empty(t, e.audit.take())

	// States without audio.
	for _, tc := range []struct {
		id   string
		code int
		msg  string
	}{
		{"rec-live", http.StatusConflict, "still being recorded"},
		{"rec-gone", http.StatusGone, "deleted (retention)"},
		{"rec-failed", http.StatusGone, "failed and left no file (disk full)"},
		{"nope", http.StatusNotFound, "no recording"},
	} {
		r := e.anna.do("GET", "/api/v1/recordings/"+tc.id+"/audio", nil, nil)
		require.Equal(t, tc.code, r.code, tc.id)
		require.Contains(t, r.str("error"), tc.msg, tc.id)
	}
	delete(e.audio.files, "rec-a")
	r := e.anna.do("GET", url, nil, nil)
	require.Equal(t, http.StatusGone, r.code)
	require.Equal(t, "the recording's file is gone", r.str("error"))
	require.Empty(t, e.audit.take(), "nothing was played")
}

// A browser's <audio> plays through a real server with Range requests; with
// many requests the audit stays at one event per play.
func TestRecordingAudioManyRanges(t *testing.T) {
	e := newRecEnv(t)
	_, _ = e.anna.raw("GET", "/api/v1/recordings/rec-a/audio", map[string]string{"Range": "bytes=0-"})
	for i := range 20 {
		e.clock.Advance(2 * time.Second)
		res, body := e.anna.raw("GET", "/api/v1/recordings/rec-a/audio", map[string]string{"Range": fmt.Sprintf("bytes=%d-", 40+i*40)})
		require.Equal(t, http.StatusPartialContent, res.StatusCode)
		require.Equal(t, e.wav[40+i*40:], body)
	}
	// 40 s in: still one event; at 62 s the next range is audited.
	require.Len(t, e.audit.take(), 1)
	e.clock.Advance(22 * time.Second)
	_, _ = e.anna.raw("GET", "/api/v1/recordings/rec-a/audio", map[string]string{"Range": "bytes=900-"})
	require.Len(t, e.audit.take(), 1)
}

func TestListRecordings(t *testing.T) {
	e := newRecEnv(t)

	r := e.anna.do("GET", "/api/v1/recordings", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{"rec-live", "rec-gone", "rec-failed", "rec-ab", "rec-a"}, ids(r), "only anna's, newest first")
	require.Equal(t, "anna", e.recs.filter().Agent, "the store is asked for anna's only")
	r = e.boris.do("GET", "/api/v1/recordings", nil, nil)
	require.Equal(t, []string{"rec-b", "rec-ab"}, ids(r))

	r = e.anna.do("GET", "/api/v1/recordings?agent=boris", nil, nil)
	require.Equal(t, http.StatusForbidden, r.code)
	require.Equal(t, "agents may list only their own recordings", r.str("error"))
	evs := e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, AuditDenied, evs[0].Action)
	require.Equal(t, "anna", evs[0].Actor)
	require.Contains(t, evs[0].Detail, `"boris"`)
	require.Equal(t, http.StatusOK, e.anna.do("GET", "/api/v1/recordings?agent=anna&limit=2", nil, nil).code)

	r = e.sam.do("GET", "/api/v1/recordings?limit=2", nil, nil)
	require.Equal(t, []string{"rec-live", "rec-gone"}, ids(r))
	require.Equal(t, "p2", r.str("next"))
	r = e.sam.do("GET", "/api/v1/recordings?limit=2&cursor="+r.str("next"), nil, nil)
	require.Equal(t, []string{"rec-failed", "rec-b"}, ids(r))
	r = e.sam.do("GET", "/api/v1/recordings?agent=boris", nil, nil)
	require.Equal(t, []string{"rec-b", "rec-ab"}, ids(r))
	r = e.sam.do("GET", "/api/v1/recordings?queue=billing", nil, nil)
	require.Equal(t, []string{"rec-b"}, ids(r))
	r = e.sam.do("GET", "/api/v1/recordings?call=call-ab", nil, nil)
	require.Equal(t, []string{"rec-ab"}, ids(r))
	r = e.sam.do("GET", "/api/v1/recordings?state=complete", nil, nil)
	require.Equal(t, []string{"rec-b", "rec-ab", "rec-a"}, ids(r))
	r = e.sam.do("GET", "/api/v1/recordings?from=2026-11-24T08:10:00Z&to=2026-11-24T08:30:00Z", nil, nil)
	require.Equal(t, []string{"rec-b", "rec-ab"}, ids(r))
	f := e.recs.filter()
	require.Equal(t, time.Date(2026, 11, 24, 8, 10, 0, 0, time.UTC), f.From.UTC())
	require.Equal(t, "", f.Agent, "supervisors are not filtered")
	r = e.sam.do("GET", "/api/v1/recordings?from=2026-11-24T11:10:00%2B03:00", nil, nil)
	require.Equal(t, []string{"rec-live", "rec-gone", "rec-failed", "rec-b", "rec-ab"}, ids(r), "any offset")

	for _, tc := range []struct{ query, msg string }{
		{"from=yesterday", `from must be an RFC 3339 time such as 2026-12-03T09:00:00Z, got "yesterday"`},
		{"to=2026-11-24", `to must be an RFC 3339 time such as 2026-12-03T09:00:00Z, got "2026-11-24"`},
		{"from=2026-11-24T09:00:00Z&to=2026-11-24T08:00:00Z", "from must be before to"},
		{"limit=0", "limit must be a number from 1 to 500"},
		{"limit=501", "limit must be a number from 1 to 500"},
		{"limit=x", "limit must be a number from 1 to 500"},
		{"cursor=bad", "cursor is not one this API returned"},
		{"state=lost", "state must be one of recording, complete, recovered, failed, deleted"},
	} {
		r := e.sam.do("GET", "/api/v1/recordings?"+tc.query, nil, nil)
		require.Equal(t, http.StatusBadRequest, r.code, tc.query)
		require.Equal(t, tc.msg, r.str("error"), tc.query)
	}

	// An API token of role agent is nobody's agent.
	secret, err := GenerateAPIToken()
	require.NoError(t, err)
	require.NoError(t, e.st.CreateToken(t.Context(), store.APIToken{ID: "t1", Name: "bot", Role: store.RoleAgent,
		Hash: store.TokenHash(secret), CreatedAt: e.clock.Now()}))
	bot := &client{e: e.authEnv, http: http.DefaultClient}
	r = bot.do("GET", "/api/v1/recordings", nil, map[string]string{"Authorization": "Bearer " + secret})
	require.Equal(t, http.StatusOK, r.code)
	require.Empty(t, ids(r))
	r = bot.do("GET", "/api/v1/recordings/rec-a", nil, map[string]string{"Authorization": "Bearer " + secret})
	require.Equal(t, http.StatusForbidden, r.code)

	e.recs.err = errors.New("connection refused")
	r = e.sam.do("GET", "/api/v1/recordings", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.code)
	require.NotContains(t, r.str("error"), "refused")
}

func TestLegalHold(t *testing.T) {
	e := newRecEnv(t)
	const url = "/api/v1/recordings/rec-a/legal-hold"

	r := e.anna.put(url, map[string]bool{"hold": true})
	require.Equal(t, http.StatusForbidden, r.code, "agents may not")
	require.Equal(t, http.StatusForbidden, e.sam.do("PUT", url, map[string]bool{"hold": true}, nil).code, "no CSRF token")

	r = e.sam.put(url, map[string]bool{"hold": true})
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, true, r.body["legal_hold"])
	rec, err := e.recs.GetRecording(t.Context(), "rec-a")
	require.NoError(t, err)
	require.True(t, rec.LegalHold)
	evs := e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, AuditHold, evs[0].Action)
	require.Equal(t, "sam", evs[0].Actor)
	require.Equal(t, "rec-a", evs[0].Object)
	require.Equal(t, "call-a", evs[0].CallID)
	require.Equal(t, "hold=true", evs[0].Detail)

	r = e.sam.put(url, map[string]bool{"hold": false})
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, false, r.body["legal_hold"])
	require.Equal(t, "hold=false", e.audit.take()[0].Detail)

	require.Equal(t, http.StatusNotFound, e.sam.put("/api/v1/recordings/nope/legal-hold", map[string]bool{"hold": true}).code)
	for _, body := range []any{map[string]string{"hold": "yes"}, map[string]any{}, "true"} {
		r = e.sam.put(url, body)
		require.Equal(t, http.StatusBadRequest, r.code, "%v", body)
		require.Equal(t, `send JSON {"hold": true} or {"hold": false}`, r.str("error"))
	}
	require.Empty(t, e.audit.take())
}

func TestPauseRecording(t *testing.T) {
	e := newRecEnv(t)
	e.recs.recs = append(e.recs.recs, store.Recording{ID: "rec-1", CallID: "call-1", State: store.RecordingActive,
		StartedAt: e.clock.Now(), Segments: []store.RecordingSegment{{Agent: "anna"}}})

	r := e.anna.post("/api/v1/calls/call-1/recording/pause")
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, map[string]any{"call_id": "call-1", "recording": "paused"}, r.body)
	require.True(t, e.control.paused["call-1"])
	evs := e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, store.AuditEvent{ID: evs[0].ID, At: e.clock.Now(), Actor: "anna", Role: "agent",
		Action: AuditPause, Object: "rec-1", CallID: "call-1", Source: "127.0.0.1"}, evs[0])

	r = e.anna.post("/api/v1/calls/call-1/recording/resume")
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, "on", r.str("recording"))
	require.False(t, e.control.paused["call-1"])
	require.Equal(t, AuditResume, e.audit.take()[0].Action)

	// Another agent's call: refused by CallControl, logged and audited.
	r = e.anna.post("/api/v1/calls/call-2/recording/pause")
	require.Equal(t, http.StatusForbidden, r.code)
	require.Equal(t, "this call is not yours", r.str("error"))
	require.NotContains(t, e.control.paused, "call-2")
	evs = e.audit.take()
	require.Len(t, evs, 1)
	require.Equal(t, AuditDenied, evs[0].Action)
	require.Equal(t, "call-2", evs[0].CallID)
	require.Contains(t, e.logs.String(), "call of another agent")

	// A supervisor may pause any agent's call.
	r = e.sam.post("/api/v1/calls/call-2/recording/pause")
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.True(t, e.control.paused["call-2"])
	require.Equal(t, "sam", e.audit.take()[0].Actor)

	r = e.anna.post("/api/v1/calls/call-zzz/recording/pause")
	require.Equal(t, http.StatusConflict, r.code)
	require.Equal(t, "the call is not live or is not being recorded", r.str("error"))
	require.Empty(t, e.audit.take())

	require.Equal(t, http.StatusForbidden, e.anna.do("POST", "/api/v1/calls/call-1/recording/pause", nil, nil).code,
		"no CSRF token")
	require.Equal(t, http.StatusUnauthorized, e.browser().post("/api/v1/calls/call-1/recording/pause").code)
}

func TestAuditLog(t *testing.T) {
	e := newRecEnv(t)
	_, _ = e.anna.raw("GET", "/api/v1/recordings/rec-a/audio", nil)
	_, _ = e.boris.raw("GET", "/api/v1/recordings/rec-a/audio", nil)

	r := e.sam.do("GET", "/api/v1/audit?object=rec-a", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	events := r.body["events"].([]any)
	require.Len(t, events, 2)
	first := events[0].(map[string]any)
	require.Equal(t, "recording.play", first["action"])
	require.Equal(t, "anna", first["actor"])
	require.Equal(t, "call-a", first["call_id"])
	require.Equal(t, "recording.denied", events[1].(map[string]any)["action"])

	r = e.sam.do("GET", "/api/v1/audit?action=recording.denied&actor=boris", nil, nil)
	require.Len(t, r.body["events"], 1)
	require.Equal(t, http.StatusForbidden, e.anna.do("GET", "/api/v1/audit", nil, nil).code, "supervisors only")
	require.Equal(t, http.StatusBadRequest, e.sam.do("GET", "/api/v1/audit?from=now", nil, nil).code)
	require.Equal(t, http.StatusBadRequest, e.sam.do("GET", "/api/v1/audit?limit=1001", nil, nil).code)
}

// GET /api/v1/calls/{id} shows the call's recording, or null.
func TestCallShowsItsRecording(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	recs := &fakeRecordings{recs: []store.Recording{{ID: "rec-9", CallID: "c9", State: store.RecordingComplete,
		DurationMS: 4200, StartedAt: at}}}
	api := New(Options{Calls: &fakeCalls{calls: []store.Call{{ID: "c9", ArrivedAt: at}, {ID: "c8", ArrivedAt: at}}},
		Recordings: recs})
	var one map[string]any
	require.Equal(t, 200, get(t, api, "/api/v1/calls/c9", &one))
	require.Equal(t, map[string]any{"id": "rec-9", "state": "complete", "duration_ms": 4200.0,
		"audio_url": "/api/v1/recordings/rec-9/audio"}, one["recording"])
	require.Equal(t, "c9", recs.filter().CallID)
	one = nil
	require.Equal(t, 200, get(t, api, "/api/v1/calls/c8", &one))
	require.Contains(t, one, "recording")
	require.Nil(t, one["recording"])

	recs.err = errors.New("down")
	require.Equal(t, 503, get(t, api, "/api/v1/calls/c9", nil))

	// Without recordings at all: null, and no recording routes.
	api = New(Options{Calls: &fakeCalls{calls: []store.Call{{ID: "c9", ArrivedAt: at}}}})
	one = nil
	require.Equal(t, 200, get(t, api, "/api/v1/calls/c9", &one))
	require.Nil(t, one["recording"])
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/recordings", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestRangeStartsAtZero(t *testing.T) {
	for h, want := range map[string]bool{
		"": true, "bytes=0-": true, "bytes=0-99": true, " bytes=0-1 ": true, "bytes=100-199,0-9": true,
		"items=5-": true, "bytes=1-": false, "bytes=-500": false, "bytes=100-199": false, "bytes=x-": false,
	} {
		require.Equal(t, want, rangeStartsAtZero(h), "%q", h)
	}
}

// The remembered plays stay bounded however many recordings are played.
func TestAuditDedupIsBounded(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	a := New(Options{Now: func() time.Time { return now }})
	for i := range maxAuditKeys + 10 {
		require.True(t, a.auditable("anna", fmt.Sprint("rec-", i), AuditPlay, "bytes=5-"))
	}
	require.LessOrEqual(t, len(a.dedup.last), maxAuditKeys)
	require.True(t, strings.HasPrefix(AuditPlay, "recording."))
}

// The node's store and record writer are what serve plugs in.
var (
	_ RecordingReader = store.Store(nil)
	_ AuditReader     = store.Store(nil)
	_ AuditLog        = (*store.Writer)(nil)
)
