package httpapi

// Call recordings: the API to list, play and download them, legal hold, the
// PCI pause of a live call's recording, and the audit log of every access.
//
// Access: supervisors and admins reach every recording. An agent (role
// agent) reaches only the recordings where they are the agent of a segment:
// the list is filtered to them, and one they are not in is refused with 403,
// logged (Auth.Forbid) and audited as "recording.denied". An API token of
// role agent is no agent of any call, so it reaches none.
//
// Audit of plays and downloads: a browser's <audio> fetches one recording
// with several Range requests (the start, then a request per seek), so not
// every request is an audit event. The rule: a GET of the audio with no
// Range header, or with a Range that starts at byte 0, is always audited
// (it starts a playback or a download). A GET whose Range starts later is
// audited unless the same actor had an audited GET of the same recording,
// with the same action (play or download), less than auditWindow (a minute)
// earlier. HEAD requests carry no audio and are not audited. Refusals
// ("recording.denied") are always audited.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hotline/hotline/internal/store"
)

// RecordingReader is the part of the store the API reads recordings from.
type RecordingReader interface {
	// GetRecording returns one recording, or an error wrapping
	// store.ErrNotFound.
	GetRecording(ctx context.Context, id string) (store.Recording, error)
	// ListRecordings returns one page of recordings matching f, newest
	// first, and the cursor of the next page ("" on the last). A cursor it
	// did not produce fails with an error wrapping store.ErrBadCursor.
	ListRecordings(ctx context.Context, f store.RecordingFilter) ([]store.Recording, string, error)
	// SetLegalHold sets or clears a recording's legal hold; an error
	// wrapping store.ErrNotFound for no such id.
	SetLegalHold(ctx context.Context, id string, hold bool) error
}

// RecordingAudio opens the audio of a recording.
type RecordingAudio interface {
	// OpenAudio returns the playable WAV bytes of r (decrypted when the file
	// is sealed); its size is found by seeking to the end. It returns an
	// error wrapping fs.ErrNotExist when the file is gone.
	OpenAudio(ctx context.Context, r store.Recording) (io.ReadSeekCloser, error)
}

// AuditLog receives audit events. AppendAudit must never block (the store's
// Writer queues them).
type AuditLog interface {
	AppendAudit(ev store.AuditEvent)
}

// AuditReader reads the audit log for GET /api/v1/audit.
type AuditReader interface {
	// ListAudit returns the events matching f, oldest first.
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error)
}

// CallControl acts on live calls: the PCI pause of a call's recording.
type CallControl interface {
	// PauseRecording pauses (paused true) or resumes the recording of the
	// live call callID on behalf of the user by, a supervisor (who may act
	// on any call) or not. It returns an error wrapping ErrNoLiveCall when
	// the call is not live or not recorded, and one wrapping ErrNotYourCall
	// when by may not pause it.
	PauseRecording(ctx context.Context, callID, by string, supervisor, paused bool) error
}

// ErrNoLiveCall is wrapped by CallControl errors for a call that is not live
// or not recorded (409 Conflict).
var ErrNoLiveCall = errors.New("httpapi: the call is not live or not recorded")

// ErrNotYourCall is wrapped by CallControl errors for a call the user may
// not act on, another agent's (403 Forbidden).
var ErrNotYourCall = errors.New("httpapi: the call is not yours")

// Audit actions.
const (
	AuditPlay     = "recording.play"
	AuditDownload = "recording.download"
	AuditDenied   = "recording.denied"
	AuditHold     = "recording.hold"
	AuditPause    = "recording.pause"
	AuditResume   = "recording.resume"
)

// auditWindow is how long a follow-up Range request of a play or download
// is covered by the audited request before it (see the file comment).
const auditWindow = time.Minute

// maxAuditKeys bounds the remembered (actor, recording, action) triples.
const maxAuditKeys = 10_000

// audioPath is the URL of a recording's audio.
func audioPath(id string) string { return "/api/v1/recordings/" + url.PathEscape(id) + "/audio" }

// RecordingJSON is one recording as the API shows it. AudioURL is empty when
// there is no audio to play: still recording, or deleted.
type RecordingJSON struct {
	ID          string                   `json:"id"`
	CallID      string                   `json:"call_id"`
	State       string                   `json:"state"`
	Reason      string                   `json:"reason"`
	Format      string                   `json:"format"`
	Queue       string                   `json:"queue"`
	StartedAt   time.Time                `json:"started_at"`
	EndedAt     *time.Time               `json:"ended_at"`
	DurationMS  int64                    `json:"duration_ms"`
	Bytes       int64                    `json:"bytes"`
	SHA256      string                   `json:"sha256"`
	Agents      []string                 `json:"agents"`
	Segments    []store.RecordingSegment `json:"segments"`
	Markers     []store.RecordingMarker  `json:"markers"`
	RetainUntil *time.Time               `json:"retain_until"`
	LegalHold   bool                     `json:"legal_hold"`
	AudioURL    string                   `json:"audio_url"`
}

// CallRecordingJSON is the short view of a call's recording in GET
// /api/v1/calls/{id}.
type CallRecordingJSON struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	DurationMS int64  `json:"duration_ms"`
	AudioURL   string `json:"audio_url"`
}

// AuditEventJSON is one audit event as GET /api/v1/audit shows it.
type AuditEventJSON struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
	Action string    `json:"action"`
	Object string    `json:"object"`
	CallID string    `json:"call_id"`
	Detail string    `json:"detail"`
	Source string    `json:"source"`
}

// playable reports whether a recording in this state may have audio.
func playable(state string) bool {
	return state != store.RecordingActive && state != store.RecordingDeleted
}

func recordingJSON(r store.Recording) RecordingJSON {
	out := RecordingJSON{
		ID: r.ID, CallID: r.CallID, State: r.State, Reason: r.Reason, Format: r.Format, Queue: r.Queue,
		StartedAt: r.StartedAt, EndedAt: r.EndedAt, DurationMS: r.DurationMS, Bytes: r.Bytes, SHA256: r.SHA256,
		Agents: r.Agents(), Segments: r.Segments, Markers: r.Markers, RetainUntil: r.RetainUntil, LegalHold: r.LegalHold,
	}
	if out.Agents == nil {
		out.Agents = []string{}
	}
	if out.Segments == nil {
		out.Segments = []store.RecordingSegment{}
	}
	if out.Markers == nil {
		out.Markers = []store.RecordingMarker{}
	}
	if playable(r.State) {
		out.AudioURL = audioPath(r.ID)
	}
	return out
}

// recordingsRoutes registers the recording routes the options allow.
func (a *API) recordingsRoutes() {
	if a.opt.Recordings != nil {
		a.mux.Handle("GET /api/v1/recordings", a.require(store.RoleAgent, a.listRecordings))
		a.mux.Handle("GET /api/v1/recordings/{id}", a.require(store.RoleAgent, a.getRecording))
		a.mux.Handle("GET /api/v1/recordings/{id}/audio", a.require(store.RoleAgent, a.recordingAudio))
		a.mux.Handle("PUT /api/v1/recordings/{id}/legal-hold", a.require(store.RoleSupervisor, a.setLegalHold))
	}
	if a.opt.CallControl != nil {
		a.mux.Handle("POST /api/v1/calls/{id}/recording/pause", a.require(store.RoleAgent, a.pauseRecording(true)))
		a.mux.Handle("POST /api/v1/calls/{id}/recording/resume", a.require(store.RoleAgent, a.pauseRecording(false)))
	}
	if a.opt.AuditReader != nil {
		a.mux.Handle("GET /api/v1/audit", a.require(store.RoleSupervisor, a.listAudit))
	}
}

// principal returns who made r. Without an Auth (handler tests only) the
// routes are open and the request counts as an unnamed admin.
func (a *API) principal(r *http.Request) Principal {
	if p, ok := PrincipalFrom(r.Context()); ok {
		return p
	}
	return Principal{Role: store.RoleAdmin}
}

// forbid answers 403 and, with an Auth, logs the refusal.
func (a *API) forbid(w http.ResponseWriter, r *http.Request, reason, msg string) {
	if a.opt.Auth != nil {
		a.opt.Auth.Forbid(w, r, reason, msg)
		return
	}
	writeError(w, http.StatusForbidden, msg)
}

// seesAll reports whether p may reach every recording.
func seesAll(p Principal) bool { return p.Role.AtLeast(store.RoleSupervisor) }

// mayHear reports whether p may reach recording rec: a supervisor or admin,
// or the agent of one of its segments. A token is no agent.
func mayHear(p Principal, rec store.Recording) bool {
	if seesAll(p) {
		return true
	}
	if p.Token || p.Username == "" {
		return false
	}
	return slices.ContainsFunc(rec.Segments, func(s store.RecordingSegment) bool {
		return strings.EqualFold(s.Agent, p.Username)
	})
}

// audit appends one event (when an AuditLog is set) for the request's
// principal.
func (a *API) audit(r *http.Request, p Principal, action, object, callID, detail string) {
	if a.opt.Audit == nil {
		return
	}
	ev := store.AuditEvent{
		At: a.opt.Now(), Actor: p.Username, Role: string(p.Role), Action: action,
		Object: object, CallID: callID, Detail: detail, Source: sourceIP(r),
	}
	if id, err := uuid.NewV7(); err == nil {
		ev.ID = id.String()
	} else {
		ev.ID = uuid.NewString()
	}
	a.opt.Audit.AppendAudit(ev)
}

// deny refuses p access to rec: 403, logged and audited.
func (a *API) deny(w http.ResponseWriter, r *http.Request, p Principal, rec store.Recording, what string) {
	a.audit(r, p, AuditDenied, rec.ID, rec.CallID, what+": not an agent of this recording")
	a.forbid(w, r, "recording of another agent", "this recording is not of one of your calls")
}

// parseLimit reads ?limit= as GET /api/v1/calls does.
func parseLimit(w http.ResponseWriter, r *http.Request, def, maxN int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxN {
		writeError(w, http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(maxN))
		return 0, false
	}
	return n, true
}

// parseRange reads ?from= and ?to= (RFC 3339); from must be before to.
func parseRange(w http.ResponseWriter, r *http.Request) (from, to time.Time, ok bool) {
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		s := q.Get(f.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-12-03T09:00:00Z, got %q", f.name, s))
			return from, to, false
		}
		*f.t = t
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		writeError(w, http.StatusBadRequest, "from must be before to")
		return from, to, false
	}
	return from, to, true
}

// recordingStates returns the states ?state= accepts.
func recordingStates() []string {
	return []string{store.RecordingActive, store.RecordingComplete, store.RecordingRecovered,
		store.RecordingFailed, store.RecordingDeleted}
}

// storeUnavailable answers 503 for a store error, which goes to the log.
func (a *API) storeUnavailable(w http.ResponseWriter, what string, err error, args ...any) {
	a.opt.Logger.Error(what, append(args, "err", err)...)
	writeError(w, http.StatusServiceUnavailable, "the recording store is not reachable; try again")
}

// listRecordings is GET /api/v1/recordings?call=&agent=&queue=&state=&from=&to=&limit=&cursor=:
// newest first, paged like /api/v1/calls. An agent sees only their own.
func (a *API) listRecordings(w http.ResponseWriter, r *http.Request) {
	p := a.principal(r)
	q := r.URL.Query()
	limit, ok := parseLimit(w, r, defaultLimit, maxLimit)
	if !ok {
		return
	}
	from, to, ok := parseRange(w, r)
	if !ok {
		return
	}
	f := store.RecordingFilter{CallID: q.Get("call"), Agent: q.Get("agent"), Queue: q.Get("queue"),
		State: q.Get("state"), From: from, To: to, Page: store.Page{Limit: limit, Cursor: q.Get("cursor")}}
	if f.State != "" && !slices.Contains(recordingStates(), f.State) {
		writeError(w, http.StatusBadRequest, "state must be one of "+strings.Join(recordingStates(), ", "))
		return
	}
	if !seesAll(p) {
		if f.Agent != "" && !strings.EqualFold(f.Agent, p.Username) {
			a.audit(r, p, AuditDenied, "", "", "list the recordings of agent "+strconv.Quote(f.Agent))
			a.forbid(w, r, "recordings of another agent", "agents may list only their own recordings")
			return
		}
		f.Agent = p.Username
	}
	recs, next, err := a.opt.Recordings.ListRecordings(r.Context(), f)
	if err != nil {
		if errors.Is(err, store.ErrBadCursor) {
			writeError(w, http.StatusBadRequest, "cursor is not one this API returned")
			return
		}
		a.storeUnavailable(w, "list recordings", err)
		return
	}
	out := struct {
		Recordings []RecordingJSON `json:"recordings"`
		Next       string          `json:"next,omitempty"`
	}{Recordings: make([]RecordingJSON, 0, len(recs)), Next: next}
	for _, rec := range recs {
		if mayHear(p, rec) { // the store filtered already; never show more than allowed
			out.Recordings = append(out.Recordings, recordingJSON(rec))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// loadRecording reads the recording of the request's {id} and checks that p
// may reach it; false when the answer was written.
func (a *API) loadRecording(w http.ResponseWriter, r *http.Request, p Principal, what string) (store.Recording, bool) {
	id := r.PathValue("id")
	rec, err := a.opt.Recordings.GetRecording(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no recording with this id")
		return rec, false
	}
	if err != nil {
		a.storeUnavailable(w, "get recording", err, "recording_id", id)
		return rec, false
	}
	if !mayHear(p, rec) {
		a.deny(w, r, p, rec, what)
		return rec, false
	}
	return rec, true
}

// getRecording is GET /api/v1/recordings/{id}: the recording's metadata.
func (a *API) getRecording(w http.ResponseWriter, r *http.Request) {
	rec, ok := a.loadRecording(w, r, a.principal(r), "metadata")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, recordingJSON(rec))
}

// recordingAudio is GET (and HEAD) /api/v1/recordings/{id}/audio: the WAV,
// with Range support (http.ServeContent); ?download=1 makes it an
// attachment. Plays and downloads are audited (see the file comment).
func (a *API) recordingAudio(w http.ResponseWriter, r *http.Request) {
	p := a.principal(r)
	download := r.URL.Query().Get("download") == "1"
	what := "play"
	if download {
		what = "download"
	}
	rec, ok := a.loadRecording(w, r, p, what)
	if !ok {
		return
	}
	switch rec.State {
	case store.RecordingActive:
		writeError(w, http.StatusConflict, "the call is still being recorded; the audio is available once the recording ends")
		return
	case store.RecordingDeleted:
		msg := "the recording was deleted"
		if rec.Reason != "" {
			msg += " (" + rec.Reason + ")"
		}
		writeError(w, http.StatusGone, msg)
		return
	}
	if a.opt.Audio == nil {
		writeError(w, http.StatusServiceUnavailable, "this node does not serve recording audio")
		return
	}
	f, err := a.opt.Audio.OpenAudio(r.Context(), rec)
	if errors.Is(err, fs.ErrNotExist) {
		a.opt.Logger.Warn("recording audio: file gone", "recording_id", rec.ID, "state", rec.State, "err", err)
		msg := "the recording's file is gone"
		if rec.State == store.RecordingFailed {
			msg = "the recording failed and left no file"
			if rec.Reason != "" {
				msg += " (" + rec.Reason + ")"
			}
		}
		writeError(w, http.StatusGone, msg)
		return
	}
	if err != nil {
		a.opt.Logger.Error("recording audio: open", "recording_id", rec.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "the recording's audio could not be opened; the server log says why")
		return
	}
	defer func() { _ = f.Close() }()

	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if rec.SHA256 != "" {
		h.Set("ETag", `"`+rec.SHA256+`"`) // makes If-Range work for resumed downloads
	}
	name := "recording-" + rec.ID + ".wav"
	if download {
		h.Set("Content-Disposition", `attachment; filename="`+strings.Map(fileNameChar, name)+`"`)
	}
	var modTime time.Time
	if rec.EndedAt != nil {
		modTime = *rec.EndedAt
	}
	action := AuditPlay
	if download {
		action = AuditDownload
	}
	rangeHdr := r.Header.Get("Range")
	// A long recording outlasts WriteTimeout: it bounds each chunk instead.
	sw := &statusWriter{ResponseWriter: streaming(w, r), onHeader: func(code int) {
		if r.Method == http.MethodGet && (code == http.StatusOK || code == http.StatusPartialContent) &&
			a.auditable(p.Username, rec.ID, action, rangeHdr) {
			a.audit(r, p, action, rec.ID, rec.CallID, rangeHdr)
		}
	}}
	http.ServeContent(sw, r, name, modTime, f)
}

// fileNameChar keeps a download's file name to safe characters.
func fileNameChar(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
		return r
	}
	return '_'
}

// rangeStartsAtZero reports whether a Range header asks for the first byte
// (or there is none): the start of a playback or download.
func rangeStartsAtZero(h string) bool {
	if h == "" {
		return true
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok {
		return true // not a byte range: served whole
	}
	for part := range strings.SplitSeq(spec, ",") {
		start, _, _ := strings.Cut(strings.TrimSpace(part), "-")
		if n, err := strconv.ParseInt(strings.TrimSpace(start), 10, 64); err == nil && n == 0 {
			return true
		}
	}
	return false
}

// auditKey names one actor's plays (or downloads) of one recording.
type auditKey struct{ actor, recording, action string }

// auditDedup remembers when each auditKey was last audited.
type auditDedup struct {
	mu   sync.Mutex
	last map[auditKey]time.Time
}

// auditable applies the rule of the file comment and, when the request is to
// be audited, remembers it.
func (a *API) auditable(actor, recording, action, rangeHdr string) bool {
	now := a.opt.Now()
	k := auditKey{actor, recording, action}
	d := &a.dedup
	d.mu.Lock()
	defer d.mu.Unlock()
	if last, ok := d.last[k]; ok && !rangeStartsAtZero(rangeHdr) && now.Sub(last) < auditWindow && !now.Before(last) {
		return false
	}
	if d.last == nil {
		d.last = map[auditKey]time.Time{}
	}
	if len(d.last) >= maxAuditKeys {
		for key, t := range d.last {
			if now.Sub(t) >= auditWindow {
				delete(d.last, key)
			}
		}
		for key := range d.last {
			if len(d.last) < maxAuditKeys {
				break
			}
			delete(d.last, key)
		}
	}
	d.last[k] = now
	return true
}

// statusWriter calls onHeader once with the status code, before the
// response's header goes out.
type statusWriter struct {
	http.ResponseWriter
	onHeader func(code int)
	done     bool
}

// WriteHeader implements http.ResponseWriter.
func (s *statusWriter) WriteHeader(code int) {
	if !s.done {
		s.done = true
		s.onHeader(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (s *statusWriter) Write(p []byte) (int, error) {
	if !s.done {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// maxHoldBody bounds the body of PUT .../legal-hold.
const maxHoldBody = 4 << 10

// setLegalHold is PUT /api/v1/recordings/{id}/legal-hold {"hold": bool}
// (supervisors): it answers with the recording.
func (a *API) setLegalHold(w http.ResponseWriter, r *http.Request) {
	p := a.principal(r)
	var req struct {
		Hold *bool `json:"hold"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHoldBody)).Decode(&req); err != nil || req.Hold == nil {
		if bodyTooLarge(w, err) {
			return
		}
		writeError(w, http.StatusBadRequest, `send JSON {"hold": true} or {"hold": false}`)
		return
	}
	rec, ok := a.loadRecording(w, r, p, "legal hold")
	if !ok {
		return
	}
	err := a.opt.Recordings.SetLegalHold(r.Context(), rec.ID, *req.Hold)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no recording with this id")
		return
	}
	if err != nil {
		a.storeUnavailable(w, "set legal hold", err, "recording_id", rec.ID)
		return
	}
	rec.LegalHold = *req.Hold
	a.audit(r, p, AuditHold, rec.ID, rec.CallID, "hold="+strconv.FormatBool(*req.Hold))
	a.opt.Logger.Info("recording legal hold", "recording_id", rec.ID, "hold", *req.Hold, "by", p.Username)
	writeJSON(w, http.StatusOK, recordingJSON(rec))
}

// pauseRecording is POST /api/v1/calls/{id}/recording/pause (paused true)
// and .../resume: the PCI pause of a live call's recording. Whether the
// user may pause this call (an agent: only their own) is CallControl's
// decision.
func (a *API) pauseRecording(paused bool) http.HandlerFunc {
	action, verb, done, state := AuditPause, "pause", "paused", "paused"
	if !paused {
		action, verb, done, state = AuditResume, "resume", "resumed", "on"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		p := a.principal(r)
		callID := r.PathValue("id")
		err := a.opt.CallControl.PauseRecording(r.Context(), callID, p.Username, p.Role.AtLeast(store.RoleSupervisor), paused)
		switch {
		case err == nil:
		case errors.Is(err, ErrNotYourCall):
			a.audit(r, p, AuditDenied, "", callID, verb+": not your call")
			a.forbid(w, r, "call of another agent", "this call is not yours")
			return
		case errors.Is(err, ErrNoLiveCall):
			writeError(w, http.StatusConflict, "the call is not live or is not being recorded")
			return
		default:
			a.opt.Logger.Error("recording "+verb, "call_id", callID, "by", p.Username, "err", err)
			writeError(w, http.StatusServiceUnavailable, "the recording could not be "+done+"; try again")
			return
		}
		a.audit(r, p, action, a.liveRecordingID(r.Context(), callID), callID, "")
		writeJSON(w, http.StatusOK, map[string]string{"call_id": callID, "recording": state})
	}
}

// liveRecordingID returns the id of the call's recording in progress, for
// the audit event of a pause; "" when it cannot be told.
func (a *API) liveRecordingID(ctx context.Context, callID string) string {
	if a.opt.Recordings == nil {
		return ""
	}
	recs, _, err := a.opt.Recordings.ListRecordings(ctx, store.RecordingFilter{CallID: callID,
		State: store.RecordingActive, Page: store.Page{Limit: 1}})
	if err != nil || len(recs) == 0 {
		return ""
	}
	return recs[0].ID
}

// callRecording returns the newest recording of a call for GET
// /api/v1/calls/{id}: nil when it has none or there are no recordings.
func (a *API) callRecording(ctx context.Context, callID string) (*CallRecordingJSON, error) {
	if a.opt.Recordings == nil {
		return nil, nil
	}
	recs, _, err := a.opt.Recordings.ListRecordings(ctx, store.RecordingFilter{CallID: callID, Page: store.Page{Limit: 1}})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	j := recordingJSON(recs[0])
	return &CallRecordingJSON{ID: j.ID, State: j.State, DurationMS: j.DurationMS, AudioURL: j.AudioURL}, nil
}

// listAudit is GET /api/v1/audit?object=&actor=&action=&from=&to=&limit=
// (supervisors): the matching audit events, oldest first. For the next
// page ask again with from= the last event's at (that event comes again).
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := parseLimit(w, r, store.DefaultPageLimit, store.MaxPageLimit)
	if !ok {
		return
	}
	from, to, ok := parseRange(w, r)
	if !ok {
		return
	}
	evs, err := a.opt.AuditReader.ListAudit(r.Context(), store.AuditFilter{Object: q.Get("object"), Actor: q.Get("actor"),
		Action: q.Get("action"), From: from, To: to, Limit: limit})
	if err != nil {
		a.opt.Logger.Error("list audit", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the audit log is not reachable; try again")
		return
	}
	out := struct {
		Events []AuditEventJSON `json:"events"`
	}{Events: make([]AuditEventJSON, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, AuditEventJSON{ID: e.ID, At: e.At, Actor: e.Actor, Role: e.Role,
			Action: e.Action, Object: e.Object, CallID: e.CallID, Detail: e.Detail, Source: e.Source})
	}
	writeJSON(w, http.StatusOK, out)
}
