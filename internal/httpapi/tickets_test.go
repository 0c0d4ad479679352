package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/store/pgtest"
	"github.com/hotline/hotline/internal/tickets"
)

// The Service offers CallTickets itself (TicketsOfCall), as serve wires it.
var _ CallTickets = (*tickets.Service)(nil)

// ticketEnv is the API with the real tickets.Service over the real SQLite
// store of authEnv: anna works support, boris billing, sam supervises.
type ticketEnv struct {
	*authEnv
	svc    *tickets.Service
	mu     sync.Mutex
	caller map[string]string // agent → the phone number on their line
	anna   *client
	boris  *client
	sam    *client
}

func newTicketEnv(t *testing.T) *ticketEnv {
	t.Helper()
	return newTicketEnvOn(t, "")
}

// newTicketEnvOn is newTicketEnv on the PostgreSQL database at the URL
// database, or on SQLite for "".
func newTicketEnvOn(t *testing.T, database string) *ticketEnv {
	t.Helper()
	e := &ticketEnv{caller: map[string]string{}}
	var clock func() time.Time
	configure := func(o *Options) {
		st, ok := o.Calls.(tickets.Store)
		require.True(t, ok, "the store keeps tickets")
		e.svc = tickets.New(st, tickets.Options{Now: func() time.Time { return clock() }})
		o.Tickets = e.svc
		o.AgentQueues = func(user string) []string {
			return map[string][]string{"anna": {"support"}, "boris": {"billing"}}[user]
		}
		o.CurrentCaller = func(agent string) string {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.caller[agent]
		}
	}
	if database == "" {
		e.authEnv = newAuthEnvWith(t, configure)
	} else {
		e.authEnv = openPG(t, database, configure)
	}
	clock = e.clock.Now
	e.addUser("anna", store.RoleAgent, "correct horse")
	e.addUser("boris", store.RoleAgent, "correct horse")
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	for _, c := range []struct {
		name string
		cl   **client
	}{{"anna", &e.anna}, {"boris", &e.boris}, {"sam", &e.sam}} {
		*c.cl = e.browser()
		require.Equal(t, http.StatusOK, (*c.cl).login(c.name, "correct horse").code)
	}
	return e
}

// openPG is newAuthEnvWith over PostgreSQL (authEnv.open opens SQLite).
func openPG(t *testing.T, database string, configure func(*Options)) *authEnv {
	t.Helper()
	e := &authEnv{t: t, dir: t.TempDir(), logs: &syncBuffer{},
		clock: &testClock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}, configure: configure}
	st, err := store.Open(t.Context(), store.Config{DataDir: e.dir, Database: database}, nil)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(t.Context()))
	e.st = st
	e.auth, err = NewAuth(AuthOptions{Store: st, Config: DefaultAuthConfig(), Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	require.NoError(t, err)
	e.auth.dummyCost = bcrypt.MinCost
	opt := Options{Calls: st, Auth: e.auth}
	configure(&opt)
	e.srv = httptest.NewServer(New(opt))
	t.Cleanup(e.close)
	return e
}

// onLine puts phone on agent's line ("" takes it off).
func (e *ticketEnv) onLine(agent, phone string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.caller[agent] = phone
}

// send makes a state-changing request with the CSRF token.
func (c *client) send(method, path string, body any) response {
	c.e.t.Helper()
	return c.do(method, path, body, map[string]string{CSRFHeader: c.csrf})
}

// sendRaw posts a body as it is, with the CSRF token.
func (c *client) sendRaw(method, path, body string) response {
	t := c.e.t
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.e.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(CSRFHeader, c.csrf)
	res, err := c.http.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := response{code: res.StatusCode, header: res.Header}
	require.NoError(t, json.Unmarshal(b, &out.body), "body %q", b)
	return out
}

func (r response) list(key string) []any { l, _ := r.body[key].([]any); return l }

// ticketIDs returns the "id" of every ticket of a list answer.
func ticketIDs(r response) []string {
	out := []string{}
	for _, x := range r.list("tickets") {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

// callIDs returns the call_id of every linked call of a ticket answer.
func callIDs(r response) []string {
	out := []string{}
	for _, x := range r.list("calls") {
		out = append(out, x.(map[string]any)["call_id"].(string))
	}
	return out
}

// eachTicketStore runs a test on SQLite and on a private PostgreSQL.
func eachTicketStore(t *testing.T, run func(t *testing.T, e *ticketEnv)) {
	t.Run("sqlite", func(t *testing.T) { run(t, newTicketEnv(t)) })
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		run(t, newTicketEnvOn(t, pg.CreateDB(t)))
	})
}

func TestTicketLifecycle(t *testing.T) { eachTicketStore(t, testTicketLifecycle) }

func TestTicketList(t *testing.T) { eachTicketStore(t, testTicketList) }

func testTicketLifecycle(t *testing.T, e *ticketEnv) {

	r := e.anna.send("POST", "/api/v1/tickets", map[string]any{
		"subject": "No internet", "note": "The router blinks red.", "caller_number": "+15551234567",
		"serial": "SN-4242", "product": "router", "call_id": "call-1",
	})
	require.Equal(t, http.StatusCreated, r.code, r.body)
	require.Equal(t, "T-000001", r.str("id"))
	require.EqualValues(t, 1, r.body["number"])
	require.Equal(t, "/api/v1/tickets/T-000001", r.header.Get("Location"))
	require.Equal(t, "new", r.str("status"))
	require.Equal(t, "normal", r.str("priority"))
	require.Equal(t, "support", r.str("queue"), "an agent's ticket goes to their queue")
	require.Equal(t, "anna", r.str("assignee"))
	require.Equal(t, "SN-4242", r.str("serial"))
	require.Equal(t, false, r.body["missed"])
	require.NotEmpty(t, r.str("first_response_at"))
	require.Len(t, r.list("notes"), 1)
	note := r.list("notes")[0].(map[string]any)
	require.Equal(t, "The router blinks red.", note["text"])
	require.Equal(t, "anna", note["author"])
	require.Equal(t, []string{"call-1"}, callIDs(r))

	for _, n := range []string{"T-000001", "T1", "t-1", "1", "000001"} {
		r = e.anna.do("GET", "/api/v1/tickets/"+n, nil, nil)
		require.Equal(t, http.StatusOK, r.code, "%s: %v", n, r.body)
		require.Equal(t, "T-000001", r.str("id"))
	}

	e.clock.Advance(time.Minute)
	r = e.anna.send("PATCH", "/api/v1/tickets/T-000001", map[string]any{"status": "pending", "priority": "high",
		"caller_name": "Ivan Petrov"})
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, "pending", r.str("status"))
	require.Equal(t, "high", r.str("priority"))
	require.Equal(t, "Ivan Petrov", r.str("caller_name"))
	require.Equal(t, "No internet", r.str("subject"), "fields not sent stay")
	require.Equal(t, "2026-11-24T09:01:00Z", r.str("updated_at"))

	r = e.anna.send("POST", "/api/v1/tickets/T1/notes", map[string]string{"text": "Sent a replacement."})
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Len(t, r.list("notes"), 2)
	require.Equal(t, "Sent a replacement.", r.list("notes")[1].(map[string]any)["text"])

	r = e.anna.send("POST", "/api/v1/tickets/1/calls", map[string]string{"call_id": "call-2"})
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{"call-1", "call-2"}, callIDs(r))
	require.Equal(t, "anna", r.list("calls")[1].(map[string]any)["by"])
	r = e.anna.send("POST", "/api/v1/tickets/1/calls", map[string]string{"call_id": "call-2"})
	require.Equal(t, http.StatusOK, r.code, "attaching again is no change")
	require.Equal(t, []string{"call-1", "call-2"}, callIDs(r))

	r = e.anna.send("DELETE", "/api/v1/tickets/T-000001/calls/call-1", nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{"call-2"}, callIDs(r))
	r = e.anna.send("DELETE", "/api/v1/tickets/T-000001/calls/call-1", nil)
	require.Equal(t, http.StatusNotFound, r.code)
	require.Equal(t, `call "call-1" is not linked to T-000001`, r.str("error"))

	// A solved ticket is reopened by a call attached to it.
	require.Equal(t, "solved", e.anna.send("PATCH", "/api/v1/tickets/1", map[string]string{"status": "solved"}).str("status"))
	r = e.anna.send("POST", "/api/v1/tickets/1/calls", map[string]string{"call_id": "call-3"})
	require.Equal(t, "open", r.str("status"))

	// GET /api/v1/calls/{id} names the call's tickets.
	at := e.clock.Now()
	require.NoError(t, e.st.SaveCall(t.Context(), store.Call{ID: "call-2", ArrivedAt: at, From: "+15551234567"}))
	require.NoError(t, e.st.SaveCall(t.Context(), store.Call{ID: "call-9", ArrivedAt: at}))
	r = e.sam.do("GET", "/api/v1/calls/call-2", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []any{"T-000001"}, r.body["tickets"])
	r = e.sam.do("GET", "/api/v1/calls/call-9", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []any{}, r.body["tickets"], "a call with no ticket: [], not null or absent")
}

func testTicketList(t *testing.T, e *ticketEnv) {
	mk := func(c *client, fields map[string]any) string {
		t.Helper()
		e.clock.Advance(time.Second)
		r := c.send("POST", "/api/v1/tickets", fields)
		require.Equal(t, http.StatusCreated, r.code, r.body)
		return r.str("id")
	}
	a := mk(e.anna, map[string]any{"subject": "A", "caller_number": "+1555", "serial": "SN-1"})
	b := mk(e.anna, map[string]any{"subject": "B", "caller_number": "+1555", "serial": "SN-2", "status": "pending"})
	c := mk(e.anna, map[string]any{"subject": "C", "caller_number": "+1666", "serial": "SN-1", "status": "solved"})
	d := mk(e.sam, map[string]any{"subject": "D", "caller_number": "+1555", "queue": "billing", "status": "open"})

	list := func(cl *client, q string) []string {
		t.Helper()
		r := cl.do("GET", "/api/v1/tickets"+q, nil, nil)
		require.Equal(t, http.StatusOK, r.code, "%s: %v", q, r.body)
		require.Contains(t, r.body, "next")
		return ticketIDs(r)
	}
	require.Equal(t, []string{d, c, b, a}, list(e.sam, ""), "newest change first")
	require.Equal(t, []string{d, b, a}, list(e.sam, "?phone=%2B1555"))
	require.Equal(t, []string{c, a}, list(e.sam, "?serial=SN-1"))
	require.Equal(t, []string{a}, list(e.sam, "?serial=SN-1&phone=%2B1555"), "filters all match")
	require.Equal(t, []string{d, b}, list(e.sam, "?status=open,pending"))
	require.Equal(t, []string{d}, list(e.sam, "?queue=billing"))
	require.Equal(t, []string{c, b, a}, list(e.anna, ""), "anna sees support, not billing")
	require.Equal(t, []string{d}, list(e.boris, ""))
	require.Empty(t, list(e.anna, "?queue=billing"))

	// Pages.
	r := e.sam.do("GET", "/api/v1/tickets?limit=3", nil, nil)
	require.Equal(t, []string{d, c, b}, ticketIDs(r))
	require.NotEmpty(t, r.str("next"))
	r = e.sam.do("GET", "/api/v1/tickets?limit=3&cursor="+r.str("next"), nil, nil)
	require.Equal(t, []string{a}, ticketIDs(r))
	require.Empty(t, r.str("next"))

	for q, msg := range map[string]string{
		"?status=bogus":  `invalid value: status "bogus" (want one of new, open, pending, solved, closed)`,
		"?limit=0":       "limit must be a number from 1 to 1000",
		"?limit=x":       "limit must be a number from 1 to 1000",
		"?cursor=%3F%3F": "cursor is not one this API returned",
	} {
		r := e.sam.do("GET", "/api/v1/tickets"+q, nil, nil)
		require.Equal(t, http.StatusBadRequest, r.code, q)
		require.Equal(t, msg, r.str("error"), q)
	}
}

func TestTicketAccess(t *testing.T) {
	e := newTicketEnv(t)
	r := e.sam.send("POST", "/api/v1/tickets", map[string]any{"subject": "Invoice twice", "queue": "billing",
		"caller_number": "+4930111"})
	require.Equal(t, http.StatusCreated, r.code, r.body)
	require.Equal(t, "", r.str("assignee"), "a supervisor's ticket is nobody's yet")
	id := r.str("id")

	r = e.anna.do("GET", "/api/v1/tickets/"+id, nil, nil)
	require.Equal(t, http.StatusForbidden, r.code)
	require.Equal(t, "this ticket is not in one of your queues", r.str("error"))
	require.Contains(t, e.logs.String(), "user=anna")
	for _, try := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/api/v1/tickets/" + id, map[string]string{"status": "open"}},
		{"POST", "/api/v1/tickets/" + id + "/notes", map[string]string{"text": "x"}},
		{"POST", "/api/v1/tickets/" + id + "/calls", map[string]string{"call_id": "call-1"}},
		{"DELETE", "/api/v1/tickets/" + id + "/calls/call-1", nil},
	} {
		r := e.anna.send(try.method, try.path, try.body)
		require.Equal(t, http.StatusForbidden, r.code, "%s %s", try.method, try.path)
		require.Equal(t, "this ticket is not in one of your queues", r.str("error"))
	}
	require.Empty(t, ticketIDs(e.anna.do("GET", "/api/v1/tickets?phone=%2B4930111", nil, nil)))
	r = e.anna.send("POST", "/api/v1/tickets", map[string]any{"subject": "Mine?", "queue": "billing"})
	require.Equal(t, http.StatusForbidden, r.code, "an agent opens tickets in their own queues")

	// The caller of the billing ticket is on anna's line: the screen pop's
	// ticket is hers to act on.
	e.onLine("anna", "+4930111")
	r = e.anna.do("GET", "/api/v1/tickets/"+id, nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{id}, ticketIDs(e.anna.do("GET", "/api/v1/tickets?phone=%2B4930111", nil, nil)))
	r = e.anna.send("POST", "/api/v1/tickets/"+id+"/calls", map[string]string{"call_id": "call-7"})
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []string{"call-7"}, callIDs(r))
	e.onLine("anna", "")
	require.Equal(t, http.StatusForbidden, e.anna.do("GET", "/api/v1/tickets/"+id, nil, nil).code, "the call is over")

	require.Equal(t, http.StatusOK, e.boris.do("GET", "/api/v1/tickets/"+id, nil, nil).code, "boris works billing")
	// Assigned to anna, it is hers wherever it is.
	require.Equal(t, http.StatusOK, e.sam.send("PATCH", "/api/v1/tickets/"+id, map[string]string{"assignee": "anna"}).code)
	require.Equal(t, http.StatusOK, e.anna.do("GET", "/api/v1/tickets/"+id, nil, nil).code)
}

func TestTicketAuth(t *testing.T) {
	e := newTicketEnv(t)
	stranger := e.browser()
	require.Equal(t, http.StatusUnauthorized, stranger.do("GET", "/api/v1/tickets", nil, nil).code)
	require.Equal(t, http.StatusUnauthorized, stranger.do("GET", "/api/v1/tickets/1", nil, nil).code)
	require.Equal(t, http.StatusUnauthorized, stranger.send("POST", "/api/v1/tickets", map[string]string{"subject": "x"}).code)

	// A session's state-changing requests carry the CSRF token.
	r := e.anna.do("POST", "/api/v1/tickets", map[string]string{"subject": "x"}, nil)
	require.Equal(t, http.StatusForbidden, r.code)
	require.Contains(t, r.str("error"), CSRFHeader)
	r = e.anna.do("POST", "/api/v1/tickets", map[string]string{"subject": "x"}, map[string]string{CSRFHeader: "wrong"})
	require.Equal(t, http.StatusForbidden, r.code)
	require.Equal(t, http.StatusCreated, e.anna.send("POST", "/api/v1/tickets", map[string]string{"subject": "x"}).code)
	for _, m := range []string{"PATCH", "DELETE"} {
		path := "/api/v1/tickets/1"
		if m == "DELETE" {
			path += "/calls/c"
		}
		require.Equal(t, http.StatusForbidden, e.anna.do(m, path, map[string]string{"status": "open"}, nil).code, m)
	}
	require.Equal(t, http.StatusForbidden, e.anna.do("POST", "/api/v1/tickets/1/notes", map[string]string{"text": "x"}, nil).code)
	require.Equal(t, http.StatusForbidden, e.anna.do("POST", "/api/v1/tickets/1/calls", map[string]string{"call_id": "c"}, nil).code)

	// Scripts use tokens and need no CSRF token; an agent token is nobody's
	// agent, so it reaches only the tickets with no queue.
	ctx := t.Context()
	secret, err := GenerateAPIToken()
	require.NoError(t, err)
	require.NoError(t, e.st.CreateToken(ctx, store.APIToken{ID: "t1", Name: "crm", Role: store.RoleSupervisor,
		Hash: store.TokenHash(secret), CreatedAt: e.clock.Now()}))
	agentSecret, err := GenerateAPIToken()
	require.NoError(t, err)
	require.NoError(t, e.st.CreateToken(ctx, store.APIToken{ID: "t2", Name: "bot", Role: store.RoleAgent,
		Hash: store.TokenHash(agentSecret), CreatedAt: e.clock.Now()}))
	script := &client{e: e.authEnv, http: http.DefaultClient}
	bearer := func(s string) map[string]string { return map[string]string{"Authorization": "Bearer " + s} }
	r = script.do("POST", "/api/v1/tickets", map[string]string{"subject": "From the CRM", "queue": "support"}, bearer(secret))
	require.Equal(t, http.StatusCreated, r.code, r.body)
	require.Equal(t, "T-000002", r.str("id"))
	require.Equal(t, http.StatusForbidden, script.do("GET", "/api/v1/tickets/2", nil, bearer(agentSecret)).code)
}

func TestTicketBadRequests(t *testing.T) {
	e := newTicketEnv(t)
	require.Equal(t, http.StatusCreated, e.anna.send("POST", "/api/v1/tickets", map[string]string{"subject": "Noise"}).code)

	for _, n := range []string{"abc", "T-", "T-0", "0", "-1", "T-12x", "1234567890123456789"} {
		r := e.anna.do("GET", "/api/v1/tickets/"+n, nil, nil)
		require.Equal(t, http.StatusBadRequest, r.code, n)
		require.Equal(t, "not a ticket number: write it as T-000123, T123 or 123", r.str("error"), n)
	}
	require.Equal(t, http.StatusBadRequest, e.anna.send("PATCH", "/api/v1/tickets/x", map[string]string{"status": "open"}).code)
	require.Equal(t, http.StatusBadRequest, e.anna.send("POST", "/api/v1/tickets/x/notes", map[string]string{"text": "a"}).code)
	require.Equal(t, http.StatusBadRequest, e.anna.send("DELETE", "/api/v1/tickets/x/calls/c", nil).code)

	for _, path := range []string{"/api/v1/tickets/T-000999", "/api/v1/tickets/999"} {
		r := e.anna.do("GET", path, nil, nil)
		require.Equal(t, http.StatusNotFound, r.code, path)
		require.Equal(t, "no ticket with this number", r.str("error"))
	}
	require.Equal(t, http.StatusNotFound, e.anna.send("PATCH", "/api/v1/tickets/999", map[string]string{"status": "open"}).code)
	require.Equal(t, http.StatusNotFound, e.anna.send("POST", "/api/v1/tickets/999/notes", map[string]string{"text": "a"}).code)
	require.Equal(t, http.StatusNotFound, e.anna.send("POST", "/api/v1/tickets/999/calls", map[string]string{"call_id": "c"}).code)
	r := e.anna.send("DELETE", "/api/v1/tickets/999/calls/c", nil)
	require.Equal(t, http.StatusNotFound, r.code)
	require.Equal(t, "no ticket with this number", r.str("error"))

	for _, c := range []struct {
		method, path string
		body         any
		want         string
	}{
		{"PATCH", "/api/v1/tickets/1", map[string]string{"status": "done"},
			`invalid value: status "done" (want one of new, open, pending, solved, closed)`},
		{"PATCH", "/api/v1/tickets/1", map[string]string{"priority": "asap"},
			`invalid value: priority "asap" (want one of low, normal, high, urgent)`},
		{"PATCH", "/api/v1/tickets/1", map[string]string{"subject": "  "}, "invalid value: subject must be 1 to 200 characters"},
		{"PATCH", "/api/v1/tickets/1", map[string]string{"serial": strings.Repeat("9", 201)}, "invalid value: serial is at most 200 characters"},
		{"PATCH", "/api/v1/tickets/1", map[string]string{},
			"nothing to change: send any of status, priority, subject, assignee, product, serial, queue, caller_name"},
		{"POST", "/api/v1/tickets", map[string]string{"subject": ""}, "invalid value: subject must be 1 to 200 characters"},
		{"POST", "/api/v1/tickets", map[string]string{"subject": "x", "status": "closed!"},
			`invalid value: status "closed!" (want one of new, open, pending, solved, closed)`},
		{"POST", "/api/v1/tickets/1/notes", map[string]string{"text": " "}, "invalid value: a note is 1 to 4000 characters"},
		{"POST", "/api/v1/tickets/1/notes", map[string]string{"text": strings.Repeat("я", 4001)}, "invalid value: a note is 1 to 4000 characters"},
		{"POST", "/api/v1/tickets/1/calls", map[string]string{"call_id": ""}, `send JSON {"call_id": "..."}: call_id is empty`},
	} {
		r := e.anna.send(c.method, c.path, c.body)
		require.Equal(t, http.StatusBadRequest, r.code, "%s %s %v", c.method, c.path, c.body)
		require.Equal(t, c.want, r.str("error"), "%s %s %v", c.method, c.path, c.body)
	}

	// Not JSON, unknown fields, and bodies past the limit.
	r = e.anna.sendRaw("PATCH", "/api/v1/tickets/1", `{"stauts": "open"}`)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.str("error"), `unknown field "stauts"`)
	r = e.anna.sendRaw("POST", "/api/v1/tickets", `{"subject": `)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.True(t, strings.HasPrefix(r.str("error"), "send JSON {"), r.str("error"))
	r = e.anna.sendRaw("POST", "/api/v1/tickets/1/notes", `{"text": "a"} {"text": "b"}`)
	require.Equal(t, http.StatusBadRequest, r.code)
	r = e.anna.sendRaw("PATCH", "/api/v1/tickets/1", `{"status": 3}`)
	require.Equal(t, http.StatusBadRequest, r.code)
	r = e.anna.sendRaw("POST", "/api/v1/tickets/1/notes", fmt.Sprintf(`{"text": %q}`, strings.Repeat("x", maxTicketBody)))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.code)
	require.Equal(t, "the body is longer than 65536 bytes", r.str("error"))

	// Nothing of that changed the ticket.
	r = e.anna.do("GET", "/api/v1/tickets/1", nil, nil)
	require.Equal(t, "new", r.str("status"))
	require.Len(t, r.list("notes"), 0)
}

// ticketsDown is a TicketService whose store is unreachable.
type ticketsDown struct{ TicketService }

func (ticketsDown) Find(context.Context, tickets.Viewer, store.TicketFilter) ([]store.Ticket, string, error) {
	return nil, "", fmt.Errorf("database is locked")
}

func (ticketsDown) Get(context.Context, tickets.Viewer, int64) (store.Ticket, error) {
	return store.Ticket{}, fmt.Errorf("database is locked")
}

func TestTicketStoreDown(t *testing.T) {
	logs := &syncBuffer{}
	e := newAuthEnvWith(t, func(o *Options) {
		o.Tickets, o.Logger = ticketsDown{}, slog.New(slog.NewTextHandler(logs, nil))
	})
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	sam := e.browser()
	require.Equal(t, http.StatusOK, sam.login("sam", "correct horse").code)
	for _, path := range []string{"/api/v1/tickets", "/api/v1/tickets/1"} {
		r := sam.do("GET", path, nil, nil)
		require.Equal(t, http.StatusServiceUnavailable, r.code, path)
		require.Equal(t, "the ticket store is not reachable; try again", r.str("error"))
	}
	require.Contains(t, logs.String(), "database is locked")
	// Without a TicketsOfCall, a call shows no tickets and still loads.
	require.NoError(t, e.st.SaveCall(t.Context(), store.Call{ID: "c1", ArrivedAt: e.clock.Now()}))
	r := sam.do("GET", "/api/v1/calls/c1", nil, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, []any{}, r.body["tickets"])
}

func TestNoTicketRoutesWithoutService(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	sam := e.browser()
	require.Equal(t, http.StatusOK, sam.login("sam", "correct horse").code)
	res, _ := sam.raw("GET", "/api/v1/tickets", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}
