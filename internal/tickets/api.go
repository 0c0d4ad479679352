package tickets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline/hotline/internal/store"
)

// Limits on what people type.
const (
	MaxSubject = 200
	MaxNote    = 4000
	maxField   = 200
)

// NewTicket is what a person fills in to open a ticket. CallID, when set,
// links that call at once; Note becomes the first note.
type NewTicket struct {
	Subject      string `json:"subject"`
	Note         string `json:"note,omitempty"`
	Status       string `json:"status,omitempty"`   // default new
	Priority     string `json:"priority,omitempty"` // default normal
	CallerNumber string `json:"caller_number,omitempty"`
	CallerName   string `json:"caller_name,omitempty"`
	Product      string `json:"product,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Queue        string `json:"queue,omitempty"`
	Assignee     string `json:"assignee,omitempty"`
	CallID       string `json:"call_id,omitempty"`
}

// Find returns one page of the tickets f asks for that v may see. An agent
// who names no queue searches their own queues (and the caller on their
// line); naming another queue finds nothing.
func (s *Service) Find(ctx context.Context, v Viewer, f store.TicketFilter) ([]store.Ticket, string, error) {
	for _, st := range f.Statuses {
		if err := checkStatus(st); err != nil {
			return nil, "", err
		}
	}
	ts, next, err := s.st.FindTickets(ctx, f)
	if err != nil {
		return nil, "", err
	}
	out := ts[:0]
	for _, t := range ts {
		if v.may(t) {
			out = append(out, t)
		}
	}
	return out, next, nil
}

// Get returns ticket n, or ErrForbidden when v may not see it.
func (s *Service) Get(ctx context.Context, v Viewer, n int64) (store.Ticket, error) {
	t, err := s.st.GetTicket(ctx, n)
	if err != nil {
		return store.Ticket{}, err
	}
	if !v.may(t) {
		return store.Ticket{}, fmt.Errorf("%w: %s", ErrForbidden, FormatNumber(n))
	}
	return t, nil
}

// Create opens a ticket for v. An agent creates tickets in their own queues
// (the first one when none is named) and is the first responder.
func (s *Service) Create(ctx context.Context, v Viewer, in NewTicket) (store.Ticket, error) {
	in.Status = firstNonEmpty(in.Status, store.TicketNew)
	in.Priority = firstNonEmpty(in.Priority, store.PriorityNormal)
	if err := checkNew(in); err != nil {
		return store.Ticket{}, err
	}
	if !v.Supervisor && in.Queue == "" && len(v.Queues) > 0 {
		in.Queue = v.Queues[0]
	}
	at := s.now()
	t := store.Ticket{
		Status: in.Status, Priority: in.Priority, Subject: strings.TrimSpace(in.Subject),
		CallerNumber: in.CallerNumber, CallerName: in.CallerName, Product: in.Product, Serial: in.Serial,
		Queue: in.Queue, Assignee: in.Assignee, CreatedAt: at, UpdatedAt: at,
	}
	if !v.may(t) {
		return store.Ticket{}, fmt.Errorf("%w: queue %q", ErrForbidden, in.Queue)
	}
	if !v.Supervisor {
		t.FirstResponseAt = &at
		if t.Assignee == "" {
			t.Assignee = v.User
		}
	}
	if t.Status == store.TicketSolved {
		t.SolvedAt = &at
	}
	if strings.TrimSpace(in.Note) != "" {
		t.Notes = []store.TicketNote{{At: at, Author: v.User, Text: in.Note}}
	}
	if in.CallID != "" {
		t.Calls = []store.TicketCall{{CallID: in.CallID, At: at, By: v.User}}
	}
	t, err := s.st.CreateTicket(ctx, t)
	if err == nil {
		s.changed()
	}
	return t, err
}

// Update changes ticket n for v. Any change by a person clears Missed
// (unless it sets it) and an agent's first change is the first response.
func (s *Service) Update(ctx context.Context, v Viewer, n int64, ch store.TicketChange) (store.Ticket, error) {
	if err := checkChange(ch); err != nil {
		return store.Ticket{}, err
	}
	cur, err := s.Get(ctx, v, n)
	if err != nil {
		return store.Ticket{}, err
	}
	if ch.Queue != nil {
		cur.Queue = *ch.Queue
	}
	if ch.Assignee != nil {
		cur.Assignee = *ch.Assignee
	}
	if !v.Supervisor && !v.may(cur) {
		return store.Ticket{}, fmt.Errorf("%w: an agent cannot move a ticket out of their queues", ErrForbidden)
	}
	at := s.now()
	s.byPerson(v, &ch, at)
	t, err := s.st.UpdateTicket(ctx, n, ch, at)
	if err == nil {
		s.changed()
	}
	return t, err
}

// AddNote appends v's note to ticket n.
func (s *Service) AddNote(ctx context.Context, v Viewer, n int64, text string) (store.Ticket, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxNote || !utf8.ValidString(text) {
		return store.Ticket{}, fmt.Errorf("%w: a note is 1 to %d characters", ErrInvalid, MaxNote)
	}
	if _, err := s.Get(ctx, v, n); err != nil {
		return store.Ticket{}, err
	}
	at := s.now()
	if _, err := s.respond(ctx, v, n, at); err != nil {
		return store.Ticket{}, err
	}
	t, err := s.st.AddTicketNote(ctx, n, store.TicketNote{At: at, Author: v.User, Text: text})
	if err == nil {
		s.changed()
	}
	return t, err
}

// Attach links call callID to ticket n for v. A closed ticket is reopened.
func (s *Service) Attach(ctx context.Context, v Viewer, n int64, callID string) (store.Ticket, error) {
	if callID == "" || len(callID) > maxField {
		return store.Ticket{}, fmt.Errorf("%w: call id", ErrInvalid)
	}
	t, err := s.Get(ctx, v, n)
	if err != nil {
		return store.Ticket{}, err
	}
	at := s.now()
	if !Open(t.Status) {
		open := store.TicketOpen
		if _, err := s.st.UpdateTicket(ctx, n, store.TicketChange{Status: &open}, at); err != nil {
			return store.Ticket{}, err
		}
	}
	if _, err := s.respond(ctx, v, n, at); err != nil {
		return store.Ticket{}, err
	}
	t, err = s.st.AttachCall(ctx, n, store.TicketCall{CallID: callID, At: at, By: v.User})
	if err == nil {
		s.changed()
	}
	return t, err
}

// Detach unlinks call callID from ticket n for v.
func (s *Service) Detach(ctx context.Context, v Viewer, n int64, callID string) (store.Ticket, error) {
	if _, err := s.Get(ctx, v, n); err != nil {
		return store.Ticket{}, err
	}
	t, err := s.st.DetachCall(ctx, n, callID, s.now())
	if err == nil {
		s.changed()
	}
	return t, err
}

// respond records a person's action on n: it clears Missed and, for an
// agent, sets the first response when there is none.
func (s *Service) respond(ctx context.Context, v Viewer, n int64, at time.Time) (store.Ticket, error) {
	var ch store.TicketChange
	s.byPerson(v, &ch, at)
	return s.st.UpdateTicket(ctx, n, ch, at)
}

func (s *Service) byPerson(v Viewer, ch *store.TicketChange, at time.Time) {
	if ch.Missed == nil {
		notMissed := false
		ch.Missed = &notMissed
	}
	if !v.Supervisor && ch.FirstResponseAt == nil {
		ch.FirstResponseAt = &at
	}
}

func (s *Service) changed() {
	if s.opt.OnChange != nil {
		s.opt.OnChange()
	}
}

func checkNew(in NewTicket) error {
	if err := checkStatus(in.Status); err != nil {
		return err
	}
	if err := checkPriority(in.Priority); err != nil {
		return err
	}
	if err := checkText("subject", strings.TrimSpace(in.Subject), 1, MaxSubject); err != nil {
		return err
	}
	if err := checkText("note", in.Note, 0, MaxNote); err != nil {
		return err
	}
	for name, v := range map[string]string{"caller_number": in.CallerNumber, "caller_name": in.CallerName,
		"product": in.Product, "serial": in.Serial, "queue": in.Queue, "assignee": in.Assignee, "call_id": in.CallID} {
		if err := checkText(name, v, 0, maxField); err != nil {
			return err
		}
	}
	return nil
}

func checkChange(ch store.TicketChange) error {
	if ch.Status != nil {
		if err := checkStatus(*ch.Status); err != nil {
			return err
		}
	}
	if ch.Priority != nil {
		if err := checkPriority(*ch.Priority); err != nil {
			return err
		}
	}
	if ch.Subject != nil {
		if err := checkText("subject", strings.TrimSpace(*ch.Subject), 1, MaxSubject); err != nil {
			return err
		}
	}
	for name, v := range map[string]*string{"caller_name": ch.CallerName, "product": ch.Product,
		"serial": ch.Serial, "queue": ch.Queue, "assignee": ch.Assignee} {
		if v != nil {
			if err := checkText(name, *v, 0, maxField); err != nil {
				return err
			}
		}
	}
	return nil
}

// Statuses lists the ticket statuses in their usual order.
func Statuses() []string {
	return []string{store.TicketNew, store.TicketOpen, store.TicketPending, store.TicketSolved, store.TicketClosed}
}

// Priorities lists the ticket priorities, lowest first.
func Priorities() []string {
	return []string{store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent}
}

func checkStatus(st string) error {
	if !slices.Contains(Statuses(), st) {
		return fmt.Errorf("%w: status %q (want one of %s)", ErrInvalid, st, strings.Join(Statuses(), ", "))
	}
	return nil
}

func checkPriority(p string) error {
	if !slices.Contains(Priorities(), p) {
		return fmt.Errorf("%w: priority %q (want one of %s)", ErrInvalid, p, strings.Join(Priorities(), ", "))
	}
	return nil
}

func checkText(name, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < min || n > max || strings.ContainsRune(v, 0) {
		if min > 0 {
			return fmt.Errorf("%w: %s must be %d to %d characters", ErrInvalid, name, min, max)
		}
		return fmt.Errorf("%w: %s is at most %d characters", ErrInvalid, name, max)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TicketsOfCall returns the numbers of the tickets call callID is linked to.
func (s *Service) TicketsOfCall(ctx context.Context, callID string) ([]int64, error) {
	return s.st.TicketsOfCall(ctx, callID)
}
