package acd

// Consultations (warm transfer): the agent on a connected call asks to talk
// to another agent first, while the caller waits on hold.
//
//	ConsultRequested  the agent on Call asks for Agent (who must be ready):
//	                  both become consult, and Agent is offered the
//	                  consultation (ConsultOffer) until the queue's ring timeout
//	ConsultAccepted   Agent takes it: the two talk (ConsultConnected)
//	ConsultRejected   Agent declines (or, after accepting, leaves it)
//	ConsultCompleted  the caller goes to Agent (ConsultEnded "completed", then
//	                  Connected for the target); the first agent goes on as
//	                  after CallEnded (wrap-up, then ready)
//	ConsultCancelled  the consultation ends; the first agent is back on the call
//
// Whenever a consultation ends without completing (cancelled, rejected,
// "ring timeout", the target signs out or disconnects, the first agent's
// browser goes away) the call stays with the first agent, who is on_call
// again, and the target becomes ready (not_ready "missed call" after a ring
// timeout, "disconnected" or signed out when they left). When the caller
// hangs up during one, both are released: the first agent to wrap-up, the
// target to ready. A refused request changes nothing (Rejected).
//
// Handle time: the first agent's handle time runs from their answer to the
// end of their wrap-up, so it includes the consultation; the target's runs
// from the completion.

// consultation is a consultation under way on a connected call.
type consultation struct {
	from, to *agent
	talking  bool // the target accepted
}

func (m *machine) consultInput(in Input) {
	c := m.calls[in.Call]
	if c == nil {
		m.reject(in, "no call %q in the ACD", in.Call)
		return
	}
	if in.Kind == ConsultRequested {
		m.consultRequested(in, c)
		return
	}
	k := c.consult
	switch {
	case k == nil:
		m.reject(in, "no consultation on call %q", c.id)
		return
	case (in.Kind == ConsultAccepted || in.Kind == ConsultRejected) && k.to.id != in.Agent:
		m.reject(in, "agent %q is not consulted on call %q", in.Agent, c.id)
		return
	}
	switch in.Kind {
	case ConsultAccepted:
		if k.talking {
			m.reject(in, "the consultation on call %q is already answered", c.id)
			return
		}
		k.talking = true
		k.to.timerGen++ // no ring timeout any more
		m.emit(Decision{Kind: ConsultConnected, Call: c.id, Agent: k.from.id, Queue: c.q.cfg.Name, Target: "agent:" + k.to.id})
	case ConsultRejected:
		m.endConsult(c, "rejected")
		m.finishWork(k.to)
		m.setState(k.from, StateOnCall, "", c)
	case ConsultCancelled:
		m.endConsult(c, "cancelled")
		m.finishWork(k.to)
		m.setState(k.from, StateOnCall, "", c)
	case ConsultCompleted:
		if !k.talking {
			m.reject(in, "agent %q has not answered the consultation yet", k.to.id)
			return
		}
		from, to := k.from, k.to
		m.endConsult(c, "completed")
		c.agent = to
		to.call, to.handleStart, to.handleQ = c, m.now, c.q
		m.emit(Decision{Kind: Connected, Call: c.id, Agent: to.id, Queue: c.q.cfg.Name})
		m.endCall(from, c)
		m.setState(to, StateOnCall, "", c)
	}
}

func (m *machine) consultRequested(in Input, c *call) {
	from, to := c.agent, m.agents[in.Agent]
	switch {
	case c.state != callConnected:
		m.reject(in, "call %q is not connected", c.id)
	case c.consult != nil:
		m.reject(in, "a consultation on call %q is already under way", c.id)
	case to == nil:
		m.reject(in, "no agent %q", in.Agent)
	case to == from:
		m.reject(in, "agent %q is already on the call", in.Agent)
	case !to.connected || to.pendingSignOut:
		m.reject(in, "agent %q is not connected", in.Agent)
	case to.state != StateReady:
		m.reject(in, "agent %q is not ready (%s)", in.Agent, to.state)
	default:
		c.consult = &consultation{from: from, to: to}
		to.consultOf = c
		deadline := m.now.Add(c.q.cfg.RingTimeout)
		m.emit(Decision{Kind: ConsultOffer, Call: c.id, Agent: from.id, Queue: c.q.cfg.Name, Target: "agent:" + to.id, Deadline: deadline})
		m.setState(from, StateConsult, "", c)
		m.setState(to, StateConsult, "", c)
		m.agentTimer(to, deadline)
	}
}

// endConsult ends c's consultation and reports why; the callers move both
// agents on.
func (m *machine) endConsult(c *call, reason string) {
	k := c.consult
	c.consult = nil
	k.to.consultOf = nil
	k.to.timerGen++
	m.emit(Decision{Kind: ConsultEnded, Call: c.id, Agent: k.from.id, Queue: c.q.cfg.Name, Target: "agent:" + k.to.id, Reason: reason})
}

// consultGone ends the consultation a is part of because a left (signed
// out, disconnected, or the target's offer rang out): the call stays with
// the first agent. It reports whether a was the target.
func (m *machine) consultGone(a *agent, reason string) (target bool) {
	c := a.consultOf
	if c == nil {
		c = a.call
	}
	if c == nil || c.consult == nil {
		return false
	}
	k := c.consult
	m.endConsult(c, reason)
	if a == k.to {
		m.setState(k.from, StateOnCall, "", c)
		return true
	}
	m.finishWork(k.to)
	m.setState(k.from, StateOnCall, "", c)
	return false
}
