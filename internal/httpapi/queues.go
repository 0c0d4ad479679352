package httpapi

import (
	"context"
	"net/http"

	"github.com/hotline/hotline/acd"
)

// QueueReader is the live view of the ACD (the switchboard's Desk).
type QueueReader interface {
	Snapshot(ctx context.Context) (acd.Snapshot, error)
}

// listQueues is GET /api/v1/queues: every queue's waiting and ringing calls,
// longest wait, staffing, and every agent's state, as of now. Durations are
// in nanoseconds (Go's encoding of time.Duration).
func (a *API) listQueues(w http.ResponseWriter, r *http.Request) {
	snap, err := a.opt.Queues.Snapshot(r.Context())
	if err != nil {
		a.opt.Logger.Error("queue snapshot", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the ACD is not running")
		return
	}
	writeJSON(w, http.StatusOK, snap)
}
