package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/tickets"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// fakeTicket is one ticket as the tickets API shows it (the fields the page
// uses).
type fakeTicket struct {
	ID           string           `json:"id"`
	Number       int64            `json:"number"`
	Status       string           `json:"status"`
	Subject      string           `json:"subject"`
	CallerNumber string           `json:"caller_number,omitempty"`
	Serial       string           `json:"serial,omitempty"`
	Product      string           `json:"product,omitempty"`
	Queue        string           `json:"queue,omitempty"`
	Missed       bool             `json:"missed"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Notes        []map[string]any `json:"notes"`
	Calls        []map[string]any `json:"calls"`
}

// ticketsAPI is the fake's tickets: what it holds and every request the
// page made to it ("POST /api/v1/tickets/T-000017/calls {...}").
type ticketsAPI struct {
	mu       sync.Mutex
	list     []*fakeTicket
	requests []string
	created  []map[string]any // bodies of POST /api/v1/tickets
}

func (a *ticketsAPI) add(tk fakeTicket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tk.ID = tickets.FormatNumber(tk.Number)
	if tk.Notes == nil {
		tk.Notes = []map[string]any{}
	}
	if tk.Calls == nil {
		tk.Calls = []map[string]any{}
	}
	a.list = append(a.list, &tk)
}

func (a *ticketsAPI) made() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

func (a *ticketsAPI) bodies() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.created)
}

// ticketsRoutes serves the fake tickets API on mux.
func (b *backend) ticketsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/tickets", b.ticketsHandler(b.findTickets))
	mux.HandleFunc("POST /api/v1/tickets", b.ticketsHandler(b.createTicket))
	mux.HandleFunc("GET /api/v1/tickets/{number}", b.ticketsHandler(b.getTicket))
	mux.HandleFunc("POST /api/v1/tickets/{number}/calls", b.ticketsHandler(b.attachCall))
}

// ticketsHandler checks the session and, for a POST, the CSRF token, and
// records the request.
func (b *backend) ticketsHandler(h func(w http.ResponseWriter, r *http.Request, body map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.authed(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
			return
		}
		if r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != testCSRF {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "csrf"})
			return
		}
		var body map[string]any
		line := r.Method + " " + r.URL.RequestURI()
		if r.Method == http.MethodPost {
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "not JSON"})
				return
			}
			raw, _ := json.Marshal(body)
			line += " " + string(raw)
		}
		b.tix.mu.Lock()
		b.tix.requests = append(b.tix.requests, line)
		b.tix.mu.Unlock()
		h(w, r, body)
	}
}

func (b *backend) findTickets(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	q := r.URL.Query()
	a := &b.tix
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []*fakeTicket{}
	for _, tk := range a.list {
		if (q.Get("phone") == "" || tk.CallerNumber == q.Get("phone")) && (q.Get("serial") == "" || tk.Serial == q.Get("serial")) {
			out = append(out, tk)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out, "next": ""})
}

// ticket returns the ticket of the request's {number}, or answers.
func (b *backend) ticket(w http.ResponseWriter, r *http.Request) *fakeTicket {
	n, err := tickets.ParseNumber(r.PathValue("number"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "not a ticket number"})
		return nil
	}
	for _, tk := range b.tix.list {
		if tk.Number == n {
			return tk
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no ticket with this number"})
	return nil
}

func (b *backend) getTicket(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	b.tix.mu.Lock()
	defer b.tix.mu.Unlock()
	if tk := b.ticket(w, r); tk != nil {
		writeJSON(w, http.StatusOK, tk)
	}
}

func (b *backend) attachCall(w http.ResponseWriter, r *http.Request, body map[string]any) {
	b.tix.mu.Lock()
	defer b.tix.mu.Unlock()
	tk := b.ticket(w, r)
	if tk == nil {
		return
	}
	if tk.Queue == "billing" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "this ticket is not in one of your queues"})
		return
	}
	id, _ := body["call_id"].(string)
	if !slices.ContainsFunc(tk.Calls, func(c map[string]any) bool { return c["call_id"] == id }) {
		tk.Calls = append(tk.Calls, map[string]any{"call_id": id, "by": testUser})
	}
	if tk.Status == "solved" || tk.Status == "closed" {
		tk.Status = "open"
	}
	writeJSON(w, http.StatusOK, tk)
}

func (b *backend) createTicket(w http.ResponseWriter, _ *http.Request, body map[string]any) {
	a := &b.tix
	a.mu.Lock()
	defer a.mu.Unlock()
	a.created = append(a.created, body)
	str := func(k string) string { s, _ := body[k].(string); return s }
	tk := &fakeTicket{Number: int64(100 + len(a.created)), Status: str("status"), Subject: str("subject"),
		CallerNumber: str("caller_number"), Serial: str("serial"), Queue: str("queue"), UpdatedAt: time.Now(),
		Notes: []map[string]any{}, Calls: []map[string]any{}}
	tk.ID = tickets.FormatNumber(tk.Number)
	if n := str("note"); n != "" {
		tk.Notes = append(tk.Notes, map[string]any{"text": n, "author": testUser})
	}
	if c := str("call_id"); c != "" {
		tk.Calls = append(tk.Calls, map[string]any{"call_id": c, "by": testUser})
	}
	a.list = append(a.list, tk)
	writeJSON(w, http.StatusCreated, tk)
}

// ticketRing is a ring whose caller has two open tickets, one of them left
// by a missed call.
func ticketRing(id string) softphone.Ring {
	r := ring(id)
	r.Tickets = []softphone.Ticket{
		{Number: "T-000017", Subject: "No internet", Status: "open", Priority: "high", Serial: "SN-4242",
			Updated: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC).UnixMilli(), LastNote: "Router replaced; waiting for the caller."},
		{Number: "T-000021", Subject: "Missed: Call to support", Status: "new", Missed: true,
			LastNote: "The caller hung up after waiting 2m0s in support."},
	}
	return r
}

// items returns the data-number of each ticket in a list.
func items(p *browsertest.Page, list string) []string {
	return browsertest.Eval[[]string](p, fmt.Sprintf(
		`[...document.querySelectorAll('#%s li.ticket-item')].map((li) => li.dataset.number)`, list))
}

// testTicketPanel: the caller's tickets from the ring, attach, search, a
// new ticket, and a disposition required to end wrap-up.
func testTicketPanel(t *testing.T, br *browsertest.Browser) {
	b := newBackend(t)
	b.tix.add(fakeTicket{Number: 17, Status: "open", Subject: "No internet", CallerNumber: "+15551234567", Serial: "SN-4242",
		Queue: "support", UpdatedAt: time.Now()})
	b.tix.add(fakeTicket{Number: 21, Status: "new", Subject: "Missed: Call to support", CallerNumber: "+15551234567",
		Queue: "support", Missed: true, UpdatedAt: time.Now()})
	b.tix.add(fakeTicket{Number: 5, Status: "solved", Subject: "Slow Wi-Fi", CallerNumber: "+15550000000", Serial: "SN-9",
		Queue: "support", UpdatedAt: time.Now(), Notes: []map[string]any{{"text": "Channel changed."}}})
	b.tix.add(fakeTicket{Number: 8, Status: "open", Subject: "Invoice", Serial: "SN-9", Queue: "billing", UpdatedAt: time.Now()})
	p := br.NewPage(t)
	c := signIn(t, p, b, welcome(softphone.StateReady))
	p.WaitText("#state", "Ready")
	require.False(t, p.Visible("#ticket-panel"), "no call, no ticket panel")

	// The ring carries the caller's open tickets: the panel shows them.
	c.send(t, ticketRing("call-1"))
	p.WaitVisible("#ring")
	p.WaitVisible("#ticket-panel")
	require.Equal(t, []string{"T-000017", "T-000021"}, items(p, "ticket-list"))
	first := `#ticket-list li[data-number="T-000017"]`
	require.Equal(t, "T-000017", p.Text(first+" .ticket-number"))
	require.Equal(t, "Open", p.Text(first+" .ticket-status"))
	require.Equal(t, "No internet", p.Text(first+" .ticket-subject"))
	require.Equal(t, "Router replaced; waiting for the caller.", p.Text(first+" .ticket-note"))
	require.Contains(t, p.Text(first), "updated ")
	require.False(t, p.Visible(first+" .ticket-missed"))
	second := `#ticket-list li[data-number="T-000021"]`
	require.Equal(t, "Missed call", p.Text(second+" .ticket-missed"))
	require.Equal(t, "New", p.Text(second+" .ticket-status"))
	require.Equal(t, "Attach this call", p.Text(first+" .ticket-attach"))
	require.Contains(t, p.Text("#ticket-auto"), "If you attach no ticket, one is created from this call")
	require.False(t, p.Visible("#ticket-none"))
	require.NotContains(t, p.Text("#ticket-panel"), "{", "no raw JSON on screen")

	// Attach during the ring: the call id goes to the ticket.
	p.Click(first + " .ticket-attach")
	p.WaitTrue(`document.querySelector('` + first + `').dataset.attached === 'true'`)
	require.Equal(t, []string{`POST /api/v1/tickets/T-000017/calls {"call_id":"call-1"}`}, b.tix.made())
	require.Equal(t, "Attached", p.Text(first+" .ticket-attach"))
	require.True(t, browsertest.Eval[bool](p, `document.querySelector('`+first+` .ticket-attach').disabled`))
	require.Equal(t, "false", browsertest.Eval[string](p, `document.querySelector('`+second+`').dataset.attached`))
	p.WaitText("#ticket-attached", "This call is attached to T-000017.")
	require.False(t, p.Visible("#ticket-auto"), "nothing is created automatically once attached")
	require.Equal(t, []string{"T-000017"}, browsertest.Eval[[]string](p, `hotlineAgent.attached()`))

	// The call keeps the panel and what was attached.
	p.Click("#accept")
	c.expect(t, softphone.TypeAccept)
	c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
	call := softphone.Call{CallID: "call-1", Status: softphone.CallConnected, From: "+15551234567", Queue: "support",
		Vars: map[string]string{"serial": "SN-4242", "product": "router"}, Tickets: ticketRing("call-1").Tickets,
		Dispositions: []string{"resolved", "callback", "escalated"}}
	c.send(t, call)
	p.WaitVisible("#call")
	p.WaitHidden("#ring")
	require.True(t, p.Visible("#ticket-panel"))
	require.Equal(t, "true", browsertest.Eval[string](p, `document.querySelector('`+first+`').dataset.attached`))

	// Search: a serial lists its tickets; one of another queue is refused
	// with the server's reason.
	p.Type("#ticket-search", "SN-9")
	p.Click("#ticket-search-go")
	p.WaitTrue(`document.querySelectorAll('#ticket-results li.ticket-item').length === 2`)
	require.Equal(t, []string{"T-000005", "T-000008"}, items(p, "ticket-results"))
	require.Contains(t, b.tix.made()[1], "GET /api/v1/tickets?limit=10&serial=SN-9")
	require.Equal(t, "Channel changed.", p.Text(`#ticket-results li[data-number="T-000005"] .ticket-note`))
	require.Equal(t, "Solved", p.Text(`#ticket-results li[data-number="T-000005"] .ticket-status`))
	p.Click(`#ticket-results li[data-number="T-000008"] .ticket-attach`)
	p.WaitText("#ticket-error", "The ticket request failed: this ticket is not in one of your queues")
	// A solved ticket the call is attached to is open again.
	p.Click(`#ticket-results li[data-number="T-000005"] .ticket-attach`)
	p.WaitTrue(`document.querySelector('#ticket-results li[data-number="T-000005"]').dataset.attached === 'true'`)
	require.Equal(t, "Open", p.Text(`#ticket-results li[data-number="T-000005"] .ticket-status`))
	p.WaitHidden("#ticket-error")
	require.Equal(t, "This call is attached to T-000017, T-000005.", p.Text("#ticket-attached"))

	// A ticket number opens that ticket; an unknown one finds nothing.
	p.SetValue("#ticket-search", "T21")
	p.Click("#ticket-search-go")
	p.WaitTrue(`document.querySelector('#ticket-results li.ticket-item') && document.querySelector('#ticket-results li.ticket-item').dataset.number === 'T-000021'`)
	require.Contains(t, b.tix.made()[len(b.tix.made())-1], "GET /api/v1/tickets/T21")
	p.SetValue("#ticket-search", "T-999")
	p.Click("#ticket-search-go")
	p.WaitVisible("#ticket-results-empty")
	require.Equal(t, "No tickets found.", p.Text("#ticket-results-empty"))
	// A phone number searches by phone.
	p.SetValue("#ticket-search", "+1 555 000-0000")
	p.Click("#ticket-search-go")
	p.WaitTrue(`document.querySelectorAll('#ticket-results li.ticket-item').length === 1`)
	require.Contains(t, b.tix.made()[len(b.tix.made())-1], "phone=%2B15550000000")

	// A new ticket, prefilled from the queue and the serial, is created with
	// this call.
	p.Click("#ticket-new-open")
	p.WaitVisible("#ticket-new")
	require.Equal(t, "Call to support, serial SN-4242", browsertest.Eval[string](p, `document.getElementById('ticket-new-subject').value`))
	p.Type("#ticket-new-note", "Wants a callback tomorrow.")
	p.SetValue("#ticket-new-status", "pending")
	p.Click("#ticket-new-create")
	p.WaitHidden("#ticket-new")
	p.WaitTrue(`document.querySelector('#ticket-list li[data-number="T-000101"]') !== null`)
	created := b.tix.bodies()
	require.Len(t, created, 1)
	require.Equal(t, map[string]any{"subject": "Call to support, serial SN-4242", "note": "Wants a callback tomorrow.",
		"status": "pending", "call_id": "call-1", "caller_number": "+15551234567", "queue": "support",
		"serial": "SN-4242", "product": "router"}, created[0])
	require.Equal(t, "true", browsertest.Eval[string](p, `document.querySelector('#ticket-list li[data-number="T-000101"]').dataset.attached`))
	require.Equal(t, "Pending", p.Text(`#ticket-list li[data-number="T-000101"] .ticket-status`))

	// Wrap-up: the queue's codes, and Done only once one is picked.
	p.Click("#hangup")
	c.expect(t, softphone.TypeHangup)
	call.Status, call.EndedBy = softphone.CallEnded, "agent"
	c.send(t, call)
	c.send(t, softphone.State{State: softphone.StateWrapUp, Since: time.Now().UnixMilli()})
	p.WaitVisible("#wrapup")
	require.True(t, p.Visible("#ticket-panel"), "the panel stays for wrap-up")
	require.Equal(t, []string{"", "resolved", "callback", "escalated"}, browsertest.Eval[[]string](p,
		`[...document.querySelectorAll('#wrapup-disposition option')].map((o) => o.value)`))
	require.Equal(t, []string{"— pick one —", "Resolved", "callback", "Escalated"}, browsertest.Eval[[]string](p,
		`[...document.querySelectorAll('#wrapup-disposition option')].map((o) => o.textContent)`))
	require.True(t, browsertest.Eval[bool](p, `document.getElementById('wrapup-done').disabled`), "no disposition yet")
	require.Equal(t, "Pick a disposition to finish wrap-up.", p.Text("#wrapup-disposition-hint"))
	p.Type("#wrapup-note", "Callback booked.")
	p.SetValue("#wrapup-disposition", "callback")
	require.False(t, browsertest.Eval[bool](p, `document.getElementById('wrapup-done').disabled`))
	p.WaitHidden("#wrapup-disposition-hint")

	// The server refuses anyway (say its codes changed): the page says so
	// and keeps the note.
	p.Click("#wrapup-done")
	wd := c.expect(t, softphone.TypeWrapupDone).(softphone.WrapupDone)
	require.Equal(t, softphone.WrapupDone{CallID: "call-1", Note: "Callback booked.", Disposition: "callback"}, wd)
	c.send(t, softphone.Error{Code: softphone.CodeDisposition, Ref: softphone.TypeWrapupDone,
		Message: "pick a disposition to finish wrap-up: resolved, escalated"})
	p.WaitText("#error", "Wrap-up needs a disposition. pick a disposition to finish wrap-up: resolved, escalated")
	require.Equal(t, "Callback booked.", browsertest.Eval[string](p, `document.getElementById('wrapup-note').value`))
	p.SetValue("#wrapup-disposition", "resolved")
	p.Click("#wrapup-done")
	wd = c.expect(t, softphone.TypeWrapupDone).(softphone.WrapupDone)
	require.Equal(t, softphone.WrapupDone{CallID: "call-1", Note: "Callback booked.", Disposition: "resolved"}, wd)
	c.send(t, softphone.State{State: softphone.StateReady, Since: time.Now().UnixMilli()})
	p.WaitHidden("#wrapup")
	p.WaitHidden("#ticket-panel")
	require.Empty(t, browsertest.Eval[[]string](p, `hotlineAgent.attached()`), "the next call starts afresh")
	require.Equal(t, "", browsertest.Eval[string](p, `document.getElementById('wrapup-note').value`))

	// A queue without codes: the usual choices, Done at once.
	c.send(t, ring("call-2"))
	p.WaitVisible("#ring")
	require.Equal(t, []string{"T-000017"}, items(p, "ticket-list"), "the ring's own tickets")
	p.Click("#accept")
	c.expect(t, softphone.TypeAccept)
	c.send(t, softphone.State{State: softphone.StateOnCall, Since: time.Now().UnixMilli()})
	c.send(t, softphone.Call{CallID: "call-2", Status: softphone.CallEnded, EndedBy: "caller", From: "+15551234567", Queue: "support"})
	c.send(t, softphone.State{State: softphone.StateWrapUp, Since: time.Now().UnixMilli()})
	p.WaitVisible("#wrapup")
	require.Equal(t, []string{"resolved", "follow_up", "escalated", "wrong_number", "other"}, browsertest.Eval[[]string](p,
		`[...document.querySelectorAll('#wrapup-disposition option')].map((o) => o.value)`))
	require.False(t, browsertest.Eval[bool](p, `document.getElementById('wrapup-done').disabled`))
	p.Click("#wrapup-done")
	require.Equal(t, "resolved", c.expect(t, softphone.TypeWrapupDone).(softphone.WrapupDone).Disposition)

	for _, line := range p.Console() {
		require.False(t, strings.HasPrefix(line, "uncaught") || strings.HasPrefix(line, "console.error"), "page error: %s", line)
	}
}

// testTicketPanelRussian: the panel in Russian.
func testTicketPanelRussian(t *testing.T, br *browsertest.Browser) {
	b := newBackend(t)
	b.tix.add(fakeTicket{Number: 17, Status: "open", Subject: "No internet", CallerNumber: "+15551234567", Queue: "support"})
	p := br.NewPage(t)
	c := signIn(t, p, b, welcome(softphone.StateReady))
	p.WaitText("#state", "Ready")
	p.SetValue("#lang", "ru")
	p.WaitText("#state", "Готов")
	c.send(t, ticketRing("call-3"))
	p.WaitVisible("#ticket-panel")
	require.Equal(t, "Заявки", p.Text("#ticket-title"))
	require.Contains(t, p.Text("#ticket-auto"), "Если не прикрепить звонок к заявке")
	first := `#ticket-list li[data-number="T-000017"]`
	require.Equal(t, "Прикрепить звонок", p.Text(first+" .ticket-attach"))
	require.Equal(t, "Открыта", p.Text(first+" .ticket-status"))
	require.Equal(t, "Пропущенный звонок", p.Text(`#ticket-list li[data-number="T-000021"] .ticket-missed`))
	require.Equal(t, "Найти", p.Text("#ticket-search-go"))
	require.Equal(t, "T-000123, телефон или серийный номер", browsertest.Eval[string](p, `document.getElementById('ticket-search').placeholder`))
	require.Equal(t, "Новая заявка", p.Text("#ticket-new-open"))
	p.Click(first + " .ticket-attach")
	p.WaitText("#ticket-attached", "Звонок прикреплён к заявке T-000017.")
	require.Equal(t, "Прикреплён", p.Text(first+" .ticket-attach"))
	p.Click("#ticket-new-open")
	p.WaitVisible("#ticket-new")
	require.Equal(t, "Звонок в очередь support, серийный номер SN-4242",
		browsertest.Eval[string](p, `document.getElementById('ticket-new-subject').value`))
	require.Equal(t, "Создать и прикрепить звонок", p.Text("#ticket-new-create"))

	// Back to English: the panel's texts follow.
	p.SetValue("#lang", "en")
	p.WaitText("#ticket-title", "Tickets")
	require.Equal(t, "Attached", p.Text(first+" .ticket-attach"))
	require.Equal(t, "This call is attached to T-000017.", p.Text("#ticket-attached"))

	p.Click("#reject")
	c.expect(t, softphone.TypeReject)
	p.WaitHidden("#ticket-panel")
}
