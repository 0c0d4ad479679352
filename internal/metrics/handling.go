package metrics

import (
	"time"
)

// agentStates are the ACD's agent states (acd.State values): the agents
// gauges show each of them from the start, at 0 while no agent is in it, so
// an alert on "no agent ready" sees a series before the first agent signs in.
var agentStates = []string{"signed_out", "ready", "not_ready", "offered", "on_call", "on_hold", "wrap_up", "consult"}

// Parts of hotline_queue_handle_seconds.
const (
	PartTalk   = "talk"   // connected, not on hold
	PartHold   = "hold"   // the agent put the caller on hold
	PartWrapup = "wrapup" // after-call work, until the agent is free again
)

// SetQueueAgents sets how many of a queue's members are in each agent state.
// States seen before and absent from byState read 0.
func (q *Queues) SetQueueAgents(queue string, byState map[string]int) {
	q.queueMu.Lock()
	defer q.queueMu.Unlock()
	seen := q.queueStates[queue]
	if seen == nil {
		seen = map[string]bool{}
		for _, st := range agentStates {
			seen[st] = true
		}
		q.queueStates[queue] = seen
	}
	for st := range byState {
		seen[st] = true
	}
	for st := range seen {
		q.queueAgents.WithLabelValues(queue, st).Set(float64(byState[st]))
	}
}

// Handled records one call an agent finished handling for queue: the time
// talking, on hold and in wrap-up (after-call work). AgentState calls it;
// call it directly only where AgentState is not fed, or calls count twice.
func (q *Queues) Handled(queue string, talk, hold, wrapup time.Duration) {
	q.handle.WithLabelValues(queue, PartTalk).Observe(talk.Seconds())
	q.handle.WithLabelValues(queue, PartHold).Observe(hold.Seconds())
	q.handle.WithLabelValues(queue, PartWrapup).Observe(wrapup.Seconds())
}

// handling is the call an agent is handling: since the agent took it, until
// the agent is free of it (wrap-up over, or straight on without wrap-up).
type handling struct {
	queue, call string
	state       string    // on_call, on_hold or wrap_up
	since       time.Time // when state began
	talk, hold  time.Duration
	wrapup      time.Duration
}

// AgentState follows one agent state change of the ACD (an AgentStateChanged
// decision: agent, the call and its queue when the state is about a call,
// the new state and when it began) and records the handle time of each call
// with Handled once its agent is done with it: on_call counts as talk,
// on_hold and consult (the caller waits while the agent consults another)
// as hold and wrap_up as wrap-up, from the agent's on_call for the
// call until the agent's first state that is not about that call. A call
// transferred from one agent to another is handled twice, once by each. The
// agent id is only a key while the call is handled, never a label.
func (q *Queues) AgentState(agent, call, queue, state string, at time.Time) {
	q.handlingMu.Lock()
	defer q.handlingMu.Unlock()
	h := q.handling[agent]
	if h != nil {
		d := max(at.Sub(h.since), 0)
		switch h.state {
		case "on_call":
			h.talk += d
		case "on_hold", "consult": // consulting, the agent has the caller on hold
			h.hold += d
		case "wrap_up":
			h.wrapup += d
		}
		if call == h.call && (state == "on_call" || state == "on_hold" || state == "wrap_up" || state == "consult") {
			h.state, h.since = state, at
			return
		}
		delete(q.handling, agent)
		q.Handled(h.queue, h.talk, h.hold, h.wrapup)
	}
	if state == "on_call" && call != "" {
		q.handling[agent] = &handling{queue: queue, call: call, state: state, since: at}
	}
}
