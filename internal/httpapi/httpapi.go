// Package httpapi serves hotline's HTTP surface: the JSON API under /api/v1,
// health (/healthz live, /readyz ready) and Prometheus metrics (/metrics).
// It reads through small interfaces it declares itself, so it can be tested
// without SIP or media.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hotline/hotline/internal/store"
)

// CallReader is the part of the store the API reads calls from.
type CallReader interface {
	ListCalls(ctx context.Context, p store.Page) ([]store.Call, string, error)
	GetCall(ctx context.Context, id string) (store.Call, []store.Event, error)
}

// Options wires the API to the rest of the node.
type Options struct {
	Calls   CallReader
	Ready   func(ctx context.Context) error // nil error means ready to take calls
	Metrics http.Handler                    // the Prometheus handler for /metrics
	Logger  *slog.Logger
	// Auth (auth.go) signs people in and guards every /api/v1 route by role.
	// nil leaves the routes open, for handler tests only: serve sets it.
	Auth *Auth
	// Wallboard is the supervisors' live push (GET /api/v1/supervisor/ws,
	// supervisorws.go); nil: no such route.
	Wallboard Wallboard
	// AgentControl serves the supervisors' POST
	// /api/v1/agents/{id}/not-ready and .../sign-out (agents.go); nil: no
	// such routes.
	AgentControl AgentControl
	// Agents serves the agents' softphone WebSockets (GET /api/v1/agent/ws).
	Agents AgentSessions
	// Queues is the ACD's live view for GET /api/v1/queues (supervisors); nil without queues.
	Queues QueueReader
	// Pages serves the web pages (the agent softphone, sign-in) under "/".
	Pages http.Handler

	// Recordings reads the call recordings (recordings.go) for
	// /api/v1/recordings, and the recording of a call in GET
	// /api/v1/calls/{id}; nil: no recording routes.
	Recordings RecordingReader
	// Audio opens a recording's audio for GET /api/v1/recordings/{id}/audio;
	// nil answers 503 there.
	Audio RecordingAudio
	// Audit receives an event for every play, download, refusal, legal hold
	// and pause of a recording; nil audits nothing (tests).
	Audit AuditLog
	// AuditReader serves GET /api/v1/audit (supervisors); nil: no such route.
	AuditReader AuditReader
	// CallControl pauses and resumes live calls' recordings for POST
	// /api/v1/calls/{id}/recording/pause|resume; nil: no such routes.
	CallControl CallControl
	// Monitor puts supervisors on live calls (listen, whisper, barge) for
	// POST /api/v1/calls/{id}/monitor (monitor.go); nil: no such route.
	Monitor CallMonitor
	// Now is the clock of audit events; time.Now when nil (tests inject one).
	Now func() time.Time

	// Tickets serves the helpdesk routes under /api/v1/tickets (tickets.go)
	// for agents and supervisors; nil: no ticket routes. When it also
	// offers CallTickets, GET /api/v1/calls/{id} lists the call's tickets.
	Tickets TicketService
	// AgentQueues returns the queues an agent works, whose tickets they may
	// see and change; nil: none (an agent then reaches only the tickets
	// assigned to them, those with no queue, and their caller's).
	AgentQueues func(user string) []string
	// CurrentCaller returns the phone number of the call the agent is on or
	// wrapping up ("" when none): that caller's tickets are the agent's to
	// act on. nil: none.
	CurrentCaller func(agent string) string

	// Stats serves the KPI reports of GET /api/v1/stats (stats.go) to
	// supervisors, with StatsThresholds; nil: no such route.
	Stats           StatsReader
	StatsThresholds StatsThresholds
}

// API is the HTTP handler tree.
type API struct {
	opt   Options
	mux   *http.ServeMux
	dedup auditDedup // recent audited plays (recordings.go)
}

// Page sizes of GET /api/v1/calls.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// New builds the handler tree.
func New(opt Options) *API {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	a := &API{opt: opt, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.mux.HandleFunc("GET /readyz", a.ready)
	if opt.Metrics != nil {
		a.mux.Handle("GET /metrics", opt.Metrics)
	}
	// People and access (auth.go): sign-in routes; every /api/v1 route checks the role.
	if opt.Auth != nil {
		opt.Auth.Routes(a.mux)
	}
	if opt.Auth != nil && opt.Agents != nil {
		a.mux.HandleFunc("GET /api/v1/agent/ws", a.agentWS)
	}
	if opt.Wallboard != nil && opt.Auth != nil {
		a.mux.HandleFunc("GET /api/v1/supervisor/ws", a.supervisorWS)
	}
	a.agentRoutes()
	if opt.Pages != nil {
		a.mux.Handle("/", opt.Pages)
		a.mux.Handle("GET /{$}", http.RedirectHandler("/agent/", http.StatusFound))
	}
	if opt.Queues != nil {
		a.mux.Handle("GET /api/v1/queues", a.require(store.RoleSupervisor, a.listQueues))
		a.mux.Handle("GET /api/v1/agent/overview", a.require(store.RoleAgent, a.agentOverview))
	}
	a.mux.Handle("GET /api/v1/calls", a.require(store.RoleSupervisor, a.listCalls))
	a.mux.Handle("GET /api/v1/calls/{id}", a.require(store.RoleSupervisor, a.getCall))
	a.recordingsRoutes()
	a.monitorRoutes()
	a.ticketsRoutes()
	a.statsRoutes()
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) ready(w http.ResponseWriter, r *http.Request) {
	if a.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.opt.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// CallJSON is one call as the API shows it.
type CallJSON struct {
	ID          string            `json:"id"`
	SIPCallID   string            `json:"sip_call_id"`
	From        string            `json:"from"`
	To          string            `json:"to"`
	Trunk       string            `json:"trunk"`
	Source      string            `json:"source"`
	ArrivedAt   time.Time         `json:"arrived_at"`
	AnsweredAt  *time.Time        `json:"answered_at"`
	EndedAt     *time.Time        `json:"ended_at"`
	Flow        string            `json:"flow"`
	IVRPath     []string          `json:"ivr_path"`
	Digits      string            `json:"digits"`
	Vars        map[string]string `json:"vars"`
	Language    string            `json:"language"`
	Outcome     string            `json:"outcome"`
	Queue       string            `json:"queue"`
	HangupCause string            `json:"hangup_cause"`
	HangupSide  string            `json:"hangup_side"`
	QueuedAt    *time.Time        `json:"queued_at"`
	OfferedAt   *time.Time        `json:"offered_at"`
	ConnectedAt *time.Time        `json:"connected_at"`
	Agent       string            `json:"agent"`
	Disposition string            `json:"disposition"`
	Note        string            `json:"note"`
}

// EventJSON is one entry of a call's event list.
type EventJSON struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
}

func callJSON(c store.Call) CallJSON {
	if c.IVRPath == nil {
		c.IVRPath = []string{}
	}
	if c.Vars == nil {
		c.Vars = map[string]string{}
	}
	return CallJSON{
		ID: c.ID, SIPCallID: c.SIPCallID, From: c.From, To: c.To, Trunk: c.Trunk, Source: c.Source,
		ArrivedAt: c.ArrivedAt, AnsweredAt: c.AnsweredAt, EndedAt: c.EndedAt, Flow: c.Flow,
		IVRPath: c.IVRPath, Digits: c.Digits, Vars: c.Vars, Language: c.Language, Outcome: c.Outcome,
		Queue: c.Queue, HangupCause: c.HangupCause, HangupSide: c.HangupSide,
		QueuedAt: c.QueuedAt, OfferedAt: c.OfferedAt, ConnectedAt: c.ConnectedAt,
		Agent: c.Agent, Disposition: c.Disposition, Note: c.Note,
	}
}

func (a *API) listCalls(w http.ResponseWriter, r *http.Request) {
	limit := defaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(maxLimit))
			return
		}
		limit = n
	}
	calls, next, err := a.opt.Calls.ListCalls(r.Context(), store.Page{Limit: limit, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		if errors.Is(err, store.ErrBadCursor) {
			writeError(w, http.StatusBadRequest, "cursor is not one this API returned")
			return
		}
		a.opt.Logger.Error("list calls", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the call store is not reachable; try again")
		return
	}
	out := struct {
		Calls []CallJSON `json:"calls"`
		Next  string     `json:"next,omitempty"`
	}{Calls: make([]CallJSON, 0, len(calls)), Next: next}
	for _, c := range calls {
		out.Calls = append(out.Calls, callJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getCall(w http.ResponseWriter, r *http.Request) {
	c, events, err := a.opt.Calls.GetCall(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no call with this id")
		return
	}
	if err != nil {
		a.opt.Logger.Error("get call", "call_id", r.PathValue("id"), "err", err)
		writeError(w, http.StatusServiceUnavailable, "the call store is not reachable; try again")
		return
	}
	rec, err := a.callRecording(r.Context(), c.ID)
	if err != nil {
		a.storeUnavailable(w, "get call: recording", err, "call_id", c.ID)
		return
	}
	linked, err := a.callTicketIDs(r.Context(), c.ID)
	if err != nil {
		a.opt.Logger.Error("get call: tickets", "call_id", c.ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the ticket store is not reachable; try again")
		return
	}
	out := struct {
		Call      CallJSON           `json:"call"`
		Events    []EventJSON        `json:"events"`
		Recording *CallRecordingJSON `json:"recording"`
		Tickets   []string           `json:"tickets"` // "T-000123"; [] when none or no ticket store
	}{Call: callJSON(c), Events: make([]EventJSON, 0, len(events)), Recording: rec, Tickets: nonNil(linked)}
	for _, e := range events {
		out.Events = append(out.Events, EventJSON{Seq: e.Seq, At: e.At, Kind: e.Kind, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, out)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
