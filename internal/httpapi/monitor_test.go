package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// fakeMonitor is a CallMonitor over a few calls: "live" has an agent,
// "queued" waits, "taken" has another supervisor; tom has no softphone.
type fakeMonitor struct {
	mu    sync.Mutex
	modes map[string]string // supervisor → mode on "live"
}

func (f *fakeMonitor) Monitor(_ context.Context, callID, supervisor, mode string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case callID == "queued":
		return fmt.Errorf("switchboard: %w", ErrCallNotBridged)
	case callID == "taken":
		return fmt.Errorf("switchboard: ann is on it: %w", ErrMonitorBusy)
	case callID == "broken":
		return fmt.Errorf("switchboard: the call did not answer")
	case callID != "live":
		return fmt.Errorf("switchboard: %w", ErrCallNotLive)
	case supervisor == "tom" && mode != "off":
		return fmt.Errorf("switchboard: %w", ErrNoSoftphone)
	}
	f.modes[supervisor] = mode
	return nil
}

// POST /api/v1/calls/{id}/monitor: supervisors only, each mode reaches the
// desk and is audited; the desk's refusals have their status and a message
// a person can act on.
func TestMonitorCall(t *testing.T) {
	mon := &fakeMonitor{modes: map[string]string{}}
	audit := &fakeAudit{}
	e := newAuthEnvWith(t, func(o *Options) { o.Monitor, o.Audit = mon, audit })
	e.addUser("anna", store.RoleAgent, "correct horse")
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	e.addUser("tom", store.RoleSupervisor, "correct horse")
	anna, sam, tom := e.browser(), e.browser(), e.browser()
	require.Equal(t, http.StatusOK, anna.login("anna", "correct horse").code)
	require.Equal(t, http.StatusOK, sam.login("sam", "correct horse").code)
	require.Equal(t, http.StatusOK, tom.login("tom", "correct horse").code)
	post := func(c *client, call string, body any) response {
		t.Helper()
		return c.do("POST", "/api/v1/calls/"+call+"/monitor", body, map[string]string{CSRFHeader: c.csrf})
	}

	r := post(anna, "live", map[string]string{"mode": "listen"})
	require.Equal(t, http.StatusForbidden, r.code, "agents may not monitor")
	require.Empty(t, mon.modes)

	for _, mode := range []string{"listen", "whisper", "barge", "off"} {
		r := post(sam, "live", map[string]string{"mode": mode})
		require.Equal(t, http.StatusOK, r.code, mode)
		require.Equal(t, map[string]any{"call_id": "live", "mode": mode}, r.body)
		require.Equal(t, mode, mon.modes["sam"])
	}
	evs := audit.take()
	require.Len(t, evs, 4)
	for i, mode := range []string{"listen", "whisper", "barge", "off"} {
		require.Equal(t, AuditMonitor, evs[i].Action)
		require.Equal(t, "sam", evs[i].Actor)
		require.Equal(t, "supervisor", evs[i].Role)
		require.Equal(t, "live", evs[i].CallID)
		require.Equal(t, "mode="+mode, evs[i].Detail)
	}

	for _, c := range []struct {
		who  *client
		call string
		body any
		code int
		msg  string
	}{
		{sam, "live", map[string]string{"mode": "spy"}, http.StatusBadRequest, `mode must be "listen", "whisper", "barge" or "off"`},
		{sam, "live", map[string]any{"mode": "listen", "extra": 1}, http.StatusBadRequest, `send JSON {"mode": "listen"} (unknown field "extra")`},
		{sam, "gone", map[string]string{"mode": "listen"}, http.StatusNotFound, "no live call with this id (it may have ended)"},
		{sam, "queued", map[string]string{"mode": "listen"}, http.StatusConflict, "no agent is on this call yet: it waits in a queue, rings or is being transferred"},
		{sam, "taken", map[string]string{"mode": "barge"}, http.StatusConflict, "busy: another supervisor is on this call, or you are on another call"},
		{tom, "live", map[string]string{"mode": "listen"}, http.StatusConflict, "your softphone is not connected: open it (the agent page) and allow the microphone, then try again"},
		{sam, "broken", map[string]string{"mode": "listen"}, http.StatusServiceUnavailable, "the call could not be joined; try again"},
	} {
		r := post(c.who, c.call, c.body)
		require.Equal(t, c.code, r.code, c.call)
		require.Equal(t, c.msg, r.str("error"), c.call)
	}
	require.Empty(t, audit.take(), "refusals change nothing and are not audited")
}
