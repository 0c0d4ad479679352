package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/hotline/hotline/internal/store"
)

// AgentControl lets a supervisor act on an agent (agents.go); the desk and
// the softphone hub do it in cmd/hotline.
type AgentControl interface {
	// SetNotReady puts the agent in not ready with reason (after their
	// current call, if they are on one).
	SetNotReady(ctx context.Context, agent, reason string) error
	// SignOutAgent signs the agent out of the queues and closes their
	// softphone.
	SignOutAgent(ctx context.Context, agent string) error
}

// Errors an AgentControl returns: for an agent the queues do not know, and
// (wrapped, with the reasons there are) for a reason that is not one of
// the configured not-ready reasons.
var (
	ErrUnknownAgent  = errors.New("no such agent in the queues")
	ErrUnknownReason = errors.New("not a configured not-ready reason")
)

// Audit actions of the supervisors' agent controls.
const (
	AuditAgentNotReady = "agent.not_ready"
	AuditAgentSignOut  = "agent.sign_out"
)

// maxReason is the longest not-ready reason a supervisor may give.
const maxReason = 64

// agentNotReady is POST /api/v1/agents/{id}/not-ready {"reason": "..."}
// (supervisors): the agent goes not ready, with one of the configured
// reasons (the first when none is given). Audited.
func (a *API) agentNotReady(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 && !decodeBody(w, r, &in, `{"reason": "break"}`) {
		return
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if utf8.RuneCountInString(in.Reason) > maxReason || !utf8.ValidString(in.Reason) {
		writeError(w, http.StatusBadRequest, "a reason is at most 64 characters")
		return
	}
	a.agentAction(w, r, AuditAgentNotReady, in.Reason, func(ctx context.Context, agent string) error {
		return a.opt.AgentControl.SetNotReady(ctx, agent, in.Reason)
	})
}

// agentSignOut is POST /api/v1/agents/{id}/sign-out (supervisors): the
// agent leaves the queues and their softphone is closed. Audited.
func (a *API) agentSignOut(w http.ResponseWriter, r *http.Request) {
	a.agentAction(w, r, AuditAgentSignOut, "", a.opt.AgentControl.SignOutAgent)
}

func (a *API) agentAction(w http.ResponseWriter, r *http.Request, action, detail string, do func(context.Context, string) error) {
	p := a.principal(r)
	agent := r.PathValue("id")
	switch err := do(r.Context(), agent); {
	case errors.Is(err, ErrUnknownAgent):
		writeError(w, http.StatusNotFound, "no agent "+agent+" in the queues")
		return
	case errors.Is(err, ErrUnknownReason):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		a.opt.Logger.Error("agent control", "agent", agent, "action", action, "by", p.Username, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the agent's state could not be changed; try again")
		return
	}
	a.audit(r, p, action, agent, "", detail)
	a.opt.Logger.Info("supervisor changed an agent's state", "agent", agent, "action", action, "by", p.Username)
	writeJSON(w, http.StatusOK, map[string]string{"agent": agent, "action": action})
}

// agentRoutes registers the supervisors' agent controls.
func (a *API) agentRoutes() {
	if a.opt.AgentControl == nil {
		return
	}
	a.mux.Handle("POST /api/v1/agents/{id}/not-ready", a.require(store.RoleSupervisor, a.agentNotReady))
	a.mux.Handle("POST /api/v1/agents/{id}/sign-out", a.require(store.RoleSupervisor, a.agentSignOut))
}
