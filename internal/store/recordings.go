package store

import (
	"context"
	"time"
)

// Recording states, as stored in recordings.state.
const (
	RecordingActive    = "recording" // being written (a .part file)
	RecordingComplete  = "complete"  // finished normally; sha256 set
	RecordingRecovered = "recovered" // finished from a .part after a crash
	RecordingFailed    = "failed"    // a write error stopped it; Reason says why
	RecordingDeleted   = "deleted"   // the file was removed (retention); the row stays
)

// Recording is one call's audio file and what is known about it. There is at
// most one per call and queue stay of the caller (one file across holds and
// transfers).
type Recording struct {
	ID     string // uuid v7 string
	CallID string
	// Path is the file's path relative to the recordings directory
	// ("2026/12/03/<id>.wav"); while recording it ends in ".part".
	Path   string
	Format string // FormatWAV or FormatSealedWAV
	State  string // one of the Recording* states
	Reason string // why it failed or was deleted; "" otherwise
	Queue  string // the queue whose settings chose recording and retention
	// Segments are the agents' spans in the file, in order; one per agent
	// connection (a transfer starts a new one).
	Segments []RecordingSegment
	// Markers are spans of the file that are silence on purpose (hold,
	// mute, PCI pause), in order.
	Markers    []RecordingMarker
	StartedAt  time.Time
	EndedAt    *time.Time // nil while recording
	DurationMS int64      // audio in the file, milliseconds
	Bytes      int64      // size of the finished file
	SHA256     string     // hex digest of the finished file; "" until then
	// RetainUntil is when the retention sweeper may delete the file; nil
	// keeps it until deleted by hand.
	RetainUntil *time.Time
	// LegalHold keeps the file past RetainUntil. SaveRecording leaves the
	// stored value alone; only SetLegalHold changes it.
	LegalHold bool
	UpdatedAt time.Time
}

// Formats of a recording file.
const (
	FormatWAV       = "wav"     // RIFF WAVE, PCM 16-bit, 8 kHz, stereo (left caller, right agent)
	FormatSealedWAV = "wav+age" // the same WAV bytes, encrypted to an age recipient in sealed frames
)

// RecordingSegment is one agent's span of a recording, in milliseconds from
// the start of the file. EndMS is 0 while the agent is still on the call.
type RecordingSegment struct {
	Agent   string `json:"agent"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
}

// RecordingMarker is a span of deliberate silence in a recording: Kind is
// "hold", "mute" or "pci"; By is who caused it. EndMS is 0 while it lasts.
type RecordingMarker struct {
	Kind    string `json:"kind"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	By      string `json:"by,omitempty"`
}

// Agents returns the agents of the segments, each once, in order.
func (r Recording) Agents() []string {
	var out []string
	for _, s := range r.Segments {
		seen := false
		for _, a := range out {
			seen = seen || a == s.Agent
		}
		if !seen {
			out = append(out, s.Agent)
		}
	}
	return out
}

// RecordingFilter selects recordings for ListRecordings. Zero fields match
// everything; From and To bound StartedAt (From <= StartedAt < To).
type RecordingFilter struct {
	CallID string
	Agent  string // an agent of one of the segments
	Queue  string
	State  string
	From   time.Time
	To     time.Time
	Page   Page // newest first by (StartedAt, ID)
}

// RecordingStore keeps the recordings table. As for calls, a Recording read
// back equals the one saved once its times are in UTC at microsecond
// precision and empty Segments and Markers are nil.
type RecordingStore interface {
	// SaveRecording inserts or replaces the recording with r.ID (last write
	// wins), except LegalHold, which keeps its stored value (a new row takes
	// r.LegalHold). An empty ID fails with ErrRejected.
	SaveRecording(ctx context.Context, r Recording) error
	// GetRecording returns one recording or ErrNotFound.
	GetRecording(ctx context.Context, id string) (Recording, error)
	// ListRecordings returns one page of recordings matching f, newest first,
	// and the cursor of the next page ("" on the last page). Agent matches
	// an agent name of a segment exactly. A cursor ListRecordings did not
	// produce fails with ErrBadCursor.
	ListRecordings(ctx context.Context, f RecordingFilter) ([]Recording, string, error)
	// ExpiredRecordings returns up to limit recordings whose RetainUntil is
	// at or before now, that are not on legal hold and not deleted nor still
	// recording, oldest deadline first (then by ID). limit <= 0 means
	// DefaultPageLimit; at most MaxPageLimit are returned.
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]Recording, error)
	// SetLegalHold sets or clears the legal hold; ErrNotFound for no such id.
	// It changes nothing else (UpdatedAt stays the last snapshot's).
	SetLegalHold(ctx context.Context, id string, hold bool) error
}

// AuditEvent is one access to something that must be accounted for: a
// recording played or downloaded, a refused attempt, a legal hold set.
type AuditEvent struct {
	ID     string // uuid v7 string, chosen by the producer; a retried write is a no-op
	At     time.Time
	Actor  string // username, or "token:NAME"
	Role   string
	Action string // "recording.play", "recording.denied", "recording.hold", ...
	Object string // the id of what was accessed (a recording id)
	CallID string // the call it belongs to, when known
	Detail string // free text: the byte range, the reason of a refusal, ...
	Source string // the client address
}

// AuditFilter selects audit events: zero fields match everything; From and To
// bound At (From <= At < To). Limit 0 means DefaultPageLimit, at most
// MaxPageLimit; oldest first.
type AuditFilter struct {
	Object string
	Actor  string
	Action string
	From   time.Time
	To     time.Time
	Limit  int
}

// AuditStore keeps the append-only audit log.
type AuditStore interface {
	// AppendAudit stores events; one whose ID is stored is ignored. An event
	// with an empty ID fails the whole batch with ErrRejected.
	AppendAudit(ctx context.Context, ev []AuditEvent) error
	// ListAudit returns the events matching f, oldest first by (At, ID).
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}
