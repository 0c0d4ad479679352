package switchboard

import (
	"log/slog"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/recordings"
)

// Recordings starts call recordings; *recordings.Service is one.
type Recordings interface {
	Start(o recordings.StartOptions) *recordings.Recording
}

// QueueRecording is what one queue records and how long it keeps it.
type QueueRecording struct {
	Mode      recordings.Mode
	Retention time.Duration
}

// RecordPolicy is every queue's recording setting. A queue it does not name
// records bridged calls and keeps them until deleted by hand.
type RecordPolicy map[string]QueueRecording

// For returns the queue's setting.
func (p RecordPolicy) For(queue string) QueueRecording {
	if q, ok := p[queue]; ok {
		return q
	}
	return QueueRecording{Mode: recordings.ModeBridged}
}

// whole reports whether some queue records its calls' IVR: then every call
// is recorded from its answer, and the recording is dropped when the call
// goes to a queue that does not.
func (p RecordPolicy) whole() bool {
	for _, q := range p {
		if q.Mode == recordings.ModeWhole {
			return true
		}
	}
	return false
}

// tape is one call's recording as the call goroutine drives it: it starts
// the recording when the call's queue says so (at the answer, on joining
// the queue, or when an agent answers), taps the caller's endpoint, and
// carries holds, agents, PCI pauses and mutes to it. Only the call goroutine
// calls its methods, except state, which the desk reads.
type tape struct {
	svc    Recordings
	policy RecordPolicy
	ep     *media.Endpoint
	callID string
	log    *slog.Logger
	event  func(kind, detail string)

	mu      sync.Mutex // guards rec for state
	rec     *recordings.Recording
	queue   string // the queue that chose the mode
	mode    recordings.Mode
	bridged bool // an agent has answered
}

func newTape(svc Recordings, policy RecordPolicy, ep *media.Endpoint, callID string, log *slog.Logger, event func(kind, detail string)) *tape {
	return &tape{svc: svc, policy: policy, ep: ep, callID: callID, log: log, event: event}
}

// answered is the call's answer: a call is recorded from here when some
// queue records the IVR.
func (t *tape) answered() {
	if t == nil || !t.policy.whole() {
		return
	}
	t.start("", 0)
}

// queued is the call joining queue from the IVR: the queue's mode decides
// whether the recording goes on, starts, waits for an agent, or is dropped.
func (t *tape) queued(queue string) {
	if t == nil || t.queue != "" {
		return
	}
	q := t.policy.For(queue)
	t.mu.Lock()
	t.queue, t.mode = queue, q.Mode
	t.mu.Unlock()
	switch {
	case q.Mode == recordings.ModeWhole && t.rec != nil:
		t.rec.SetQueue(queue, q.Retention)
	case t.rec != nil && q.Mode == recordings.ModeBridged:
		// Recorded from the answer for a queue that records from the
		// agent's answer: restarted then, dropped if no agent answers.
	case t.rec != nil && q.Mode == recordings.ModeFromQueue:
		// Recorded from the answer for a queue that records from here on.
		t.rec.Restart(queue, q.Retention)
		t.event("recording_restarted", "queue "+queue+" records from_queue")
	case t.rec != nil:
		// Recorded from the answer for a queue that does not record the IVR.
		t.ep.SetTaps(nil, nil)
		t.rec.Discard()
		t.setRec(nil)
		t.event("recording_discarded", "queue "+queue+" records "+string(q.Mode))
	case q.Mode == recordings.ModeFromQueue || q.Mode == recordings.ModeWhole:
		t.start(queue, q.Retention)
	}
}

// connected is an agent answering: a bridged queue's recording starts at
// the first, and each agent gets a segment.
func (t *tape) connected(agent string) {
	if t == nil {
		return
	}
	if t.mode == recordings.ModeBridged && !t.bridged {
		if t.rec == nil {
			t.start(t.queue, t.policy.For(t.queue).Retention)
		} else {
			t.rec.Restart(t.queue, t.policy.For(t.queue).Retention)
			t.event("recording_restarted", "queue "+t.queue+" records bridged")
		}
	}
	t.bridged = true
	t.rec.Segment(agent)
}

// voicemail is the caller leaving a message for queue: recorded from here
// (or on from the answer, for a call recorded whole), whatever the queue's
// mode, since the message is the whole point; kept as the queue says.
func (t *tape) voicemail(queue string) {
	if t == nil {
		return
	}
	q := t.policy.For(queue)
	t.mu.Lock()
	t.queue, t.mode = queue, recordings.ModeFromQueue
	t.mu.Unlock()
	if t.rec != nil {
		t.rec.Restart(queue, q.Retention)
		t.event("recording_restarted", "voicemail for "+queue)
		return
	}
	t.start(queue, q.Retention)
}

// left is the agent leaving the call (a transfer).
func (t *tape) left() {
	if t != nil {
		t.rec.EndSegment()
	}
}

// mark begins a marker (hold, PCI pause, mute) caused by by.
func (t *tape) mark(kind, by string) {
	if t != nil && t.rec != nil {
		t.rec.Mark(kind, by)
		t.event("recording_"+kind, "on "+by)
	}
}

// unmark ends a marker.
func (t *tape) unmark(kind, by string) {
	if t != nil && t.rec != nil {
		t.rec.Unmark(kind)
		t.event("recording_"+kind, "off "+by)
	}
}

// state is the recording as the agent's page shows it: RecordingOn,
// RecordingPaused, or "" when the call is not recorded. A bridged queue's
// call counts as recorded from its queueing on: the desk tells the agent
// of the connection before the call goroutine starts the recording.
func (t *tape) state() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	rec, bridged := t.rec, t.queue != "" && t.mode == recordings.ModeBridged
	t.mu.Unlock()
	switch {
	case rec == nil && bridged:
		return "on"
	case rec == nil:
		return ""
	case rec.Paused():
		return "paused"
	}
	return "on"
}

// recording reports whether the call is being recorded now.
func (t *tape) recording() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rec != nil
}

// close ends the recording with the call. A recording made from the
// answer for a bridged queue that no agent answered is dropped.
func (t *tape) close() {
	if t == nil || t.rec == nil {
		return
	}
	t.ep.SetTaps(nil, nil)
	if t.mode == recordings.ModeBridged && !t.bridged && t.queue != "" {
		t.rec.Discard()
		return
	}
	t.rec.Close()
}

func (t *tape) start(queue string, retention time.Duration) {
	rec := t.svc.Start(recordings.StartOptions{CallID: t.callID, Queue: queue, Retention: retention, Logger: t.log})
	t.setRec(rec)
	t.ep.SetTaps(rec.Caller(), rec.Heard())
	t.event("recording_started", rec.ID())
}

func (t *tape) setRec(r *recordings.Recording) {
	t.mu.Lock()
	t.rec = r
	t.mu.Unlock()
}
