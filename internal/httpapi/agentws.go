package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
)

// AgentSessions serves one agent's WebSocket for as long as it lasts
// (softphone.Hub does), and signs an agent out of the queues.
type AgentSessions interface {
	Serve(ctx context.Context, agent softphone.AgentInfo, conn softphone.Conn) error
}

// agentWS is GET /api/v1/agent/ws: the agent protocol (see package
// softphone) for a signed-in agent: a session, never an API token (a token
// names a script, not an agent; 403). The session and the Origin
// are checked here, before the upgrade.
func (a *API) agentWS(w http.ResponseWriter, r *http.Request) {
	p, conn, ok := a.acceptSocket(w, r, "agent", store.RoleAgent, "the softphone is for signed-in agents")
	if !ok {
		return
	}
	err := a.opt.Agents.Serve(r.Context(), softphone.AgentInfo{ID: p.Username, Name: p.Name}, conn)
	a.opt.Logger.Debug("agent socket closed", "agent", p.Username, "err", err)
}

// acceptSocket upgrades a WebSocket request of a signed-in person (a
// session, never an API token) with at least role, after the Origin check;
// otherwise it answers 401, 403 (refusal says why) or 503 and returns false.
// The socket outlives the request's deadlines (ReadTimeout would cut it,
// and cancel its context): each protocol keeps its own time.
func (a *API) acceptSocket(w http.ResponseWriter, r *http.Request, what string, role store.Role, refusal string) (Principal, *websocket.Conn, bool) {
	p, err := a.opt.Auth.Identify(r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			a.opt.Logger.Info(what+" socket refused: not signed in", "remote", r.RemoteAddr, "err", err)
			writeError(w, http.StatusUnauthorized, "sign in first")
			return Principal{}, nil, false
		}
		a.opt.Logger.Error(what+" socket: identify", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the user store is not reachable; try again")
		return Principal{}, nil, false
	}
	if p.Token || !p.Role.AtLeast(role) {
		a.opt.Auth.Forbid(w, r, "role", refusal)
		return Principal{}, nil, false
	}
	if err := a.opt.Auth.CheckOrigin(r); err != nil {
		a.opt.Auth.Forbid(w, r, "origin", err.Error())
		return Principal{}, nil, false
	}
	longLived(w)
	// The Origin was checked above against the host and the configured list.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		a.opt.Logger.Info(what+" socket upgrade failed", "user", p.Username, "err", err)
		return Principal{}, nil, false
	}
	return p, conn, true
}
