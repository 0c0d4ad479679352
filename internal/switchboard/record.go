package switchboard

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/webhooks"
	"github.com/hotline/hotline/ivr"
)

// record is one call's row and event list as the switchboard builds them. The
// call goroutine and the digit reader both append events, so it locks.
type record struct {
	mu   sync.Mutex
	w    Recorder
	now  func() time.Time
	call store.Call
	seq  int
}

func newRecord(w Recorder, now func() time.Time, c store.Call) *record {
	return &record{w: w, now: now, call: c}
}

func (r *record) flow() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call.Flow
}

// event appends one entry to the call's history.
func (r *record) event(kind, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.w.AppendEvent(store.Event{CallID: r.call.ID, Seq: r.seq, At: r.now(), Kind: kind, Detail: detail})
}

// snapshot returns a copy of the row as it is now.
func (r *record) snapshot() store.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.call
	c.IVRPath = slices.Clone(c.IVRPath)
	c.Vars = maps.Clone(c.Vars)
	return c
}

// queue is the call's queue, "" before it joins one.
func (r *record) queue() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call.Queue
}

// save writes the current snapshot of the row.
func (r *record) save() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saveLocked()
}

func (r *record) saveLocked() {
	c := r.call
	c.IVRPath = slices.Clone(c.IVRPath)
	c.Vars = maps.Clone(c.Vars)
	c.UpdatedAt = r.now()
	r.w.SaveCall(c)
}

// setIVR copies what the flow found out into the row.
func (r *record) setIVR(o ivr.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.call.IVRPath = o.Path
	r.call.Digits = o.Digits
	r.call.Vars = o.Vars
	if o.Language != "" {
		r.call.Language = o.Language
	}
	r.saveLocked()
}

// ivrStep copies one IVR event's progress into the row and saves it: the
// node entered, a key pressed (or dropped by a flush), a variable set, the
// language chosen. A call cut off in the IVR (the process killed) thus keeps
// how far it got; setIVR puts the flow's own account in place at the end
// (its digits are those the flow consumed). Other events change nothing; the
// Writer coalesces the snapshots of one call.
func (r *record) ivrStep(e ivr.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case "enter":
		r.call.IVRPath = append(r.call.IVRPath, e.Node)
	case "digit":
		r.call.Digits += e.Detail
	case "flush":
		r.call.Digits = strings.TrimSuffix(r.call.Digits, e.Detail)
	case "var":
		name, value, ok := strings.Cut(e.Detail, "=")
		if !ok {
			return
		}
		if r.call.Vars == nil {
			r.call.Vars = map[string]string{}
		}
		r.call.Vars[name] = value
	case "language":
		r.call.Language = e.Detail
	default:
		return
	}
	r.saveLocked()
}

func (r *record) language() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call.Language
}

// publish appends an event that the webhooks deliver as topic, with the
// call's details (agent and cause as given) as the payload.
func (r *record) publish(kind, detail, topic, agent, cause string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	at := r.now()
	payload, err := json.Marshal(webhooks.CallPayload{
		CallID: r.call.ID, From: r.call.From, To: r.call.To, Queue: r.call.Queue, Agent: agent, Cause: cause, At: at,
	})
	if err != nil { // a struct of strings always marshals; keep the event regardless
		payload = nil
	}
	r.w.AppendEvent(store.Event{CallID: r.call.ID, Seq: r.seq, At: at, Kind: kind, Detail: detail,
		Publish: topic, Payload: payload})
}

// offered notes an offer to an agent; the row keeps the first offer's time.
func (r *record) offered(agent string) {
	r.publish("offered", agent, store.TopicCallRinging, agent, "")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.call.OfferedAt == nil {
		t := r.now()
		r.call.OfferedAt = &t
		r.saveLocked()
	}
}

// answeredBy notes the agent who took the call. The row keeps the first
// answer's time (the end of the queue wait) and the last agent (after
// transfers, the one who ended up with the caller).
func (r *record) answeredBy(agent string) {
	r.publish("agent_answered", agent, store.TopicCallAnswered, agent, "")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.call.ConnectedAt == nil {
		t := r.now()
		r.call.ConnectedAt = &t
	}
	r.call.Agent = agent
	r.saveLocked()
}

// wrapUp stores the agent's disposition and note, after the call.
func (r *record) wrapUp(agent, disposition, note string) {
	r.event("wrapup", agent+" "+disposition)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.call.Disposition, r.call.Note = disposition, note
	r.saveLocked()
}

// voicemail marks the call as leaving a message for queue.
func (r *record) voicemail(queue string) {
	r.mu.Lock()
	r.call.Outcome = OutcomeVoicemail
	r.call.Queue = queue
	r.saveLocked()
	r.mu.Unlock()
	r.event("voicemail", queue)
}

// queued marks the call as routed to a queue.
func (r *record) queued(queue string) {
	r.mu.Lock()
	r.call.Outcome = OutcomeQueued
	r.call.Queue = queue
	t := r.now()
	r.call.QueuedAt = &t
	r.saveLocked()
	r.mu.Unlock()
	r.event("queued", queue)
}

// finish closes the row: outcome, who hung up and why, the end time.
// The webhooks' call.ended carries the outcome as its cause.
func (r *record) finish(outcome, side, cause string) {
	r.mu.Lock()
	end := r.now()
	r.call.EndedAt = &end
	r.call.Outcome = outcome
	r.call.HangupSide = side
	r.call.HangupCause = cause
	agent := r.call.Agent
	r.mu.Unlock()
	// The history's last entry first, then the row: whoever reads the row
	// as ended finds its "ended" entry too (the Writer writes events first).
	r.publish("ended", side+" "+cause, store.TopicCallEnded, agent, outcome)
	r.save()
}
