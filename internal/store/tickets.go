package store

import (
	"context"
	"encoding/json"
	"time"
)

// Ticket statuses, as stored in tickets.status. New, open and pending
// tickets are "open" for screen pop and the IVR; solved and closed are not.
const (
	TicketNew     = "new"
	TicketOpen    = "open"
	TicketPending = "pending"
	TicketSolved  = "solved"
	TicketClosed  = "closed"
)

// Ticket priorities.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Ticket is one support request: what the caller needs, and every call and
// note about it. Its JSON form is the payload of the ticket.* outbox
// messages and of the tickets API.
type Ticket struct {
	// Number is assigned by CreateTicket from a sequence that never reuses a
	// value; it is shown as "T-000123".
	Number       int64  `json:"number"`
	Status       string `json:"status"`   // one of the Ticket* statuses
	Priority     string `json:"priority"` // one of the Priority* values
	Subject      string `json:"subject"`
	CallerNumber string `json:"caller_number,omitempty"` // the phone number, as the call's From user part
	CallerName   string `json:"caller_name,omitempty"`
	Product      string `json:"product,omitempty"` // product model
	Serial       string `json:"serial,omitempty"`
	Queue        string `json:"queue,omitempty"`
	Assignee     string `json:"assignee,omitempty"` // a user name
	// Missed marks a ticket created or updated by a call nobody answered
	// (abandoned in the queue, after hours, voicemail). An agent's change
	// clears it.
	Missed          bool         `json:"missed"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	FirstResponseAt *time.Time   `json:"first_response_at,omitempty"`
	SolvedAt        *time.Time   `json:"solved_at,omitempty"`
	Notes           []TicketNote `json:"notes"` // oldest first
	Calls           []TicketCall `json:"calls"` // linked calls, oldest first
}

// TicketNote is one note on a ticket. Author is a user name, or "" for the
// hotline itself (a missed call, a voicemail).
type TicketNote struct {
	At     time.Time `json:"at"`
	Author string    `json:"author,omitempty"`
	Text   string    `json:"text"`
}

// TicketCall links a call to a ticket. RecordingID is filled when read: the
// call's recording, when it has one.
type TicketCall struct {
	CallID      string    `json:"call_id"`
	At          time.Time `json:"at"`           // when it was attached
	By          string    `json:"by,omitempty"` // who attached it; "" for the hotline
	RecordingID string    `json:"recording_id,omitempty"`
}

// TicketChange is a partial update: nil fields are left as they are.
// Status solved sets SolvedAt (once); any other status clears it.
type TicketChange struct {
	Status, Priority, Subject, CallerName *string
	Product, Serial, Queue, Assignee      *string
	Missed                                *bool
	// FirstResponseAt is set only when the ticket has none yet.
	FirstResponseAt *time.Time
}

// TicketFilter asks FindTickets for tickets, newest change first. Empty
// fields match everything; several fields must all match.
type TicketFilter struct {
	Phone    string   // CallerNumber equals
	Serial   string   // Serial equals
	Statuses []string // Status is one of these
	Queues   []string // Queue is one of these
	Limit    int      // DefaultPageLimit when <= 0, at most MaxPageLimit
	Cursor   string   // the next value of the previous page
}

// TicketStore keeps tickets. Every change writes, in the same transaction,
// one outbox message (ticket.created or ticket.updated, Key the ticket
// number, Payload the ticket's JSON after the change).
type TicketStore interface {
	// CreateTicket stores t with the next number and returns it as stored.
	// t.Number is ignored; CreatedAt and UpdatedAt default to now.
	CreateTicket(ctx context.Context, t Ticket) (Ticket, error)
	// GetTicket returns one ticket with its notes and calls, or ErrNotFound.
	GetTicket(ctx context.Context, number int64) (Ticket, error)
	// UpdateTicket applies ch at time at and returns the ticket after it.
	UpdateTicket(ctx context.Context, number int64, ch TicketChange, at time.Time) (Ticket, error)
	// AddTicketNote appends a note; it counts as a change at n.At.
	AddTicketNote(ctx context.Context, number int64, n TicketNote) (Ticket, error)
	// AttachCall links a call (again: a no-op that returns the ticket).
	AttachCall(ctx context.Context, number int64, c TicketCall) (Ticket, error)
	// DetachCall unlinks a call; ErrNotFound when it was not linked.
	DetachCall(ctx context.Context, number int64, callID string, at time.Time) (Ticket, error)
	// FindTickets returns one page of tickets (with notes and calls).
	FindTickets(ctx context.Context, f TicketFilter) (tickets []Ticket, next string, err error)
	// TicketsOfCall returns the numbers of the tickets a call is linked to.
	TicketsOfCall(ctx context.Context, callID string) ([]int64, error)
}

// Outbox topics: the webhook events the hotline publishes.
const (
	TopicCallRinging    = "call.ringing"
	TopicCallAnswered   = "call.answered"
	TopicCallEnded      = "call.ended"
	TopicTicketCreated  = "ticket.created"
	TopicTicketUpdated  = "ticket.updated"
	TopicRecordingReady = "recording.ready"
)

// OutboxMessage is one event to deliver to the webhook endpoints, written in
// the same transaction as the change it reports.
type OutboxMessage struct {
	// ID is unique and stable (a retried write of the same change has the
	// same ID, and a second insert is ignored); receivers de-duplicate by it.
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`   // assigned by the store: the order of delivery
	Topic string `json:"topic"` // one of the Topic* constants
	// Key orders messages: those with one key (a call id, "T-000123") are
	// delivered in Seq order.
	Key     string          `json:"key"`
	At      time.Time       `json:"at"`
	Payload json.RawMessage `json:"payload"`
}

// OutboxStore is the outbox's read side, for the webhook dispatcher.
// Delivery is tracked per endpoint name, so adding an endpoint later does
// not replay history older than PruneOutbox keeps.
type OutboxStore interface {
	// PendingOutbox returns up to limit messages after seq afterSeq not yet
	// delivered to endpoint, in Seq order.
	PendingOutbox(ctx context.Context, endpoint string, afterSeq int64, limit int) ([]OutboxMessage, error)
	// MarkDelivered records that endpoint has the message (or gave up on
	// it); marking twice is a no-op.
	MarkDelivered(ctx context.Context, endpoint, id string, at time.Time) error
	// PruneOutbox deletes messages (and their delivery marks) older than
	// before and returns how many.
	PruneOutbox(ctx context.Context, before time.Time) (int, error)
}
