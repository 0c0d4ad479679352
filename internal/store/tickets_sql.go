package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file implements TicketStore (tickets.go) once for both backends, over
// sqlBackend (sqlconn.go). Every change runs in one write transaction that
// locks the ticket row, writes the change, reads the ticket back and inserts
// the change's outbox message; tickets.revision counts the changes and makes
// the message id "ticket:<number>:<revision>".

// Limits of a ticket's text, in characters.
const (
	// MaxTicketFieldLen bounds the short fields: subject, caller number and
	// name, product, serial, queue, assignee, a note's author, a call's id
	// and who attached it.
	MaxTicketFieldLen = 256
	// MaxTicketNoteLen bounds a note's text.
	MaxTicketNoteLen = 16000
)

// TicketKey is how a ticket number is shown, and the Key of its outbox
// messages: "T-000123".
func TicketKey(number int64) string { return fmt.Sprintf("T-%06d", number) }

// ticketMessageID is the outbox id of a ticket's change number revision.
func ticketMessageID(number, revision int64) string {
	return "ticket:" + strconv.FormatInt(number, 10) + ":" + strconv.FormatInt(revision, 10)
}

func validTicketStatus(s string) bool {
	switch s {
	case TicketNew, TicketOpen, TicketPending, TicketSolved, TicketClosed:
		return true
	}
	return false
}

func validTicketPriority(p string) bool {
	switch p {
	case PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent:
		return true
	}
	return false
}

// checkText reports text a ticket cannot hold: invalid UTF-8, NUL (which
// PostgreSQL cannot store) or more than max characters.
func checkText(what, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("store: ticket: %s is not valid UTF-8: %w", what, ErrRejected)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("store: ticket: %s contains NUL: %w", what, ErrRejected)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("store: ticket: %s is longer than %d characters: %w", what, max, ErrRejected)
	}
	return nil
}

// validateTicket checks the fields of a ticket about to be stored.
func validateTicket(t Ticket) error {
	if !validTicketStatus(t.Status) {
		return fmt.Errorf("store: ticket: unknown status %q: %w", t.Status, ErrRejected)
	}
	if !validTicketPriority(t.Priority) {
		return fmt.Errorf("store: ticket: unknown priority %q: %w", t.Priority, ErrRejected)
	}
	for _, f := range []struct{ what, v string }{
		{"subject", t.Subject}, {"caller number", t.CallerNumber}, {"caller name", t.CallerName},
		{"product", t.Product}, {"serial", t.Serial}, {"queue", t.Queue}, {"assignee", t.Assignee},
	} {
		if err := checkText(f.what, f.v, MaxTicketFieldLen); err != nil {
			return err
		}
	}
	return nil
}

func validateNote(n TicketNote) error {
	if n.Text == "" {
		return fmt.Errorf("store: ticket: empty note: %w", ErrRejected)
	}
	if err := checkText("note author", n.Author, MaxTicketFieldLen); err != nil {
		return err
	}
	return checkText("note", n.Text, MaxTicketNoteLen)
}

func validateTicketCall(c TicketCall) error {
	if c.CallID == "" {
		return fmt.Errorf("store: ticket: empty call id: %w", ErrRejected)
	}
	if err := checkText("call id", c.CallID, MaxTicketFieldLen); err != nil {
		return err
	}
	return checkText("attached by", c.By, MaxTicketFieldLen)
}

// orNow is t, or the current time when t is zero, in UTC at microseconds.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return utcMicro(t)
}

func microPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utcMicro(*t)
	return &u
}

// applyChange applies ch to t at time at (already normalized).
func applyChange(t *Ticket, ch TicketChange, at time.Time) {
	for _, f := range []struct {
		dst *string
		src *string
	}{
		{&t.Status, ch.Status}, {&t.Priority, ch.Priority}, {&t.Subject, ch.Subject},
		{&t.CallerName, ch.CallerName}, {&t.Product, ch.Product}, {&t.Serial, ch.Serial},
		{&t.Queue, ch.Queue}, {&t.Assignee, ch.Assignee},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if ch.Missed != nil {
		t.Missed = *ch.Missed
	}
	if ch.FirstResponseAt != nil && t.FirstResponseAt == nil {
		t.FirstResponseAt = microPtr(ch.FirstResponseAt)
	}
	if ch.Status != nil {
		switch {
		case *ch.Status != TicketSolved:
			t.SolvedAt = nil
		case t.SolvedAt == nil:
			solved := at
			t.SolvedAt = &solved
		}
	}
	t.UpdatedAt = at
}

const ticketColumns = `number, status, priority, subject, caller_number, caller_name, product, serial, queue,
	assignee, missed, created_at, updated_at, first_response_at, solved_at`

// scanTicket reads a row of revision followed by ticketColumns.
func scanTicket(rows sqlRows) (Ticket, int64, error) {
	var (
		t                     Ticket
		rev                   int64
		firstResponse, solved nullTime
	)
	err := rows.Scan(&rev, &t.Number, &t.Status, &t.Priority, &t.Subject, &t.CallerNumber, &t.CallerName,
		&t.Product, &t.Serial, &t.Queue, &t.Assignee, &t.Missed, &notNullTime{&t.CreatedAt},
		&notNullTime{&t.UpdatedAt}, &firstResponse, &solved)
	if err != nil {
		return Ticket{}, 0, fmt.Errorf("scan ticket: %w", err)
	}
	t.FirstResponseAt, t.SolvedAt = firstResponse.T, solved.T
	t.Notes, t.Calls = []TicketNote{}, []TicketCall{}
	return t, rev, nil
}

// loadTicket reads one ticket with its notes and calls; in a write
// transaction it also locks the row. ErrNotFound when there is none.
func (b sqlBackend) loadTicket(ctx context.Context, c sqlConn, number int64, lock bool) (Ticket, int64, error) {
	stmt := `SELECT revision, ` + ticketColumns + ` FROM tickets WHERE number = ?`
	if lock {
		stmt += b.d.forUpdate
	}
	ts, revs, err := b.queryTickets(ctx, c, stmt, number)
	if err != nil {
		return Ticket{}, 0, err
	}
	if len(ts) == 0 {
		return Ticket{}, 0, fmt.Errorf("store: ticket %s: %w", TicketKey(number), ErrNotFound)
	}
	return ts[0], revs[0], nil
}

// queryTickets runs a SELECT of revision and ticketColumns and fills in the
// notes and calls of the tickets it returns.
func (b sqlBackend) queryTickets(ctx context.Context, c sqlConn, stmt string, args ...any) ([]Ticket, []int64, error) {
	rows, err := c.query(ctx, stmt, args...)
	if err != nil {
		return nil, nil, err
	}
	var (
		ts   []Ticket
		revs []int64
	)
	for rows.Next() {
		t, rev, err := scanTicket(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		ts, revs = append(ts, t), append(revs, rev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if err := b.fillTickets(ctx, c, ts); err != nil {
		return nil, nil, err
	}
	return ts, revs, nil
}

// fillTickets reads the notes and calls of ts, oldest first, and each
// call's newest recording that is not deleted.
func (b sqlBackend) fillTickets(ctx context.Context, c sqlConn, ts []Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(ts))
	numbers := make([]any, len(ts))
	for i, t := range ts {
		idx[t.Number] = i
		numbers[i] = t.Number
	}
	in := placeholders(len(ts))

	rows, err := c.query(ctx, `SELECT number, at, author, text FROM ticket_notes
		WHERE number IN (`+in+`) ORDER BY number, at, id`, numbers...)
	if err != nil {
		return fmt.Errorf("ticket notes: %w", err)
	}
	for rows.Next() {
		var (
			number int64
			n      TicketNote
		)
		if err := rows.Scan(&number, &notNullTime{&n.At}, &n.Author, &n.Text); err != nil {
			rows.Close()
			return fmt.Errorf("ticket notes: %w", err)
		}
		t := &ts[idx[number]]
		t.Notes = append(t.Notes, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ticket notes: %w", err)
	}

	rows, err = c.query(ctx, `SELECT tc.number, tc.call_id, tc.at, tc.attached_by,
			COALESCE((SELECT r.id FROM recordings r WHERE r.call_id = tc.call_id AND r.state <> ?
				ORDER BY r.started_at DESC, r.id DESC LIMIT 1), '')
		FROM ticket_calls tc WHERE tc.number IN (`+in+`) ORDER BY tc.number, tc.at, tc.id`,
		append([]any{RecordingDeleted}, numbers...)...)
	if err != nil {
		return fmt.Errorf("ticket calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			number int64
			tc     TicketCall
		)
		if err := rows.Scan(&number, &tc.CallID, &notNullTime{&tc.At}, &tc.By, &tc.RecordingID); err != nil {
			return fmt.Errorf("ticket calls: %w", err)
		}
		t := &ts[idx[number]]
		t.Calls = append(t.Calls, tc)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ticket calls: %w", err)
	}
	return nil
}

// saveTicketRow writes t's fields, revision and times to its row.
func (b sqlBackend) saveTicketRow(ctx context.Context, c sqlConn, t Ticket, rev int64) error {
	_, err := c.exec(ctx, `UPDATE tickets SET revision = ?, status = ?, priority = ?, subject = ?,
		caller_number = ?, caller_name = ?, product = ?, serial = ?, queue = ?, assignee = ?, missed = ?,
		updated_at = ?, first_response_at = ?, solved_at = ? WHERE number = ?`,
		rev, t.Status, t.Priority, t.Subject, t.CallerNumber, t.CallerName, t.Product, t.Serial, t.Queue,
		t.Assignee, b.d.bool(t.Missed), b.d.time(t.UpdatedAt), b.d.timeOrNil(t.FirstResponseAt),
		b.d.timeOrNil(t.SolvedAt), t.Number)
	return err
}

func (b sqlBackend) insertNote(ctx context.Context, c sqlConn, number int64, n TicketNote) error {
	_, err := c.exec(ctx, `INSERT INTO ticket_notes (number, at, author, text) VALUES (?, ?, ?, ?)`,
		number, b.d.time(n.At), n.Author, n.Text)
	return err
}

// insertCall links a call; false when it was linked already.
func (b sqlBackend) insertCall(ctx context.Context, c sqlConn, number int64, tc TicketCall) (bool, error) {
	n, err := c.exec(ctx, `INSERT INTO ticket_calls (number, call_id, at, attached_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (number, call_id) DO NOTHING`, number, tc.CallID, b.d.time(tc.At), tc.By)
	return n > 0, err
}

// finishChange reads the ticket back (so the message carries the calls'
// recordings) and writes the change's outbox message.
func (b sqlBackend) finishChange(ctx context.Context, c sqlConn, number, rev int64, topic string) (Ticket, error) {
	t, _, err := b.loadTicket(ctx, c, number, false)
	if err != nil {
		return Ticket{}, err
	}
	payload, err := json.Marshal(t)
	if err != nil {
		return Ticket{}, fmt.Errorf("encode ticket: %w", err)
	}
	err = b.d.insertOutbox(ctx, c, OutboxMessage{
		ID: ticketMessageID(number, rev), Topic: topic, Key: TicketKey(number), At: t.UpdatedAt, Payload: payload,
	})
	return t, err
}

// createTicket implements CreateTicket.
func (b sqlBackend) createTicket(ctx context.Context, t Ticket) (Ticket, error) {
	if t.Status == "" {
		t.Status = TicketNew
	}
	if t.Priority == "" {
		t.Priority = PriorityNormal
	}
	t.CreatedAt = orNow(t.CreatedAt)
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	t.UpdatedAt = utcMicro(t.UpdatedAt)
	t.FirstResponseAt = microPtr(t.FirstResponseAt)
	switch {
	case t.Status != TicketSolved:
		t.SolvedAt = nil
	case t.SolvedAt == nil:
		solved := t.UpdatedAt
		t.SolvedAt = &solved
	default:
		t.SolvedAt = microPtr(t.SolvedAt)
	}
	if err := validateTicket(t); err != nil {
		return Ticket{}, err
	}
	notes, calls := slices.Clone(t.Notes), slices.Clone(t.Calls)
	for i := range notes {
		if notes[i].At.IsZero() {
			notes[i].At = t.CreatedAt
		}
		notes[i].At = utcMicro(notes[i].At)
		if err := validateNote(notes[i]); err != nil {
			return Ticket{}, err
		}
	}
	for i := range calls {
		if calls[i].At.IsZero() {
			calls[i].At = t.CreatedAt
		}
		calls[i].At = utcMicro(calls[i].At)
		if err := validateTicketCall(calls[i]); err != nil {
			return Ticket{}, err
		}
	}
	var out Ticket
	err := b.write(ctx, func(c sqlConn) error {
		rows, err := c.query(ctx, `INSERT INTO tickets (revision, status, priority, subject, caller_number,
			caller_name, product, serial, queue, assignee, missed, created_at, updated_at, first_response_at,
			solved_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING number`,
			t.Status, t.Priority, t.Subject, t.CallerNumber, t.CallerName, t.Product, t.Serial, t.Queue,
			t.Assignee, b.d.bool(t.Missed), b.d.time(t.CreatedAt), b.d.time(t.UpdatedAt),
			b.d.timeOrNil(t.FirstResponseAt), b.d.timeOrNil(t.SolvedAt))
		if err != nil {
			return err
		}
		var number int64
		if rows.Next() {
			err = rows.Scan(&number)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return err
		}
		if number == 0 {
			return errors.New("insert ticket: no number returned")
		}
		for _, n := range notes {
			if err := b.insertNote(ctx, c, number, n); err != nil {
				return err
			}
		}
		for _, tc := range calls {
			if _, err := b.insertCall(ctx, c, number, tc); err != nil {
				return err
			}
		}
		out, err = b.finishChange(ctx, c, number, 1, TopicTicketCreated)
		return err
	})
	if err != nil {
		return Ticket{}, b.fail("create ticket", err)
	}
	return out, nil
}

// getTicket implements GetTicket.
func (b sqlBackend) getTicket(ctx context.Context, number int64) (Ticket, error) {
	var t Ticket
	err := b.read(ctx, func(c sqlConn) error {
		var err error
		t, _, err = b.loadTicket(ctx, c, number, false)
		return err
	})
	if err != nil {
		return Ticket{}, b.fail("get ticket "+TicketKey(number), err)
	}
	return t, nil
}

// change runs one ticket change: fn edits the locked ticket and reports
// whether anything changed; when it did, the row is rewritten with the next
// revision and a ticket.updated message is written.
func (b sqlBackend) change(ctx context.Context, what string, number int64,
	fn func(c sqlConn, t *Ticket) (bool, error)) (Ticket, error) {
	var out Ticket
	err := b.write(ctx, func(c sqlConn) error {
		t, rev, err := b.loadTicket(ctx, c, number, true)
		if err != nil {
			return err
		}
		changed, err := fn(c, &t)
		if err != nil || !changed {
			out = t
			return err
		}
		if err := b.saveTicketRow(ctx, c, t, rev+1); err != nil {
			return err
		}
		out, err = b.finishChange(ctx, c, number, rev+1, TopicTicketUpdated)
		return err
	})
	if err != nil {
		return Ticket{}, b.fail(what+" "+TicketKey(number), err)
	}
	return out, nil
}

// updateTicket implements UpdateTicket.
func (b sqlBackend) updateTicket(ctx context.Context, number int64, ch TicketChange, at time.Time) (Ticket, error) {
	at = orNow(at)
	return b.change(ctx, "update ticket", number, func(_ sqlConn, t *Ticket) (bool, error) {
		applyChange(t, ch, at)
		return true, validateTicket(*t)
	})
}

// addTicketNote implements AddTicketNote.
func (b sqlBackend) addTicketNote(ctx context.Context, number int64, n TicketNote) (Ticket, error) {
	n.At = orNow(n.At)
	if err := validateNote(n); err != nil {
		return Ticket{}, err
	}
	return b.change(ctx, "add note to ticket", number, func(c sqlConn, t *Ticket) (bool, error) {
		t.UpdatedAt = n.At
		return true, b.insertNote(ctx, c, number, n)
	})
}

// attachCall implements AttachCall.
func (b sqlBackend) attachCall(ctx context.Context, number int64, tc TicketCall) (Ticket, error) {
	tc.At = orNow(tc.At)
	tc.RecordingID = ""
	if err := validateTicketCall(tc); err != nil {
		return Ticket{}, err
	}
	return b.change(ctx, "attach call to ticket", number, func(c sqlConn, t *Ticket) (bool, error) {
		added, err := b.insertCall(ctx, c, number, tc)
		if added {
			t.UpdatedAt = tc.At
		}
		return added, err
	})
}

// detachCall implements DetachCall.
func (b sqlBackend) detachCall(ctx context.Context, number int64, callID string, at time.Time) (Ticket, error) {
	at = orNow(at)
	return b.change(ctx, "detach call from ticket", number, func(c sqlConn, t *Ticket) (bool, error) {
		n, err := c.exec(ctx, `DELETE FROM ticket_calls WHERE number = ? AND call_id = ?`, number, callID)
		if err != nil {
			return false, err
		}
		if n == 0 {
			return false, fmt.Errorf("store: call %s is not linked to ticket %s: %w", callID, TicketKey(number), ErrNotFound)
		}
		t.UpdatedAt = at
		return true, nil
	})
}

// findTickets implements FindTickets.
func (b sqlBackend) findTickets(ctx context.Context, f TicketFilter) ([]Ticket, string, error) {
	pos, after, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var afterNumber int64
	if after {
		if afterNumber, err = strconv.ParseInt(pos.ID, 10, 64); err != nil {
			return nil, "", fmt.Errorf("%w: not a ticket position", ErrBadCursor)
		}
	}
	limit := pageLimit(Page{Limit: f.Limit})
	q := &query{placeholder: func(int) string { return "?" }, at: b.d.time}
	if f.Phone != "" {
		q.where("caller_number = " + q.arg(f.Phone))
	}
	if f.Serial != "" {
		q.where("serial = " + q.arg(f.Serial))
	}
	if len(f.Statuses) > 0 {
		q.where("status IN (" + q.list(f.Statuses) + ")")
	}
	if len(f.Queues) > 0 {
		q.where("queue IN (" + q.list(f.Queues) + ")")
	}
	if after {
		q.where("(updated_at, number) < (" + q.timeArg(time.UnixMicro(pos.ArrivedMicros)) + ", " + q.arg(afterNumber) + ")")
	}
	stmt := `SELECT revision, ` + ticketColumns + ` FROM tickets` + q.whereClause() +
		` ORDER BY updated_at DESC, number DESC LIMIT ` + q.arg(limit+1)
	var ts []Ticket
	err = b.read(ctx, func(c sqlConn) error {
		var err error
		ts, _, err = b.queryTickets(ctx, c, stmt, q.args...)
		return err
	})
	if err != nil {
		return nil, "", b.fail("find tickets", err)
	}
	if len(ts) <= limit {
		return ts, "", nil
	}
	ts = ts[:limit]
	last := ts[limit-1]
	return ts, encodeCursor(last.UpdatedAt, strconv.FormatInt(last.Number, 10)), nil
}

// list adds one argument per value and returns their placeholders.
func (q *query) list(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = q.arg(v)
	}
	return strings.Join(ph, ", ")
}

// ticketsOfCall implements TicketsOfCall.
func (b sqlBackend) ticketsOfCall(ctx context.Context, callID string) ([]int64, error) {
	var out []int64
	err := b.read(ctx, func(c sqlConn) error {
		rows, err := c.query(ctx, `SELECT number FROM ticket_calls WHERE call_id = ? ORDER BY number`, callID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, b.fail("tickets of call "+callID, err)
	}
	return out, nil
}

// --- the TicketStore methods of both backends ---

var (
	_ TicketStore = (*SQLite)(nil)
	_ TicketStore = (*Postgres)(nil)
)

// CreateTicket stores t with the next ticket number, its notes and calls,
// and a ticket.created outbox message, in one transaction.
func (s *SQLite) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	return s.backend().createTicket(ctx, t)
}

// GetTicket returns the ticket with number, with its notes and calls.
func (s *SQLite) GetTicket(ctx context.Context, number int64) (Ticket, error) {
	return s.backend().getTicket(ctx, number)
}

// UpdateTicket applies ch at time at and writes a ticket.updated message.
func (s *SQLite) UpdateTicket(ctx context.Context, number int64, ch TicketChange, at time.Time) (Ticket, error) {
	return s.backend().updateTicket(ctx, number, ch, at)
}

// AddTicketNote appends n and writes a ticket.updated message.
func (s *SQLite) AddTicketNote(ctx context.Context, number int64, n TicketNote) (Ticket, error) {
	return s.backend().addTicketNote(ctx, number, n)
}

// AttachCall links a call and writes a ticket.updated message; a call
// linked already changes nothing.
func (s *SQLite) AttachCall(ctx context.Context, number int64, c TicketCall) (Ticket, error) {
	return s.backend().attachCall(ctx, number, c)
}

// DetachCall unlinks a call and writes a ticket.updated message.
func (s *SQLite) DetachCall(ctx context.Context, number int64, callID string, at time.Time) (Ticket, error) {
	return s.backend().detachCall(ctx, number, callID, at)
}

// FindTickets returns one page of the tickets matching f, newest change
// first by (updated_at, number).
func (s *SQLite) FindTickets(ctx context.Context, f TicketFilter) ([]Ticket, string, error) {
	return s.backend().findTickets(ctx, f)
}

// TicketsOfCall returns the numbers of the tickets callID is linked to.
func (s *SQLite) TicketsOfCall(ctx context.Context, callID string) ([]int64, error) {
	return s.backend().ticketsOfCall(ctx, callID)
}

// CreateTicket stores t with the next ticket number, its notes and calls,
// and a ticket.created outbox message, in one transaction.
func (s *Postgres) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	return s.backend().createTicket(ctx, t)
}

// GetTicket returns the ticket with number, with its notes and calls.
func (s *Postgres) GetTicket(ctx context.Context, number int64) (Ticket, error) {
	return s.backend().getTicket(ctx, number)
}

// UpdateTicket applies ch at time at and writes a ticket.updated message.
func (s *Postgres) UpdateTicket(ctx context.Context, number int64, ch TicketChange, at time.Time) (Ticket, error) {
	return s.backend().updateTicket(ctx, number, ch, at)
}

// AddTicketNote appends n and writes a ticket.updated message.
func (s *Postgres) AddTicketNote(ctx context.Context, number int64, n TicketNote) (Ticket, error) {
	return s.backend().addTicketNote(ctx, number, n)
}

// AttachCall links a call and writes a ticket.updated message; a call
// linked already changes nothing.
func (s *Postgres) AttachCall(ctx context.Context, number int64, c TicketCall) (Ticket, error) {
	return s.backend().attachCall(ctx, number, c)
}

// DetachCall unlinks a call and writes a ticket.updated message.
func (s *Postgres) DetachCall(ctx context.Context, number int64, callID string, at time.Time) (Ticket, error) {
	return s.backend().detachCall(ctx, number, callID, at)
}

// FindTickets returns one page of the tickets matching f, newest change
// first by (updated_at, number).
func (s *Postgres) FindTickets(ctx context.Context, f TicketFilter) ([]Ticket, string, error) {
	return s.backend().findTickets(ctx, f)
}

// TicketsOfCall returns the numbers of the tickets callID is linked to.
func (s *Postgres) TicketsOfCall(ctx context.Context, callID string) ([]int64, error) {
	return s.backend().ticketsOfCall(ctx, callID)
}
