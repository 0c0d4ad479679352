// Package tickets is the hotline's helpdesk: every call becomes or joins a
// ticket. It holds the rules (who may see a ticket, which tickets are open,
// what a missed call or an unclaimed wrap-up creates, what the IVR may read
// to a caller); the store keeps the rows and writes the outbox messages the
// webhooks deliver.
//
// Calls reach the service in two ways: synchronously from the API and the
// agent page (search, create, attach), and as call summaries from the
// switchboard (CallEnded, WrapupEnded), which return at once and are worked
// off by the service's one goroutine, so that no call ever waits on the
// database.
package tickets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/ivr"
)

// Store is the part of the store the service uses; store.Store is one.
type Store interface {
	store.TicketStore
}

// ScreenPopLimit is how many open tickets a ringing call shows at most.
const ScreenPopLimit = 5

// Errors of the service. Store errors (store.ErrNotFound, ...) pass through.
var (
	// ErrBadNumber: a ticket number that is not "T-000123", "T123" or "123".
	ErrBadNumber = errors.New("tickets: not a ticket number")
	// ErrForbidden: the user may not see or change the ticket.
	ErrForbidden = errors.New("tickets: not one of your queues' tickets")
	// ErrInvalid: a field has a value the service does not take.
	ErrInvalid = errors.New("tickets: invalid value")
)

// FormatNumber shows a ticket number as "T-000123".
func FormatNumber(n int64) string { return fmt.Sprintf("T-%06d", n) }

// ParseNumber reads "T-000123", "t-123", "T123" or "123" (what a caller
// types on the keypad) as 123.
func ParseNumber(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if len(s) > 0 && (s[0] == 'T' || s[0] == 't') {
		s = strings.TrimPrefix(s[1:], "-")
	}
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("%w: %q", ErrBadNumber, s)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w: %q", ErrBadNumber, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: %q", ErrBadNumber, s)
	}
	return n, nil
}

// Open reports whether a status counts as open: new, open or pending.
func Open(status string) bool {
	switch status {
	case store.TicketNew, store.TicketOpen, store.TicketPending:
		return true
	}
	return false
}

// openStatuses are the statuses Open accepts, for store filters.
func openStatuses() []string { return []string{store.TicketNew, store.TicketOpen, store.TicketPending} }

// Viewer is who asks: a user, whether a supervisor (who sees every ticket),
// the queues an agent works, and the phone number of the caller the agent
// is talking to or wrapping up ("" when none).
type Viewer struct {
	User       string
	Supervisor bool
	Queues     []string
	Caller     string
}

// may reports whether v may see and change t: supervisors all tickets;
// agents the tickets of their queues, those assigned to them, those with no
// queue, and those of the caller on their line (the screen pop shows them).
func (v Viewer) may(t store.Ticket) bool {
	if v.Supervisor || t.Assignee == v.User || t.Queue == "" || (v.Caller != "" && t.CallerNumber == v.Caller) {
		return true
	}
	for _, q := range v.Queues {
		if q == t.Queue {
			return true
		}
	}
	return false
}

// Options wire a Service.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Backlog bounds the call summaries waiting for the worker; beyond it a
	// summary is logged and dropped (the call row keeps everything). Default
	// 10000.
	Backlog int
	// RetryMin and RetryFor pace the worker's retries while the database
	// fails: the first wait, doubling up to 30 s, for RetryFor in all.
	// Defaults 1 s and 5 min.
	RetryMin, RetryFor time.Duration
	// OnChange, when set, is called after every change the worker makes
	// (tests wait on it; the webhooks dispatcher is nudged by it).
	OnChange func()
}

// Service applies the ticket rules over a Store.
type Service struct {
	st  Store
	log *slog.Logger
	now func() time.Time
	opt Options

	closeOnce sync.Once
	stop      chan struct{} // closed by Close: stop waiting between retries
	done      chan struct{}
	wake      chan struct{} // a job was queued or Close began (capacity 1)
	mu        sync.Mutex    // guards the fields below
	// queue holds the summaries waiting for the worker, oldest first (at
	// most Backlog). A slice, not a buffered channel: an idle service holds
	// no room for a full backlog.
	queue   []job
	closed  bool
	started bool
}

// job is one call summary for the worker.
type job struct {
	kind string // "ended" or "wrapup"
	call store.Call
}

// New builds a Service; Start runs its worker.
func New(st Store, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Backlog <= 0 {
		opt.Backlog = 10000
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = time.Second
	}
	if opt.RetryFor <= 0 {
		opt.RetryFor = 5 * time.Minute
	}
	return &Service{st: st, log: opt.Logger, now: opt.Now, opt: opt,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs the worker that turns call summaries into tickets, until Close.
func (s *Service) Start() {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		for {
			j, ok := s.next()
			if !ok {
				return
			}
			s.work(j)
		}
	}()
}

// next waits for the oldest queued summary; ok is false once the service is
// closed and nothing is left.
func (s *Service) next() (j job, ok bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			j = s.queue[0]
			s.queue[0] = job{}
			s.queue = s.queue[1:]
			if len(s.queue) == 0 {
				s.queue = nil // let the drained backing array go
			}
			s.mu.Unlock()
			return j, true
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return job{}, false
		}
		<-s.wake
	}
}

// signal wakes the worker without waiting.
func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Close stops taking call summaries, works off those queued and waits for
// the worker. It is idempotent.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.signal()
		close(s.stop)
		if !s.started {
			close(s.done)
		}
		s.mu.Unlock()
	})
	<-s.done
}

// enqueue hands a summary to the worker without waiting.
func (s *Service) enqueue(j job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.log.Error("tickets: closed; call summary not turned into a ticket", "call_id", j.call.ID, "kind", j.kind)
		return
	}
	if len(s.queue) >= s.opt.Backlog {
		s.log.Error("tickets: backlog full; call summary not turned into a ticket", "call_id", j.call.ID, "kind", j.kind)
		return
	}
	s.queue = append(s.queue, j)
	s.signal()
}

// Missed outcomes: calls nobody answered that must leave a ticket.
const (
	MissedAbandoned  = "abandoned" // hung up in the queue or while ringing
	MissedAfterHours = "after-hours"
	MissedVoicemail  = "voicemail"
	MissedOverflow   = "overflow" // the queue was full or the wait too long
)

// CallEnded tells the service a call is over; missed says why nobody
// answered it (one of the Missed* values), or is "" for a call that needs
// no ticket from here (answered calls get theirs at the end of wrap-up). It
// returns at once.
func (s *Service) CallEnded(c store.Call, missed string) {
	if missed == "" {
		return
	}
	c.Outcome = missed
	s.enqueue(job{kind: "ended", call: c})
}

// WrapupEnded tells the service the agent's wrap-up of call c is over (c
// carries the agent, note and disposition). When no ticket is linked to the
// call by then, one is created from it. It returns at once.
func (s *Service) WrapupEnded(c store.Call) { s.enqueue(job{kind: "wrapup", call: c}) }

// work turns one summary into a ticket, retrying while the database fails
// (RetryFor in all, at most, so that a long outage does not stall the
// summaries behind it for ever).
func (s *Service) work(j job) {
	wait, deadline := s.opt.RetryMin, time.Now().Add(s.opt.RetryFor)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		switch j.kind {
		case "ended":
			err = s.missed(ctx, j.call)
		case "wrapup":
			err = s.autoTicket(ctx, j.call)
		}
		cancel()
		if err == nil {
			s.changed()
			return
		}
		if errors.Is(err, store.ErrRejected) || time.Now().Add(wait).After(deadline) {
			s.log.Error("tickets: call not logged against a ticket", "call_id", j.call.ID, "kind", j.kind,
				"err", err, "call", j.call)
			return
		}
		s.log.Warn("tickets: call not logged against a ticket yet; retrying", "call_id", j.call.ID,
			"kind", j.kind, "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-s.stop: // closing: one last try for each summary left
			deadline = time.Time{}
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// missed creates a ticket marked missed for c, or, when the caller has an
// open ticket, attaches c to the newest one, marks it missed and notes why.
func (s *Service) missed(ctx context.Context, c store.Call) error {
	at := s.now()
	note := missedNote(c)
	if open, err := s.openFor(ctx, c.From, c.Vars["serial"], 1); err != nil {
		return err
	} else if len(open) > 0 {
		n := open[0].Number
		if _, err := s.st.AttachCall(ctx, n, store.TicketCall{CallID: c.ID, At: at}); err != nil {
			return err
		}
		missed := true
		if _, err := s.st.UpdateTicket(ctx, n, store.TicketChange{Missed: &missed}, at); err != nil {
			return err
		}
		_, err := s.st.AddTicketNote(ctx, n, store.TicketNote{At: at, Text: note})
		return err
	}
	t := fromCall(c, at)
	t.Missed = true
	t.Subject = subject(c, c.Outcome)
	t.Notes = []store.TicketNote{{At: at, Text: note}}
	t.Calls = []store.TicketCall{{CallID: c.ID, At: at}}
	_, err := s.st.CreateTicket(ctx, t)
	return err
}

// autoTicket creates a ticket from an answered call no agent linked.
func (s *Service) autoTicket(ctx context.Context, c store.Call) error {
	linked, err := s.st.TicketsOfCall(ctx, c.ID)
	if err != nil || len(linked) > 0 {
		return err
	}
	at := s.now()
	t := fromCall(c, at)
	t.Subject = subject(c, "")
	t.Assignee = c.Agent
	t.FirstResponseAt = c.ConnectedAt
	if strings.TrimSpace(c.Note) != "" {
		t.Notes = []store.TicketNote{{At: at, Author: c.Agent, Text: c.Note}}
	}
	if c.Disposition == "resolved" {
		t.Status = store.TicketSolved
		t.SolvedAt = &at
	}
	t.Calls = []store.TicketCall{{CallID: c.ID, At: at, By: c.Agent}}
	_, err = s.st.CreateTicket(ctx, t)
	return err
}

// fromCall is a new ticket's fields taken from a call.
func fromCall(c store.Call, at time.Time) store.Ticket {
	return store.Ticket{
		Status: store.TicketNew, Priority: store.PriorityNormal,
		CallerNumber: c.From, Serial: c.Vars["serial"], Product: c.Vars["product"], Queue: c.Queue,
		CreatedAt: at, UpdatedAt: at,
	}
}

// subject names a ticket made from a call: what the caller chose in the
// IVR (the queue), the serial when given, and why it was missed.
func subject(c store.Call, missed string) string {
	what := "Call"
	if c.Queue != "" {
		what = "Call to " + c.Queue
	}
	if sn := c.Vars["serial"]; sn != "" {
		what += ", serial " + sn
	}
	switch missed {
	case MissedAbandoned:
		what = "Missed: " + what + " (hung up while waiting)"
	case MissedAfterHours:
		what = "Missed: " + what + " (after hours)"
	case MissedVoicemail:
		what = "Voicemail: " + what
	case MissedOverflow:
		what = "Missed: " + what + " (queue full)"
	}
	return what
}

// missedNote is the note a missed call leaves on its ticket.
func missedNote(c store.Call) string {
	switch c.Outcome {
	case MissedVoicemail:
		return "The caller left a voicemail; it is the call's recording."
	case MissedAfterHours:
		return "The caller called after hours."
	}
	if c.QueuedAt != nil && c.EndedAt != nil {
		return fmt.Sprintf("The caller hung up after waiting %s in %s.", c.EndedAt.Sub(*c.QueuedAt).Round(time.Second), c.Queue)
	}
	return "The caller hung up before an agent answered."
}

// openFor returns the open tickets of a phone number or a serial, newest
// change first, at most limit, each once.
func (s *Service) openFor(ctx context.Context, phone, serial string, limit int) ([]store.Ticket, error) {
	var out []store.Ticket
	seen := map[int64]bool{}
	for _, f := range []store.TicketFilter{{Phone: phone}, {Serial: serial}} {
		if f.Phone == "" && f.Serial == "" {
			continue
		}
		f.Statuses, f.Limit = openStatuses(), limit
		ts, _, err := s.st.FindTickets(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !seen[t.Number] {
				seen[t.Number] = true
				out = append(out, t)
			}
		}
	}
	sortNewest(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ScreenPop returns the caller's open tickets, matched by phone number and
// by serial, newest change first, at most ScreenPopLimit.
func (s *Service) ScreenPop(ctx context.Context, phone, serial string) ([]store.Ticket, error) {
	return s.openFor(ctx, phone, serial, ScreenPopLimit)
}

// TicketStatus is the IVR's look-up (ivr.TicketLookup): the status of
// ticket number (as typed) for a caller calling from phone. The rule: a
// ticket is read only to the phone number it was opened from. Ticket
// numbers are sequential, so knowing one proves nothing; an unknown number
// and another caller's ticket get the same answer (found false), so the IVR
// cannot be used to probe numbers.
func (s *Service) TicketStatus(ctx context.Context, number, phone string) (ivr.TicketStatus, bool, error) {
	n, err := ParseNumber(number)
	if err != nil || phone == "" {
		return ivr.TicketStatus{}, false, nil
	}
	t, err := s.st.GetTicket(ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		return ivr.TicketStatus{}, false, nil
	}
	if err != nil {
		return ivr.TicketStatus{}, false, err
	}
	if t.CallerNumber != phone {
		return ivr.TicketStatus{}, false, nil
	}
	return ivr.TicketStatus{Status: t.Status, Updated: t.UpdatedAt}, true, nil
}

func sortNewest(ts []store.Ticket) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && newer(ts[j], ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func newer(a, b store.Ticket) bool {
	if !a.UpdatedAt.Equal(b.UpdatedAt) {
		return a.UpdatedAt.After(b.UpdatedAt)
	}
	return a.Number > b.Number
}
