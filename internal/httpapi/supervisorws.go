package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline/hotline/internal/store"
)

// Wallboard is the supervisors' live push; *wallboard.Board is one. Watch
// delivers the current state and then each change, as JSON messages.
type Wallboard interface {
	Watch() (messages <-chan []byte, stop func())
}

// wallboardPing is how often the server pings a watching supervisor's
// socket; a socket that does not answer within wallboardPing is closed.
const wallboardPing = 15 * time.Second

// supervisorWS is GET /api/v1/supervisor/ws: supervisor protocol v1. The
// server sends {"v":1,"type":"wallboard",...} (see package wallboard: the
// queues with waiting, ringing, talking, longest wait, agents by state and
// today's figures; the agents with state, reason, since, current call and
// calls handled today) at once and then whenever something changed, at
// most four times a second. The browser sends nothing; whatever it sends
// is ignored. Supervisors and admins signed in (no API token), with the
// same Origin check as the agents' socket.
func (a *API) supervisorWS(w http.ResponseWriter, r *http.Request) {
	p, conn, ok := a.acceptSocket(w, r, "supervisor", store.RoleSupervisor, "the wallboard is for supervisors")
	if !ok {
		return
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context()) // reads (and drops) what the browser sends; ends ctx on close
	messages, stop := a.opt.Wallboard.Watch()
	defer stop()
	ping := time.NewTicker(wallboardPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-messages:
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := conn.Write(wctx, websocket.MessageText, m)
			cancel()
			if err != nil {
				a.opt.Logger.Debug("supervisor socket closed", "user", p.Username, "err", err)
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, wallboardPing)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				a.opt.Logger.Debug("supervisor socket silent; closed", "user", p.Username, "err", err)
				return
			}
		}
	}
}
