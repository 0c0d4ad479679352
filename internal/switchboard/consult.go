package switchboard

// Consultations (warm transfer): the agent on a call talks to another agent
// while the caller waits on hold, then hands the caller over or comes back.
//
// The ACD decides (acd/consult.go); the desk carries its decisions to both
// agents' pages (consultation messages) and to the call goroutine, which
// owns the media as for a hold: the caller's side is the hold's (the
// bridge's relays closed, hold music, the recording's hold marker), and the
// two agents' legs are joined by two relays on the caller's pacer, as a
// supervisor's hold relay joins theirs. Completing ends the first agent's
// part as a transfer does, and the ACD's Connected for the target bridges
// the caller to them through the call's one bridge code; cancelling resumes
// the hold.

import (
	"context"
	"strings"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
)

// monitorConsult: a supervisor leaves a call whose agent consults another.
const monitorConsult = "consult"

// consultReason maps the ACD's reasons a consultation ended to the
// protocol's words.
func consultReason(r string) string {
	switch r {
	case "completed", "cancelled", "rejected":
		return r
	case "ring timeout":
		return "timeout"
	case "caller hung up":
		return "caller_hangup"
	}
	return "agent_left"
}

// consultCommand handles an agent's consultation command: the agent on the
// call asks, completes or cancels; the consulted agent accepts or rejects.
// The ACD decides; refusals come back as errors with the command's type.
func (d *Desk) consultCommand(agent string, m softphone.Message) error {
	var in acd.Input
	own := false // the command is the call's agent's (true) or the consulted agent's
	switch m := m.(type) {
	case softphone.Consult:
		in, own = acd.Input{Kind: acd.ConsultRequested, Call: m.CallID, Agent: m.Agent}, true
	case softphone.ConsultComplete:
		in, own = acd.Input{Kind: acd.ConsultCompleted, Call: m.CallID}, true
	case softphone.ConsultCancel:
		in, own = acd.Input{Kind: acd.ConsultCancelled, Call: m.CallID}, true
	case softphone.ConsultAccept:
		in = acd.Input{Kind: acd.ConsultAccepted, Call: m.CallID, Agent: agent}
	case softphone.ConsultReject:
		in = acd.Input{Kind: acd.ConsultRejected, Call: m.CallID, Agent: agent}
	}
	d.mu.Lock()
	qc := d.calls[in.Call]
	ok := qc != nil && (own && qc.agent == agent || !own && qc.consult == agent)
	monitoring := d.monitors[agent] != ""
	d.mu.Unlock()
	switch {
	case !ok:
		return d.forbidden(agent, in.Call, m.Type())
	case in.Kind == acd.ConsultAccepted && monitoring:
		return &softphone.Error{Code: softphone.CodeState, Ref: m.Type(), Message: "you are monitoring a call; leave it first"}
	}
	d.submit(in)
	return nil
}

// consultDecision carries one of the ACD's consultation decisions to both
// agents' pages and to the call.
func (d *Desk) consultDecision(dec acd.Decision) {
	target := strings.TrimPrefix(dec.Target, "agent:")
	qc := d.call(dec.Call)
	if qc == nil {
		// The call left the desk first (the caller hung up): both pages
		// still hear that the consultation is over.
		if dec.Kind == acd.ConsultEnded {
			r := consultReason(dec.Reason)
			d.send(dec.Agent, softphone.Consultation{CallID: dec.Call, Role: softphone.ConsultInitiator, Status: softphone.ConsultEnded, Agent: target, Reason: r})
			d.send(target, softphone.Consultation{CallID: dec.Call, Role: softphone.ConsultTarget, Status: softphone.ConsultEnded, Agent: dec.Agent, Reason: r})
		}
		return
	}
	d.mu.Lock()
	mine := softphone.Consultation{CallID: qc.id, Role: softphone.ConsultInitiator, Agent: target}
	theirs := softphone.Consultation{CallID: qc.id, Role: softphone.ConsultTarget, Agent: dec.Agent,
		From: qc.ring.From, Queue: qc.ring.Queue, Vars: qc.ring.Vars, Caller: qc.ring.Caller}
	var ended softphone.Call
	switch dec.Kind {
	case acd.ConsultOffer:
		qc.consult, qc.consultTalking = target, false
		mine.Status, theirs.Status = softphone.ConsultRinging, softphone.ConsultRinging
		theirs.TimeoutMS = max(0, dec.Deadline.Sub(dec.At).Milliseconds())
	case acd.ConsultConnected:
		qc.consultTalking = true
		mine.Status, theirs.Status = softphone.ConsultTalking, softphone.ConsultTalking
	case acd.ConsultEnded:
		qc.consult, qc.consultTalking = "", false
		mine.Status, theirs.Status = softphone.ConsultEnded, softphone.ConsultEnded
		mine.Reason = consultReason(dec.Reason)
		theirs.Reason = mine.Reason
		if dec.Reason == "completed" {
			// The first agent is done with the call, as after a transfer;
			// the ACD's Connected gives it to the target next.
			qc.agent, qc.held = "", false
			ended = d.statusLocked(qc, softphone.CallEnded, "transfer")
		}
	}
	d.mu.Unlock()
	d.send(dec.Agent, mine)
	d.send(target, theirs)
	if ended.CallID != "" {
		d.send(dec.Agent, ended)
	}
	qc.deliver(dec, d.log)
}

// consultationOfLocked is the welcome's consultation of agent, the one on
// the call or the one consulted, nil when there is none; the caller holds
// mu.
func (d *Desk) consultationOfLocked(agent string) *softphone.Consultation {
	av := d.agents[agent]
	if av == nil {
		return nil
	}
	var k softphone.Consultation
	qc := d.calls[av.consult]
	switch {
	case qc != nil && qc.consult == agent:
		k = softphone.Consultation{CallID: qc.id, Role: softphone.ConsultTarget, Agent: qc.agent,
			From: qc.ring.From, Queue: qc.ring.Queue, Vars: qc.ring.Vars, Caller: qc.ring.Caller}
	case d.calls[av.call] != nil && d.calls[av.call].consult != "" && d.calls[av.call].agent == agent:
		qc = d.calls[av.call]
		k = softphone.Consultation{CallID: qc.id, Role: softphone.ConsultInitiator, Agent: qc.consult}
	default:
		return nil
	}
	k.Status = softphone.ConsultRinging
	if qc.consultTalking {
		k.Status = softphone.ConsultTalking
	}
	return &k
}

// consultRefused tells the agent whose consultation command the ACD
// refused why: the call's agent for theirs, the consulted agent for an
// accept or reject.
func (d *Desk) consultRefused(dec acd.Decision) {
	agent := dec.Agent
	ref := softphone.TypeConsultAccept
	switch dec.Input {
	case acd.ConsultRequested, acd.ConsultCompleted, acd.ConsultCancelled:
		qc := d.call(dec.Call)
		if qc == nil {
			return
		}
		agent = d.connectedTo(qc)
		switch dec.Input {
		case acd.ConsultRequested:
			ref = softphone.TypeConsult
		case acd.ConsultCompleted:
			ref = softphone.TypeConsultComplete
		default:
			ref = softphone.TypeConsultCancel
		}
	case acd.ConsultRejected:
		ref = softphone.TypeConsultReject
	}
	if agent != "" {
		d.send(agent, softphone.Error{Code: softphone.CodeInvalid, Message: dec.Reason, Ref: ref})
	}
}

// isConsultInput reports whether k is a consultation input.
func isConsultInput(k acd.InputKind) bool {
	switch k {
	case acd.ConsultRequested, acd.ConsultAccepted, acd.ConsultRejected, acd.ConsultCompleted, acd.ConsultCancelled:
		return true
	}
	return false
}

// consultLegs joins the two agents' legs of a consultation: each hears the
// other through a relay on the caller's pacer. Owned by the call goroutine.
type consultLegs struct {
	first, other *softphone.Leg
	toFirst      *media.Relay
	toOther      *media.Relay
}

// joinConsult connects first and other; the caller's endpoint ep paces them.
func joinConsult(ctx context.Context, ep *media.Endpoint, first, other *softphone.Leg, obs media.Observer) *consultLegs {
	c := &consultLegs{first: first, other: other,
		toFirst: ep.Relay(ctx, first, obs), toOther: ep.Relay(ctx, other, obs)}
	first.SetSink(c.toOther)
	other.SetSink(c.toFirst)
	return c
}

// close parts the two agents; closing nil does nothing. A leg whose sink
// is no longer this consultation's (the consulted agent took another call
// the moment the consultation ended) keeps it.
func (c *consultLegs) close() {
	if c == nil {
		return
	}
	c.first.DropSink(c.toOther)
	c.other.DropSink(c.toFirst)
	_ = c.toFirst.Close()
	_ = c.toOther.Close()
}
