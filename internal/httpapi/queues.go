package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hotline/hotline/acd"
)

// QueueReader is the live view of the ACD (the switchboard's Desk).
type QueueReader interface {
	Snapshot(ctx context.Context) (acd.Snapshot, error)
}

// QueuesJSON is GET /api/v1/queues: the ACD's live state as of At.
type QueuesJSON struct {
	At     time.Time   `json:"at"`
	Queues []QueueJSON `json:"queues"` // in configuration order
	Agents []AgentJSON `json:"agents"` // by agent id; members of a queue only
}

// QueueJSON is one queue's live figures. Durations are whole milliseconds.
type QueueJSON struct {
	Name          string          `json:"name"`
	Waiting       int             `json:"waiting"`  // not yet offered, including reserved
	Reserved      int             `json:"reserved"` // of waiting: transferred to an agent who has not taken them yet
	Ringing       int             `json:"ringing"`
	Talking       int             `json:"talking"`
	LongestWaitMS int64           `json:"longest_wait_ms"` // of the calls waiting now; 0 when none waits
	Ready         int             `json:"ready"`           // members ready now
	Staffed       int             `json:"staffed"`         // members ready, ringing, talking or in wrap-up
	SignedIn      int             `json:"signed_in"`
	AHTMS         int64           `json:"aht_ms"` // smoothed handle time the wait estimates use
	Calls         []QueueCallJSON `json:"calls"`
}

// QueueCallJSON is one call in a queue: waiting calls first, by position,
// then ringing, connected and reserved calls.
type QueueCallJSON struct {
	Call     string   `json:"call"`
	State    string   `json:"state"`    // waiting, ringing, connected, reserved
	Position int      `json:"position"` // 1-based for waiting calls; 0 for the others
	Priority int      `json:"priority"`
	WaitedMS int64    `json:"waited_ms"` // since it joined the queue
	Agents   []string `json:"agents"`    // ringing or connected agents; a reserved call's target
	Language string   `json:"language"`
	Skills   []string `json:"skills"`
}

// AgentJSON is one agent's live state. Since is null for an agent who has
// not signed in since the server started.
type AgentJSON struct {
	Agent     string     `json:"agent"`
	State     string     `json:"state"`
	Reason    string     `json:"reason"`
	Since     *time.Time `json:"since"`
	Call      string     `json:"call"`
	Connected bool       `json:"connected"` // the browser is attached
	Queues    []string   `json:"queues"`
}

// queuesJSON is the API's view of an ACD snapshot. A user who is a member
// of no queue (a supervisor whose softphone is connected to listen in) is
// not an agent and is left out.
func queuesJSON(s acd.Snapshot) QueuesJSON {
	out := QueuesJSON{At: s.At, Queues: make([]QueueJSON, 0, len(s.Queues)), Agents: make([]AgentJSON, 0, len(s.Agents))}
	ready := map[string]int{}
	for _, a := range s.Agents {
		if len(a.Queues) == 0 {
			continue
		}
		if a.State == acd.StateReady {
			for _, q := range a.Queues {
				ready[q]++
			}
		}
		v := AgentJSON{
			Agent: a.Agent, State: string(a.State), Reason: a.Reason, Call: a.Call, Connected: a.Connected,
			Queues: slices.Clone(a.Queues),
		}
		if !a.Since.IsZero() {
			since := a.Since
			v.Since = &since
		}
		out.Agents = append(out.Agents, v)
	}
	for _, q := range s.Queues {
		v := QueueJSON{
			Name: q.Name, Waiting: q.Waiting, Reserved: q.Reserved, Ringing: q.Ringing, Talking: q.Talking,
			LongestWaitMS: q.LongestWait.Milliseconds(), Ready: ready[q.Name], Staffed: q.Staffed,
			SignedIn: q.SignedIn, AHTMS: max(q.AHT, 0).Milliseconds(), Calls: make([]QueueCallJSON, 0, len(q.Calls)),
		}
		for _, c := range q.Calls {
			v.Calls = append(v.Calls, QueueCallJSON{
				Call: c.Call, State: c.State, Position: c.Position, Priority: c.Priority,
				WaitedMS: c.Waited.Milliseconds(), Agents: nonNil(c.Agents), Language: c.Language,
				Skills: nonNil(c.Skills),
			})
		}
		out.Queues = append(out.Queues, v)
	}
	return out
}

// nonNil is a copy of list, [] rather than nil when empty.
func nonNil(list []string) []string {
	return append([]string{}, list...)
}

// listQueues is GET /api/v1/queues (supervisors): every queue's waiting,
// ringing and talking calls, longest wait, staffing, and every agent's
// state, as of now (QueuesJSON).
func (a *API) listQueues(w http.ResponseWriter, r *http.Request) {
	snap, err := a.opt.Queues.Snapshot(r.Context())
	if err != nil {
		a.opt.Logger.Error("queue snapshot", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the ACD is not running")
		return
	}
	writeJSON(w, http.StatusOK, queuesJSON(snap))
}
