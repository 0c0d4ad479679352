package acd

import "time"

// InputKind says what happened; it selects which Input fields matter.
type InputKind string

// Inputs. Fields used by each are listed; other fields are ignored.
const (
	CallQueued      InputKind = "call_queued"      // Call, Queue, Priority, Skills, Language, At (join time; zero = now)
	CallerHungUp    InputKind = "caller_hung_up"   // Call: the caller left (waiting, ringing or talking)
	CallEnded       InputKind = "call_ended"       // Call: a connected call ended (either side); same as CallerHungUp before answer
	CallHeld        InputKind = "call_held"        // Call: the agent put the caller on hold
	CallResumed     InputKind = "call_resumed"     // Call: the agent took the caller off hold
	CallTransferred InputKind = "call_transferred" // Call, and Queue or Agent (exactly one): blind transfer of a connected call
	AgentSignedIn   InputKind = "agent_signed_in"  // Agent: signed in (lands in not ready) or re-attached after a reload
	AgentReady      InputKind = "agent_ready"      // Agent
	AgentNotReady   InputKind = "agent_not_ready"  // Agent, Reason
	AgentSignedOut  InputKind = "agent_signed_out" // Agent
	// AgentDisconnected reports that the agent's browser is gone (missed
	// heartbeats). Agent.
	AgentDisconnected InputKind = "agent_disconnected"
	OfferAccepted     InputKind = "offer_accepted" // Call, Agent
	OfferRejected     InputKind = "offer_rejected" // Call, Agent
	WrapUpDone        InputKind = "wrap_up_done"   // Agent: ended wrap-up early
	// Consultations (warm transfer, see consult.go).
	ConsultRequested InputKind = "consult_requested" // Call, Agent (the target): the agent on Call asks to consult Agent
	ConsultAccepted  InputKind = "consult_accepted"  // Call, Agent: the target takes the consultation
	ConsultRejected  InputKind = "consult_rejected"  // Call, Agent: the target declines it, or leaves it
	ConsultCompleted InputKind = "consult_completed" // Call: the caller goes to the target
	ConsultCancelled InputKind = "consult_cancelled" // Call: the consultation ends; the call stays with its agent
	Tick             InputKind = "tick"              // nothing; runs timers that are due (the actor also does this itself)
)

// Input is one event the ACD reacts to. It is a plain value that could
// cross a process boundary (JSON).
type Input struct {
	Kind     InputKind `json:"kind"`
	Call     string    `json:"call,omitempty"`
	Agent    string    `json:"agent,omitempty"` // for CallTransferred: the agent the call goes to
	Queue    string    `json:"queue,omitempty"`
	Priority int       `json:"priority,omitempty"` // higher goes first
	Skills   []string  `json:"skills,omitempty"`
	Language string    `json:"language,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at,omitzero"`
}

// DecisionKind says what the ACD decided.
type DecisionKind string

// Decisions, with the fields each one sets.
const (
	// Offer: ring Agent with Call from Queue until Deadline.
	Offer DecisionKind = "offer"
	// OfferWithdrawn: stop ringing Agent for Call (Reason).
	OfferWithdrawn DecisionKind = "offer_withdrawn"
	// Connected: bridge Call to Agent; only now may media be connected.
	Connected DecisionKind = "connected"
	// Overflow: Call leaves Queue for Target (Reason). A "queue:NAME" target is
	// followed inside the ACD (the call stays queued there); for
	// "node:FLOW:NODE" and "hangup" the call has left the ACD.
	Overflow DecisionKind = "overflow"
	// Announce: tell the caller of Call their Position and EWT (whole
	// minutes, rounded up), in Language.
	Announce DecisionKind = "announce"
	// AgentStateChanged: Agent is now in State (Reason) since At; Call is
	// the call concerned, if any.
	AgentStateChanged DecisionKind = "agent_state"
	// Rejected: the input (Input, Call, Agent) was refused (Reason); nothing changed.
	Rejected DecisionKind = "rejected"
	// Transferred: a CallTransferred was accepted. Call left Agent (who goes
	// on as after CallEnded) for Target, "queue:NAME" or "agent:ID"; Queue is
	// the queue the call is in now (for an agent target, the one it was in).
	Transferred DecisionKind = "transferred"
	// TransferLapsed: Call, transferred to Agent, was not taken by them
	// (Reason: "transfer wait", "ring timeout", "rejected", "agent
	// disconnected", ...); it waits in Queue for any agent again.
	TransferLapsed DecisionKind = "transfer_lapsed"
	// ConsultOffer: Agent, on Call, consults Target ("agent:ID"): ring the
	// target until Deadline; the caller is on hold.
	ConsultOffer DecisionKind = "consult_offer"
	// ConsultConnected: Target accepted; Agent and Target talk.
	ConsultConnected DecisionKind = "consult_connected"
	// ConsultEnded: the consultation of Agent with Target on Call is over
	// (Reason: "completed", "cancelled", "rejected", "ring timeout",
	// "caller hung up", "agent signed out", "agent disconnected"). On
	// "completed" a Connected for the target follows; otherwise, unless the
	// caller hung up, the call is Agent's again.
	ConsultEnded DecisionKind = "consult_ended"
)

// Decision is one output of the ACD, a plain value. Seq numbers decisions
// from 1 in the order they were made.
type Decision struct {
	Seq      uint64        `json:"seq"`
	Kind     DecisionKind  `json:"kind"`
	At       time.Time     `json:"at"`
	Call     string        `json:"call,omitempty"`
	Agent    string        `json:"agent,omitempty"`
	Queue    string        `json:"queue,omitempty"`
	Deadline time.Time     `json:"deadline,omitzero"`
	Target   string        `json:"target,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Position int           `json:"position,omitempty"`
	EWT      time.Duration `json:"ewt,omitempty"`
	Language string        `json:"language,omitempty"`
	State    State         `json:"state,omitempty"`
	Input    InputKind     `json:"input,omitempty"`
}

// State is an agent's state.
type State string

// Agent states.
const (
	StateSignedOut State = "signed_out"
	StateReady     State = "ready"
	StateNotReady  State = "not_ready"
	StateOffered   State = "offered"
	StateOnCall    State = "on_call"
	StateOnHold    State = "on_hold"
	StateWrapUp    State = "wrap_up"
	// StateConsult: the agent consults another agent about a call while
	// the caller waits on hold, or is that other agent (consult.go).
	StateConsult State = "consult"
)

// Snapshot is a copy of the ACD's state for the supervisor view and tests.
type Snapshot struct {
	At     time.Time       `json:"at"`
	Queues []QueueSnapshot `json:"queues"` // in configuration order
	Agents []AgentSnapshot `json:"agents"` // by agent id
}

// QueueSnapshot is one queue's live figures.
type QueueSnapshot struct {
	Name        string         `json:"name"`
	Waiting     int            `json:"waiting"`  // not yet offered, including Reserved
	Reserved    int            `json:"reserved"` // of Waiting: transferred to an agent who has not taken them yet
	Ringing     int            `json:"ringing"`  // offered, not yet answered
	Talking     int            `json:"talking"`  // connected to an agent
	LongestWait time.Duration  `json:"longest_wait"`
	Staffed     int            `json:"staffed"` // members ready, ringing, talking or in wrap-up
	SignedIn    int            `json:"signed_in"`
	AHT         time.Duration  `json:"aht"` // smoothed handle time used for EWT
	Calls       []CallSnapshot `json:"calls"`
}

// CallSnapshot is one call in a queue: waiting calls first, by position,
// then ringing, then connected, then reserved calls.
type CallSnapshot struct {
	Call     string        `json:"call"`
	State    string        `json:"state"`              // waiting, ringing, connected, reserved (transferred to an agent, not yet offered)
	Position int           `json:"position,omitempty"` // 1-based, waiting calls only
	Priority int           `json:"priority,omitempty"`
	Waited   time.Duration `json:"waited"`           // since it joined the queue
	Agents   []string      `json:"agents,omitempty"` // ringing or connected agents; a reserved call's target
	Language string        `json:"language,omitempty"`
	Skills   []string      `json:"skills,omitempty"`
	Consult  string        `json:"consult,omitempty"` // a connected call's consulted agent, during a consultation
}

// AgentSnapshot is one agent's state.
type AgentSnapshot struct {
	Agent     string    `json:"agent"`
	State     State     `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Since     time.Time `json:"since"`
	Call      string    `json:"call,omitempty"`
	Connected bool      `json:"connected"` // the browser is attached
	Queues    []string  `json:"queues,omitempty"`
}
