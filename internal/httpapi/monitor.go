package httpapi

// Supervisors on live calls: POST /api/v1/calls/{id}/monitor puts the
// signed-in supervisor on a call in a mode, listen (they hear the caller
// and the agent), whisper (the agent hears them too) or barge (both do),
// changes the mode, or takes them off (off). The audio goes through the
// supervisor's own softphone (the agent socket, GET /api/v1/agent/ws, and
// its WebRTC peer), which must be connected. Agents get 403; every change
// is audited ("call.monitor", detail "mode=...").

import (
	"context"
	"errors"
	"net/http"

	"github.com/hotline/hotline/internal/store"
)

// CallMonitor puts a supervisor on a live call through their softphone
// (the desk does it in cmd/hotline).
type CallMonitor interface {
	// Monitor puts supervisor on the live call callID in mode ("listen",
	// "whisper", "barge"), changes their mode, or takes them off ("off";
	// nothing to do when they are not on it). Its errors wrap
	// ErrCallNotLive, ErrCallNotBridged, ErrNoSoftphone or ErrMonitorBusy
	// when they apply.
	Monitor(ctx context.Context, callID, supervisor, mode string) error
}

// Errors a CallMonitor returns (wrapped).
var (
	// ErrCallNotLive: no such call is live (404).
	ErrCallNotLive = errors.New("httpapi: no such live call")
	// ErrCallNotBridged: the call is live but no agent is on it (409).
	ErrCallNotBridged = errors.New("httpapi: no agent is on the call")
	// ErrNoSoftphone: the supervisor's softphone is not connected (409).
	ErrNoSoftphone = errors.New("httpapi: the supervisor's softphone is not connected")
	// ErrMonitorBusy: another supervisor is on the call, or the supervisor
	// is on another call (409).
	ErrMonitorBusy = errors.New("httpapi: the supervisor or the call is busy")
)

// AuditMonitor is the audit action of a supervisor's monitor request.
const AuditMonitor = "call.monitor"

// monitorCall is POST /api/v1/calls/{id}/monitor {"mode": "listen" |
// "whisper" | "barge" | "off"} (supervisors): see the top of this file.
func (a *API) monitorCall(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode string `json:"mode"`
	}
	if !decodeBody(w, r, &in, `{"mode": "listen"}`) {
		return
	}
	switch in.Mode {
	case "listen", "whisper", "barge", "off":
	default:
		writeError(w, http.StatusBadRequest, `mode must be "listen", "whisper", "barge" or "off"`)
		return
	}
	p := a.principal(r)
	callID := r.PathValue("id")
	switch err := a.opt.Monitor.Monitor(r.Context(), callID, p.Username, in.Mode); {
	case err == nil:
	case errors.Is(err, ErrCallNotLive):
		writeError(w, http.StatusNotFound, "no live call with this id (it may have ended)")
		return
	case errors.Is(err, ErrCallNotBridged):
		writeError(w, http.StatusConflict, "no agent is on this call yet: it waits in a queue, rings or is being transferred")
		return
	case errors.Is(err, ErrNoSoftphone):
		writeError(w, http.StatusConflict, "your softphone is not connected: open it (the agent page) and allow the microphone, then try again")
		return
	case errors.Is(err, ErrMonitorBusy):
		writeError(w, http.StatusConflict, "busy: another supervisor is on this call, or you are on another call")
		return
	default:
		a.opt.Logger.Error("monitor a call", "call_id", callID, "by", p.Username, "mode", in.Mode, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the call could not be joined; try again")
		return
	}
	a.audit(r, p, AuditMonitor, callID, callID, "mode="+in.Mode)
	a.opt.Logger.Info("supervisor monitoring a call", "call_id", callID, "by", p.Username, "mode", in.Mode)
	writeJSON(w, http.StatusOK, map[string]string{"call_id": callID, "mode": in.Mode})
}

// monitorRoutes registers the monitoring route when the options allow it.
func (a *API) monitorRoutes() {
	if a.opt.Monitor != nil {
		a.mux.Handle("POST /api/v1/calls/{id}/monitor", a.require(store.RoleSupervisor, a.monitorCall))
	}
}
