package softphone

// Consultations (warm transfer): messages of the agent protocol, documented
// in the package comment.

// Consultation message types.
const (
	TypeConsult         = "consult"
	TypeConsultAccept   = "consult_accept"
	TypeConsultReject   = "consult_reject"
	TypeConsultComplete = "consult_complete"
	TypeConsultCancel   = "consult_cancel"
	TypeConsultation    = "consultation"
)

// StateConsult is the agent state of both agents of a consultation.
const StateConsult = "consult"

// Roles of an agent in a consultation, as carried in consultation.role.
const (
	ConsultInitiator = "initiator" // the agent on the call, who asked
	ConsultTarget    = "target"    // the agent asked
)

// Consultation statuses, as carried in consultation.status.
const (
	ConsultRinging = "ringing" // the target is offered it
	ConsultTalking = "talking" // the two agents talk; the caller is on hold
	ConsultEnded   = "ended"   // over (Reason says how)
)

// Consult asks to talk to Agent about the call while the caller waits on
// hold (browser → server). Agent must be ready.
type Consult struct {
	CallID string `json:"call_id"`
	Agent  string `json:"agent"`
}

// ConsultAccept takes the consultation offered (browser → server).
type ConsultAccept struct {
	CallID string `json:"call_id"`
}

// ConsultReject declines the consultation offered, or leaves it once
// answered (browser → server).
type ConsultReject struct {
	CallID string `json:"call_id"`
}

// ConsultComplete hands the caller to the consulted agent (browser →
// server).
type ConsultComplete struct {
	CallID string `json:"call_id"`
}

// ConsultCancel ends the consultation; the caller comes back to the agent
// (browser → server).
type ConsultCancel struct {
	CallID string `json:"call_id"`
}

// Consultation tells each agent of a consultation what is happening
// (server → browser). Role is the receiver's part (ConsultInitiator or
// ConsultTarget), Agent the other agent; From and Queue are the caller's.
// TimeoutMS is how long the target's offer rings. An ended one has Reason:
// "completed" (the caller is the target's now), "cancelled", "rejected",
// "timeout", "caller_hangup", "agent_left", or "refused" with the error's
// message.
type Consultation struct {
	CallID    string            `json:"call_id"`
	Role      string            `json:"role"`
	Status    string            `json:"status"`
	Agent     string            `json:"agent"`
	From      string            `json:"from,omitempty"`
	Queue     string            `json:"queue,omitempty"`
	Vars      map[string]string `json:"vars,omitempty"`
	Caller    *Caller           `json:"caller,omitempty"`
	TimeoutMS int64             `json:"timeout_ms,omitempty"`
	Reason    string            `json:"reason,omitempty"`
}

// Type implements Message.
func (Consult) Type() string { return TypeConsult }

// Type implements Message.
func (ConsultAccept) Type() string { return TypeConsultAccept }

// Type implements Message.
func (ConsultReject) Type() string { return TypeConsultReject }

// Type implements Message.
func (ConsultComplete) Type() string { return TypeConsultComplete }

// Type implements Message.
func (ConsultCancel) Type() string { return TypeConsultCancel }

// Type implements Message.
func (Consultation) Type() string { return TypeConsultation }

// consultFromBrowser reports whether typ is a consultation command.
func consultFromBrowser(typ string) bool {
	switch typ {
	case TypeConsult, TypeConsultAccept, TypeConsultReject, TypeConsultComplete, TypeConsultCancel:
		return true
	}
	return false
}

// decodeConsult unmarshals a consultation message; ok is false for any
// other type.
func decodeConsult(typ string, data []byte) (m Message, ok bool, err error) {
	switch typ {
	case TypeConsult:
		m, err = unmarshal[Consult](data)
	case TypeConsultAccept:
		m, err = unmarshal[ConsultAccept](data)
	case TypeConsultReject:
		m, err = unmarshal[ConsultReject](data)
	case TypeConsultComplete:
		m, err = unmarshal[ConsultComplete](data)
	case TypeConsultCancel:
		m, err = unmarshal[ConsultCancel](data)
	case TypeConsultation:
		m, err = unmarshal[Consultation](data)
	default:
		return nil, false, nil
	}
	return m, true, err
}

// validateConsult checks a consultation message's fields.
func validateConsult(m Message) *Error {
	switch m := m.(type) {
	case Consult:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		return checkID("agent", m.Agent)
	case ConsultAccept:
		return checkID("call_id", m.CallID)
	case ConsultReject:
		return checkID("call_id", m.CallID)
	case ConsultComplete:
		return checkID("call_id", m.CallID)
	case ConsultCancel:
		return checkID("call_id", m.CallID)
	case Consultation:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		return checkText("status", m.Status, maxReasonLen, true)
	}
	return nil
}

// isConsultCommand reports whether m is a consultation command.
func isConsultCommand(m Message) bool {
	switch m.(type) {
	case Consult, ConsultAccept, ConsultReject, ConsultComplete, ConsultCancel:
		return true
	}
	return false
}
