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
	p, err := a.opt.Auth.Identify(r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			a.opt.Logger.Info("agent socket refused: not signed in", "remote", r.RemoteAddr, "err", err)
			writeError(w, http.StatusUnauthorized, "sign in first")
			return
		}
		a.opt.Logger.Error("agent socket: identify", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the user store is not reachable; try again")
		return
	}
	if p.Token || !p.Role.AtLeast(store.RoleAgent) {
		a.opt.Auth.Forbid(w, r, "role", "the softphone is for signed-in agents")
		return
	}
	if err := a.opt.Auth.CheckOrigin(r); err != nil {
		a.opt.Auth.Forbid(w, r, "origin", err.Error())
		return
	}
	// The socket outlives the request's deadlines (ReadTimeout would cut
	// it, and cancel its context); the agent protocol keeps its own time.
	longLived(w)
	// The Origin was checked above against the host and the configured list.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		a.opt.Logger.Info("agent socket upgrade failed", "agent", p.Username, "err", err)
		return
	}
	err = a.opt.Agents.Serve(r.Context(), softphone.AgentInfo{ID: p.Username, Name: p.Name}, conn)
	a.opt.Logger.Debug("agent socket closed", "agent", p.Username, "err", err)
}
