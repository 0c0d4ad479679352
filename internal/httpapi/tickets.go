package httpapi

// Tickets: the helpdesk API the agent page and scripts use to find, open and
// change tickets and to link calls to them.
//
//	GET    /api/v1/tickets?phone=&serial=&status=open,pending&queue=&limit=&cursor=
//	                                          {"tickets": [...], "next": ""}
//	POST   /api/v1/tickets                    tickets.NewTicket → 201, the ticket
//	GET    /api/v1/tickets/{number}           the ticket
//	PATCH  /api/v1/tickets/{number}           {"status", "priority", "subject", "assignee",
//	                                          "product", "serial", "queue", "caller_name"}, any
//	                                          subset → the ticket after the change
//	POST   /api/v1/tickets/{number}/notes     {"text"} → the ticket
//	POST   /api/v1/tickets/{number}/calls     {"call_id"} → the ticket (attach)
//	DELETE /api/v1/tickets/{number}/calls/{call_id}  → the ticket (detach)
//
// {number} is "T-000123", "T123" or "123". A ticket is store.Ticket's JSON
// plus "id", its number as people read it ("T-000123").
//
// Access (the rules are package tickets'): supervisors and admins reach
// every ticket; an agent the tickets of their queues (Options.AgentQueues),
// those assigned to them, those with no queue, and those of the caller on
// their line or in their wrap-up (Options.CurrentCaller), so the screen pop
// can always be acted on. An API token of role agent is no agent of any
// queue or call.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/tickets"
)

// TicketService is the helpdesk the tickets API works through;
// *tickets.Service is one. Every method applies the viewer's access rules.
type TicketService interface {
	Find(ctx context.Context, v tickets.Viewer, f store.TicketFilter) ([]store.Ticket, string, error)
	Get(ctx context.Context, v tickets.Viewer, n int64) (store.Ticket, error)
	Create(ctx context.Context, v tickets.Viewer, in tickets.NewTicket) (store.Ticket, error)
	Update(ctx context.Context, v tickets.Viewer, n int64, ch store.TicketChange) (store.Ticket, error)
	AddNote(ctx context.Context, v tickets.Viewer, n int64, text string) (store.Ticket, error)
	Attach(ctx context.Context, v tickets.Viewer, n int64, callID string) (store.Ticket, error)
	Detach(ctx context.Context, v tickets.Viewer, n int64, callID string) (store.Ticket, error)
}

// CallTickets is what a TicketService may offer as well, for the "tickets"
// of GET /api/v1/calls/{id}: the numbers of the tickets a call is linked to.
type CallTickets interface {
	TicketsOfCall(ctx context.Context, callID string) ([]int64, error)
}

// maxTicketBody bounds the JSON body of the ticket routes: a note of
// tickets.MaxNote characters, escaped, fits with room to spare.
const maxTicketBody = 64 << 10

// TicketJSON is one ticket as the API shows it: store.Ticket's JSON plus its
// number as people read it, with the times not yet reached as null.
type TicketJSON struct {
	ID string `json:"id"` // "T-000123"
	store.Ticket
	FirstResponseAt *time.Time `json:"first_response_at"` // null until an agent first answered
	SolvedAt        *time.Time `json:"solved_at"`         // null while not solved
}

func ticketJSON(t store.Ticket) TicketJSON {
	if t.Notes == nil {
		t.Notes = []store.TicketNote{}
	}
	if t.Calls == nil {
		t.Calls = []store.TicketCall{}
	}
	return TicketJSON{ID: tickets.FormatNumber(t.Number), Ticket: t, FirstResponseAt: t.FirstResponseAt, SolvedAt: t.SolvedAt}
}

// ticketsRoutes registers the ticket routes when there is a TicketService.
func (a *API) ticketsRoutes() {
	if a.opt.Tickets == nil {
		return
	}
	a.mux.Handle("GET /api/v1/tickets", a.require(store.RoleAgent, a.findTickets))
	a.mux.Handle("POST /api/v1/tickets", a.require(store.RoleAgent, a.createTicket))
	a.mux.Handle("GET /api/v1/tickets/{number}", a.require(store.RoleAgent, a.getTicket))
	a.mux.Handle("PATCH /api/v1/tickets/{number}", a.require(store.RoleAgent, a.updateTicket))
	a.mux.Handle("POST /api/v1/tickets/{number}/notes", a.require(store.RoleAgent, a.addTicketNote))
	a.mux.Handle("POST /api/v1/tickets/{number}/calls", a.require(store.RoleAgent, a.attachTicketCall))
	a.mux.Handle("DELETE /api/v1/tickets/{number}/calls/{call_id}", a.require(store.RoleAgent, a.detachTicketCall))
}

// viewer is who asks, as package tickets judges access.
func (a *API) viewer(r *http.Request) tickets.Viewer {
	p := a.principal(r)
	v := tickets.Viewer{User: p.Username, Supervisor: p.Role.AtLeast(store.RoleSupervisor)}
	if v.Supervisor || p.Token || p.Username == "" {
		return v
	}
	if a.opt.AgentQueues != nil {
		v.Queues = a.opt.AgentQueues(p.Username)
	}
	if a.opt.CurrentCaller != nil {
		v.Caller = a.opt.CurrentCaller(p.Username)
	}
	return v
}

// ticketError answers for an error of the TicketService.
func (a *API) ticketError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, tickets.ErrBadNumber):
		writeError(w, http.StatusBadRequest, "not a ticket number: write it as T-000123, T123 or 123")
	case errors.Is(err, tickets.ErrInvalid):
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "tickets: "))
	case errors.Is(err, tickets.ErrForbidden):
		a.forbid(w, r, "ticket outside the agent's queues", "this ticket is not in one of your queues")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no ticket with this number")
	case errors.Is(err, store.ErrBadCursor):
		writeError(w, http.StatusBadRequest, "cursor is not one this API returned")
	case errors.Is(err, store.ErrRejected):
		writeError(w, http.StatusBadRequest, "the ticket store refused the change: "+strings.TrimPrefix(err.Error(), "store: "))
	default:
		a.opt.Logger.Error("tickets: "+what, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the ticket store is not reachable; try again")
	}
}

// ticketNumber reads the request's {number}; false when the answer was
// written.
func (a *API) ticketNumber(w http.ResponseWriter, r *http.Request) (int64, bool) {
	n, err := tickets.ParseNumber(r.PathValue("number"))
	if err != nil {
		a.ticketError(w, r, "number", err)
		return 0, false
	}
	return n, true
}

// decodeBody reads a JSON object of at most maxTicketBody bytes into v,
// refusing unknown fields; false when the answer (400 or 413) was written.
// example is the shape to name in the error.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, example string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTicketBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is longer than %d bytes", tooBig.Limit))
		return false
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		msg = "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	writeError(w, http.StatusBadRequest, "send JSON "+example+" ("+msg+")")
	return false
}

// writeTicket answers with one ticket.
func writeTicket(w http.ResponseWriter, code int, t store.Ticket) { writeJSON(w, code, ticketJSON(t)) }

// splitList reads a comma-separated query value; "" is no values.
func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// findTickets is GET /api/v1/tickets?phone=&serial=&status=&queue=&limit=&cursor=:
// one page of the tickets the user may see, newest change first. status and
// queue take comma-separated lists.
func (a *API) findTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := parseLimit(w, r, store.DefaultPageLimit, store.MaxPageLimit)
	if !ok {
		return
	}
	f := store.TicketFilter{Phone: strings.TrimSpace(q.Get("phone")), Serial: strings.TrimSpace(q.Get("serial")),
		Statuses: splitList(q.Get("status")), Queues: splitList(q.Get("queue")), Limit: limit, Cursor: q.Get("cursor")}
	ts, next, err := a.opt.Tickets.Find(r.Context(), a.viewer(r), f)
	if err != nil {
		a.ticketError(w, r, "find", err)
		return
	}
	out := struct {
		Tickets []TicketJSON `json:"tickets"`
		Next    string       `json:"next"`
	}{Tickets: make([]TicketJSON, 0, len(ts)), Next: next}
	for _, t := range ts {
		out.Tickets = append(out.Tickets, ticketJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// createTicket is POST /api/v1/tickets (tickets.NewTicket): 201 with the
// ticket and its Location.
func (a *API) createTicket(w http.ResponseWriter, r *http.Request) {
	var in tickets.NewTicket
	if !decodeBody(w, r, &in, `{"subject": "...", "note": "...", "status": "new", "call_id": "..."}`) {
		return
	}
	t, err := a.opt.Tickets.Create(r.Context(), a.viewer(r), in)
	if err != nil {
		a.ticketError(w, r, "create", err)
		return
	}
	w.Header().Set("Location", "/api/v1/tickets/"+tickets.FormatNumber(t.Number))
	writeTicket(w, http.StatusCreated, t)
}

// getTicket is GET /api/v1/tickets/{number}.
func (a *API) getTicket(w http.ResponseWriter, r *http.Request) {
	n, ok := a.ticketNumber(w, r)
	if !ok {
		return
	}
	t, err := a.opt.Tickets.Get(r.Context(), a.viewer(r), n)
	if err != nil {
		a.ticketError(w, r, "get", err)
		return
	}
	writeTicket(w, http.StatusOK, t)
}

// ticketPatch is the body of PATCH /api/v1/tickets/{number}: absent (or
// null) fields are left as they are.
type ticketPatch struct {
	Status     *string `json:"status"`
	Priority   *string `json:"priority"`
	Subject    *string `json:"subject"`
	Assignee   *string `json:"assignee"`
	Product    *string `json:"product"`
	Serial     *string `json:"serial"`
	Queue      *string `json:"queue"`
	CallerName *string `json:"caller_name"`
}

// updateTicket is PATCH /api/v1/tickets/{number}.
func (a *API) updateTicket(w http.ResponseWriter, r *http.Request) {
	n, ok := a.ticketNumber(w, r)
	if !ok {
		return
	}
	var p ticketPatch
	if !decodeBody(w, r, &p, `{"status": "pending"} with any of status, priority, subject, assignee, product, serial, queue, caller_name`) {
		return
	}
	ch := store.TicketChange{Status: p.Status, Priority: p.Priority, Subject: p.Subject, Assignee: p.Assignee,
		Product: p.Product, Serial: p.Serial, Queue: p.Queue, CallerName: p.CallerName}
	if p == (ticketPatch{}) {
		writeError(w, http.StatusBadRequest, "nothing to change: send any of status, priority, subject, assignee, product, serial, queue, caller_name")
		return
	}
	t, err := a.opt.Tickets.Update(r.Context(), a.viewer(r), n, ch)
	if err != nil {
		a.ticketError(w, r, "update", err)
		return
	}
	writeTicket(w, http.StatusOK, t)
}

// addTicketNote is POST /api/v1/tickets/{number}/notes {"text"}.
func (a *API) addTicketNote(w http.ResponseWriter, r *http.Request) {
	n, ok := a.ticketNumber(w, r)
	if !ok {
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if !decodeBody(w, r, &in, `{"text": "..."}`) {
		return
	}
	t, err := a.opt.Tickets.AddNote(r.Context(), a.viewer(r), n, in.Text)
	if err != nil {
		a.ticketError(w, r, "add note", err)
		return
	}
	writeTicket(w, http.StatusOK, t)
}

// attachTicketCall is POST /api/v1/tickets/{number}/calls {"call_id"}:
// links the call (again: no change). A solved or closed ticket is reopened.
func (a *API) attachTicketCall(w http.ResponseWriter, r *http.Request) {
	n, ok := a.ticketNumber(w, r)
	if !ok {
		return
	}
	var in struct {
		CallID string `json:"call_id"`
	}
	if !decodeBody(w, r, &in, `{"call_id": "..."}`) {
		return
	}
	if strings.TrimSpace(in.CallID) == "" {
		writeError(w, http.StatusBadRequest, `send JSON {"call_id": "..."}: call_id is empty`)
		return
	}
	t, err := a.opt.Tickets.Attach(r.Context(), a.viewer(r), n, strings.TrimSpace(in.CallID))
	if err != nil {
		a.ticketError(w, r, "attach", err)
		return
	}
	writeTicket(w, http.StatusOK, t)
}

// detachTicketCall is DELETE /api/v1/tickets/{number}/calls/{call_id}: 404
// for no such ticket, and for a call that is not linked to it.
func (a *API) detachTicketCall(w http.ResponseWriter, r *http.Request) {
	n, ok := a.ticketNumber(w, r)
	if !ok {
		return
	}
	v, callID := a.viewer(r), r.PathValue("call_id")
	// The service's ErrNotFound means either; look first to tell them apart.
	if _, err := a.opt.Tickets.Get(r.Context(), v, n); err != nil {
		a.ticketError(w, r, "detach", err)
		return
	}
	t, err := a.opt.Tickets.Detach(r.Context(), v, n, callID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("call %q is not linked to %s", callID, tickets.FormatNumber(n)))
		return
	}
	if err != nil {
		a.ticketError(w, r, "detach", err)
		return
	}
	writeTicket(w, http.StatusOK, t)
}

// callTicketIDs returns the tickets a call is linked to ("T-000123"), for
// GET /api/v1/calls/{id}; nil when the TicketService cannot tell.
func (a *API) callTicketIDs(ctx context.Context, callID string) ([]string, error) {
	ct, ok := a.opt.Tickets.(CallTickets)
	if !ok {
		return nil, nil
	}
	ns, err := ct.TicketsOfCall(ctx, callID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, tickets.FormatNumber(n))
	}
	return out, nil
}
