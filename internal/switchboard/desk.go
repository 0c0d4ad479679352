package switchboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
)

// AgentPhones is the part of the softphone hub the desk needs: a way to tell
// an agent's browser something, and the agent's media leg for a bridge.
type AgentPhones interface {
	Send(agent string, m softphone.Message) error
	Leg(agent string) (*softphone.Leg, error)
}

// Desk joins the ACD, the agents' browsers and the waiting calls. It feeds
// the ACD its inputs (calls joining and leaving, agents' commands), carries
// each ACD decision to the browser and the call it concerns, and checks that
// an agent acts only on their own offers and calls. It implements
// softphone.Desk; Run is its one goroutine.
type Desk struct {
	acd     *acd.ACD
	log     *slog.Logger
	reasons []string
	// ReasonLabels, when set before Run, are the not-ready reasons as
	// people read them (acd.Config.NotReadyLabels), sent in each welcome.
	ReasonLabels map[string]map[string]string
	// CallTimes, when set before Run, are each queue's wrap-up time and
	// hold warning, sent in the call messages.
	CallTimes map[string]CallTimes
	// OnAgentState, when set, sees every agent state change (the store's agent
	// event list, metrics). It runs on the dispatch goroutine: keep it short.
	OnAgentState func(acd.Decision)
	// OnWrapupEnded, when set, sees each answered call once its agent's
	// wrap-up is over (the call row with the agent's note and disposition):
	// the helpdesk logs it against a ticket. It runs on the dispatch
	// goroutine or the agent's: it must not block.
	OnWrapupEnded func(store.Call)

	mu      sync.Mutex
	phones  AgentPhones
	calls   map[string]*queuedCall
	agents  map[string]*agentView
	wrapups map[string]*record // ended calls whose agent is in wrap-up, by call id
	// dispositions are each queue's wrap-up codes (SetDispositions).
	dispositions map[string][]string
	// monitors are the calls supervisors monitor, by supervisor (monitor.go).
	monitors map[string]string
}

// agentView is what the desk knows of one agent, from the ACD's decisions.
type agentView struct {
	state  acd.State
	reason string
	since  time.Time
	offer  string // call being offered to the agent
	call   string // call the agent talks to or holds
	wrapup string // call the agent is wrapping up
	// consult is the call the agent is consulted on (consult.go).
	consult string
}

// queuedCall is one call in the ACD, as its call goroutine and the desk share it.
type queuedCall struct {
	id        string
	ring      softphone.Ring // caller details for the browser (no CallID/timeout); Queue guarded by Desk.mu
	rec       *record
	tape      *tape                  // the call's recording; nil when nothing records
	decisions *mailbox[acd.Decision] // ACD decisions about this call, in order
	commands  chan command           // the connected agent's hangup/hold/dtmf/transfer
	agent     string                 // connected agent; guarded by Desk.mu
	held      bool                   // guarded by Desk.mu
	left      chan struct{}          // closed when the call left the desk
	// monitor is the supervisor on the call and monitorMode their mode
	// (monitor.go); guarded by Desk.mu.
	monitor, monitorMode string
	// consult is the agent consulted on the call, during a consultation
	// (consult.go); guarded by Desk.mu.
	consult string
	// consultTalking: the consulted agent answered; guarded by Desk.mu.
	consultTalking bool
}

// command is an agent's command on their call. The call goroutine acts on
// it only while that agent is still the one on the call: a command sent just
// before a transfer must not reach the next agent's conversation.
type command struct {
	agent string
	m     softphone.Message
	// supervisor: sent by a supervisor, agent names them, and the call
	// goroutine takes it whoever is on the call (the PCI pause, monitoring).
	supervisor bool
}

// by is who sent the command.
func (c command) by() string { return c.agent }

// Errors of PauseRecording.
var (
	// ErrNoCall: no such live call, or it is not recorded.
	ErrNoCall = errors.New("switchboard: no such live call, or it is not recorded")
	// ErrNotYours: an agent asked about another agent's call.
	ErrNotYours = errors.New("switchboard: the call is not yours")
)

// CallTimes are one queue's times an agent page counts: the wrap-up time
// and how long a hold lasts before the page warns.
type CallTimes struct {
	WrapUp   time.Duration
	HoldWarn time.Duration
}

// NewDesk builds a desk over an ACD; reasons are the not-ready reasons
// agents may choose.
func NewDesk(a *acd.ACD, reasons []string, log *slog.Logger) *Desk {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Desk{
		acd: a, log: log, reasons: slices.Clone(reasons),
		calls: map[string]*queuedCall{}, agents: map[string]*agentView{}, wrapups: map[string]*record{},
		monitors: map[string]string{},
	}
}

// SetPhones connects the agents' phones; the hub is built with the desk as
// its Desk, so it arrives second.
func (d *Desk) SetPhones(p AgentPhones) {
	d.mu.Lock()
	d.phones = p
	d.mu.Unlock()
}

// SetDispositions sets each queue's wrap-up codes (from the configuration,
// again on reload). A queue with codes does not let its agents finish
// wrap-up without one.
func (d *Desk) SetDispositions(byQueue map[string][]string) {
	d.mu.Lock()
	d.dispositions = byQueue
	d.mu.Unlock()
}

// CallerOf returns the phone number of the caller the agent is talking to
// or wrapping up, or "" when there is none.
func (d *Desk) CallerOf(agent string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	av := d.agents[agent]
	switch {
	case av == nil:
		return ""
	case d.calls[av.call] != nil:
		return d.calls[av.call].ring.From
	case d.wrapups[av.wrapup] != nil:
		return d.wrapups[av.wrapup].snapshot().From
	}
	return ""
}

// Errors of SetNotReady.
var (
	// ErrUnknownAgent: no queue has the agent as a member.
	ErrUnknownAgent = errors.New("switchboard: no such agent in the queues")
	// ErrUnknownReason: the reason is not one of the configured not-ready
	// reasons.
	ErrUnknownReason = errors.New("switchboard: not a configured not-ready reason")
)

// SetNotReady puts an agent in not ready with reason (one of the
// configured reasons; "" is the first), on a supervisor's word; on a call,
// the ACD applies it when the call ends.
func (d *Desk) SetNotReady(agent, reason string) error {
	if !slices.Contains(d.acd.Agents(), agent) {
		return ErrUnknownAgent
	}
	if reason == "" && len(d.reasons) > 0 {
		reason = d.reasons[0]
	}
	if !slices.Contains(d.reasons, reason) {
		return fmt.Errorf("%w: %q (the reasons are %s)", ErrUnknownReason, reason, strings.Join(d.reasons, ", "))
	}
	d.submit(acd.Input{Kind: acd.AgentNotReady, Agent: agent, Reason: reason})
	return nil
}

// Caller returns a live call's caller number and queue, and when an agent
// answered it (zero while it waits), for the wallboard.
func (d *Desk) Caller(callID string) (from, queue string, connected time.Time, ok bool) {
	d.mu.Lock()
	qc := d.calls[callID]
	d.mu.Unlock()
	if qc == nil {
		return "", "", time.Time{}, false
	}
	c := qc.rec.snapshot()
	if c.ConnectedAt != nil {
		connected = *c.ConnectedAt
	}
	return c.From, c.Queue, connected, true
}

// Snapshot returns the ACD's live view (queues, calls, agents).
func (d *Desk) Snapshot(ctx context.Context) (acd.Snapshot, error) { return d.acd.Snapshot(ctx) }

// Run carries the ACD's decisions until the ACD stops.
func (d *Desk) Run() {
	for dec := range d.acd.Decisions() {
		d.dispatch(dec)
	}
}

func (d *Desk) dispatch(dec acd.Decision) {
	switch dec.Kind {
	case acd.AgentStateChanged:
		var ended *record
		d.mu.Lock()
		av := d.agent(dec.Agent)
		av.state, av.reason, av.since = dec.State, dec.Reason, dec.At
		av.offer, av.call, av.consult = "", "", ""
		switch dec.State {
		case acd.StateOffered:
			av.offer = dec.Call
		case acd.StateOnCall, acd.StateOnHold:
			av.call, av.wrapup = dec.Call, ""
		case acd.StateConsult:
			if qc := d.calls[dec.Call]; qc != nil && qc.consult == dec.Agent {
				av.consult = dec.Call // the consulted agent
			} else {
				av.call, av.wrapup = dec.Call, ""
			}
		case acd.StateWrapUp:
			av.wrapup = dec.Call
		default:
			if rec := d.wrapups[av.wrapup]; rec != nil {
				ended = rec // the wrap-up time ran out
			}
			delete(d.wrapups, av.wrapup)
			av.wrapup = ""
		}
		d.mu.Unlock()
		d.wrapupEnded(ended)
		d.send(dec.Agent, softphone.State{State: string(dec.State), Reason: dec.Reason, Since: dec.At.UnixMilli()})
		if d.OnAgentState != nil {
			d.OnAgentState(dec)
		}
	case acd.Offer:
		if qc := d.call(dec.Call); qc != nil {
			// The offer is the agent's before the ring reaches the browser:
			// the state change that says so comes after this decision, and an
			// agent may accept sooner.
			d.mu.Lock()
			d.agent(dec.Agent).offer = dec.Call
			ring := qc.ring
			d.mu.Unlock()
			ring.CallID = dec.Call
			ring.TimeoutMS = max(0, dec.Deadline.Sub(dec.At).Milliseconds())
			d.send(dec.Agent, ring)
			qc.deliver(dec, d.log)
		}
	case acd.OfferWithdrawn:
		d.send(dec.Agent, softphone.RingCancel{CallID: dec.Call, Reason: cancelReason(dec.Reason)})
		if qc := d.call(dec.Call); qc != nil {
			qc.deliver(dec, d.log)
		}
	case acd.Connected:
		if qc := d.call(dec.Call); qc != nil {
			d.mu.Lock()
			qc.agent = dec.Agent
			d.mu.Unlock()
			d.send(dec.Agent, d.status(qc, softphone.CallConnected, ""))
			qc.deliver(dec, d.log)
		}
	case acd.Transferred:
		// The transferring agent is done with the call now: their commands
		// on it are refused from here on, and their page shows it ended
		// before the state message that follows (wrap-up).
		if qc := d.call(dec.Call); qc != nil {
			d.mu.Lock()
			qc.agent, qc.held = "", false
			qc.ring.Queue = dec.Queue
			d.mu.Unlock()
			d.send(dec.Agent, d.status(qc, softphone.CallEnded, "transfer"))
			qc.deliver(dec, d.log)
		}
	case acd.ConsultOffer, acd.ConsultConnected, acd.ConsultEnded:
		d.consultDecision(dec)
	case acd.Overflow, acd.Announce, acd.TransferLapsed:
		if qc := d.call(dec.Call); qc != nil {
			qc.deliver(dec, d.log)
		}
	case acd.Rejected:
		switch {
		case isConsultInput(dec.Input):
			d.consultRefused(dec)
		case dec.Input == acd.CallQueued || dec.Input == acd.CallTransferred:
			if qc := d.call(dec.Call); qc != nil {
				qc.deliver(dec, d.log)
			}
		case dec.Agent != "" && (dec.Input == acd.OfferAccepted || dec.Input == acd.AgentReady || dec.Input == acd.AgentNotReady):
			d.send(dec.Agent, softphone.Error{Code: softphone.CodeState, Message: dec.Reason, Ref: string(dec.Input)})
		default:
			d.log.Debug("acd refused an input", "input", dec.Input, "call_id", dec.Call, "agent", dec.Agent, "reason", dec.Reason)
		}
	}
}

// cancelReason maps the ACD's withdrawal reasons to the protocol's words.
func cancelReason(r string) string {
	switch r {
	case "caller hung up":
		return "caller_hangup"
	case "ring timeout":
		return "timeout"
	case "answered elsewhere":
		return "taken"
	}
	return "rerouted"
}

func (d *Desk) agent(id string) *agentView {
	av := d.agents[id]
	if av == nil {
		av = &agentView{state: acd.StateSignedOut}
		d.agents[id] = av
	}
	return av
}

func (d *Desk) call(id string) *queuedCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[id]
}

func (d *Desk) send(agent string, m softphone.Message) {
	d.mu.Lock()
	p := d.phones
	d.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.Send(agent, m); err != nil {
		d.log.Debug("agent not reachable", "agent", agent, "type", m.Type(), "err", err)
	}
}

// maxPendingDecisions bounds a call's decisions not yet taken: far more
// than one call gets between two reads.
const maxPendingDecisions = 64

// deliver hands a decision to the call goroutine. A full mailbox means the
// call goroutine is stuck, which is logged, not waited for.
func (qc *queuedCall) deliver(dec acd.Decision, log *slog.Logger) {
	if !qc.decisions.put(dec) {
		log.Error("call is not taking queue decisions; dropped one", "call_id", qc.id, "kind", dec.Kind)
	}
}

// status is a call message for the agent's browser.
func (d *Desk) status(qc *queuedCall, st, endedBy string) softphone.Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statusLocked(qc, st, endedBy)
}

// connectedTo is the agent the desk has connected the call to ("" while
// it waits).
func (d *Desk) connectedTo(qc *queuedCall) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return qc.agent
}

// status is a call message for the agent's browser; the caller holds Desk.mu.
func (d *Desk) statusLocked(qc *queuedCall, st, endedBy string) softphone.Call {
	return softphone.Call{
		CallID: qc.id, Status: st, From: qc.ring.From, Queue: qc.ring.Queue, Language: qc.ring.Language,
		Vars: qc.ring.Vars, IVRPath: qc.ring.IVRPath, IVRSteps: qc.ring.IVRSteps, Tickets: qc.ring.Tickets, Caller: qc.ring.Caller,
		WrapUpMS: d.CallTimes[qc.ring.Queue].WrapUp.Milliseconds(), HoldWarnMS: d.CallTimes[qc.ring.Queue].HoldWarn.Milliseconds(),
		Dispositions: d.dispositions[qc.ring.Queue], EndedBy: endedBy, Recording: qc.tape.state(),
	}
}

// wrapupEnded hands a call whose wrap-up is over to OnWrapupEnded.
func (d *Desk) wrapupEnded(rec *record) {
	if rec != nil && d.OnWrapupEnded != nil {
		d.OnWrapupEnded(rec.snapshot())
	}
}

// join registers a call and queues it in the ACD.
func (d *Desk) join(ring softphone.Ring, in acd.Input, rec *record, tp *tape) *queuedCall {
	qc := &queuedCall{
		id: in.Call, ring: ring, rec: rec, tape: tp,
		decisions: newMailbox[acd.Decision](maxPendingDecisions),
		commands:  make(chan command, 8),
		left:      make(chan struct{}),
	}
	d.mu.Lock()
	d.calls[in.Call] = qc
	d.mu.Unlock()
	d.submit(in)
	return qc
}

// leave takes a call out of the desk when its goroutine is done with the
// queue: the ACD hears how it ended and the agent's browser shows it ended.
func (d *Desk) leave(qc *queuedCall, endedBy string) {
	d.mu.Lock()
	delete(d.calls, qc.id)
	agent := qc.agent
	if agent != "" {
		d.wrapups[qc.id] = qc.rec // the agent's note comes after the call
	}
	d.releaseMonitorLocked(qc, qc.monitor)
	d.mu.Unlock()
	close(qc.left)
	if agent == "" {
		d.submit(acd.Input{Kind: acd.CallerHungUp, Call: qc.id})
		return
	}
	d.submit(acd.Input{Kind: acd.CallEnded, Call: qc.id})
	d.send(agent, d.status(qc, softphone.CallEnded, endedBy))
}

// setHeld records whether the agent's call is on hold, if it is still theirs.
func (d *Desk) setHeld(qc *queuedCall, agent string, held bool) {
	d.mu.Lock()
	if qc.agent == agent {
		qc.held = held
	}
	d.mu.Unlock()
}

func (d *Desk) submit(in acd.Input) {
	if err := d.acd.Submit(in); err != nil {
		d.log.Warn("acd stopped; input not taken", "input", in.Kind, "call_id", in.Call, "agent", in.Agent)
	}
}

// Attached implements softphone.Desk: an agent's browser said hello. A
// user who is a member of no queue (a supervisor's softphone) is no agent:
// the ACD does not hear of them, and their welcome says signed out, with
// the call they monitor, if any.
func (d *Desk) Attached(_ context.Context, agent string) (softphone.Welcome, error) {
	if !slices.Contains(d.acd.Agents(), agent) {
		d.mu.Lock()
		defer d.mu.Unlock()
		return softphone.Welcome{
			State: string(acd.StateSignedOut), Since: time.Now().UnixMilli(), Monitor: d.monitorOfLocked(agent), NoQueue: true,
		}, nil
	}
	d.submit(acd.Input{Kind: acd.AgentSignedIn, Agent: agent})
	d.mu.Lock()
	defer d.mu.Unlock()
	av := d.agent(agent)
	since := av.since
	if since.IsZero() { // the agent's first sign-in: their state starts now
		since = time.Now()
	}
	w := softphone.Welcome{
		State: string(av.state), Reason: av.reason, Since: since.UnixMilli(), Reasons: slices.Clone(d.reasons),
		ReasonLabels: d.ReasonLabels,
		Queues:       d.acd.Queues(),
		Agents:       slices.DeleteFunc(d.acd.Agents(), func(id string) bool { return id == agent }),
		Consult:      true,
	}
	if av.state == acd.StateSignedOut {
		w.State = string(acd.StateNotReady) // signing in lands in not ready; the ACD confirms with a state message
	}
	if qc := d.calls[av.call]; qc != nil {
		st := softphone.CallConnected
		if qc.held {
			st = softphone.CallHeld
		}
		c := d.statusLocked(qc, st, "")
		w.Call = &c
	}
	if qc := d.calls[av.offer]; qc != nil {
		r := qc.ring
		r.CallID = qc.id
		w.Ring = &r
	}
	w.Monitor = d.monitorOfLocked(agent)
	w.Consultation = d.consultationOfLocked(agent)
	return w, nil
}

// Detached implements softphone.Desk: the agent's browser is gone.
func (d *Desk) Detached(agent, reason string) {
	d.log.Info("agent browser gone", "agent", agent, "reason", reason)
	d.stopMonitor(agent, monitorSoftphone)
	d.submit(acd.Input{Kind: acd.AgentDisconnected, Agent: agent})
}

// AudioLost implements softphone.Desk: the agent's page has had no media
// connection for a while. A ready or ringing agent becomes not ready
// "audio" (the ringing call goes to the next agent), so no call is offered
// into silence; an agent on a call, in wrap-up or already not ready is
// left as they are (the check comes again while the media stays down).
func (d *Desk) AudioLost(agent string) {
	d.mu.Lock()
	av := d.agents[agent]
	st := acd.StateSignedOut
	if av != nil {
		st = av.state
	}
	d.mu.Unlock()
	if st != acd.StateReady && st != acd.StateOffered {
		return
	}
	d.log.Warn("agent has no audio: not ready", "agent", agent, "reason", acd.ReasonAudio, "state", st)
	d.submit(acd.Input{Kind: acd.AgentNotReady, Agent: agent, Reason: acd.ReasonAudio})
}

// SignOut takes an agent out of every queue (they signed out of the page),
// and a supervisor off the call they monitor.
func (d *Desk) SignOut(agent string) {
	d.stopMonitor(agent, monitorSoftphone)
	d.submit(acd.Input{Kind: acd.AgentSignedOut, Agent: agent})
}

// Command implements softphone.Desk: one command from an agent's browser.
// Commands on a call that is not the agent's own are refused and logged.
func (d *Desk) Command(_ context.Context, agent string, m softphone.Message) error {
	switch m := m.(type) {
	case softphone.Ready:
		d.submit(acd.Input{Kind: acd.AgentReady, Agent: agent})
	case softphone.NotReady:
		if m.Reason != "" && m.Reason != acd.ReasonAudio && !slices.Contains(d.reasons, m.Reason) {
			return &softphone.Error{Code: softphone.CodeInvalid, Message: "unknown not-ready reason " + m.Reason}
		}
		d.submit(acd.Input{Kind: acd.AgentNotReady, Agent: agent, Reason: m.Reason})
	case softphone.Accept:
		if err := d.ownOffer(agent, m.CallID, m.Type()); err != nil {
			return err
		}
		if d.monitoring(agent) {
			return &softphone.Error{Code: softphone.CodeState, Ref: m.Type(), Message: "you are monitoring a call; leave it first"}
		}
		d.submit(acd.Input{Kind: acd.OfferAccepted, Agent: agent, Call: m.CallID})
	case softphone.Reject:
		if err := d.ownOffer(agent, m.CallID, m.Type()); err != nil {
			return err
		}
		d.submit(acd.Input{Kind: acd.OfferRejected, Agent: agent, Call: m.CallID})
	case softphone.Hangup:
		return d.toCall(agent, m.CallID, m)
	case softphone.Hold:
		return d.toCall(agent, m.CallID, m)
	case softphone.DTMF:
		return d.toCall(agent, m.CallID, m)
	case softphone.Transfer:
		return d.toCall(agent, m.CallID, m)
	case softphone.PauseRecording:
		return d.toCall(agent, m.CallID, m)
	case softphone.Mute:
		return d.toCall(agent, m.CallID, m)
	case softphone.Consult, softphone.ConsultAccept, softphone.ConsultReject, softphone.ConsultComplete, softphone.ConsultCancel:
		return d.consultCommand(agent, m)
	case softphone.WrapupDone:
		d.mu.Lock()
		av := d.agent(agent)
		own := av.wrapup != "" && av.wrapup == m.CallID
		rec := d.wrapups[m.CallID]
		var codes []string
		if rec != nil {
			codes = d.dispositions[rec.queue()]
		}
		missing := own && rec != nil && len(codes) > 0 && !slices.Contains(codes, m.Disposition)
		if own && !missing {
			delete(d.wrapups, m.CallID)
		}
		d.mu.Unlock()
		if !own && m.CallID != "" {
			return d.forbidden(agent, m.CallID, m.Type())
		}
		if missing {
			return &softphone.Error{Code: softphone.CodeDisposition, Ref: m.Type(),
				Message: "pick a disposition to finish wrap-up: " + strings.Join(codes, ", ")}
		}
		if rec != nil && (m.Note != "" || m.Disposition != "") {
			rec.wrapUp(agent, m.Disposition, m.Note)
		}
		d.wrapupEnded(rec)
		d.submit(acd.Input{Kind: acd.WrapUpDone, Agent: agent})
	default:
		return &softphone.Error{Code: softphone.CodeUnknownType, Message: "not a call-center command: " + m.Type()}
	}
	return nil
}

func (d *Desk) ownOffer(agent, call, what string) error {
	d.mu.Lock()
	own := d.agent(agent).offer == call
	d.mu.Unlock()
	if !own {
		return d.forbidden(agent, call, what)
	}
	return nil
}

// toCall passes a command to the goroutine of the agent's own call.
func (d *Desk) toCall(agent, call string, m softphone.Message) error {
	d.mu.Lock()
	qc := d.calls[call]
	own := qc != nil && qc.agent == agent
	d.mu.Unlock()
	if !own {
		return d.forbidden(agent, call, m.Type())
	}
	select {
	case qc.commands <- command{agent: agent, m: m}:
		return nil
	default:
		return &softphone.Error{Code: softphone.CodeState, Message: "the call is busy with earlier commands; try again"}
	}
}

// PauseRecording pauses (paused true) or resumes the recording of a live
// call on behalf of by: the agent on the call, or anyone when supervisor is
// set. It fails with ErrNoCall when the call is not live or not recorded,
// and with ErrNotYours for another agent's call.
func (d *Desk) PauseRecording(_ context.Context, callID, by string, supervisor, paused bool) error {
	d.mu.Lock()
	qc := d.calls[callID]
	d.mu.Unlock()
	if qc == nil || !qc.tape.recording() {
		return ErrNoCall
	}
	d.mu.Lock()
	own := qc.agent == by
	d.mu.Unlock()
	if !own && !supervisor {
		d.log.Warn("agent asked to pause a recording of a call that is not theirs", "agent", by, "call_id", callID)
		return ErrNotYours
	}
	select {
	case qc.commands <- command{agent: by, m: softphone.PauseRecording{CallID: callID, On: paused}, supervisor: !own}:
		return nil
	default:
		return fmt.Errorf("switchboard: the call is busy with earlier commands; try again")
	}
}

func (d *Desk) forbidden(agent, call, what string) error {
	d.log.Warn("agent acted on a call that is not theirs", "agent", agent, "call_id", call, "command", what)
	return &softphone.Error{Code: softphone.CodeForbidden, Message: "this call is not yours"}
}
