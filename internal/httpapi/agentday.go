package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/hotline/hotline/internal/kpi"
)

// AgentOverviewJSON is GET /api/v1/agent/overview: the signed-in user's
// queues as they are now, and their day so far.
type AgentOverviewJSON struct {
	Queues []AgentQueueJSON `json:"queues"` // the queues the user is a member of, in configuration order
	Day    *AgentDayJSON    `json:"day"`    // null when the KPI store is not configured or not reachable
}

// AgentQueueJSON is one of an agent's queues now.
type AgentQueueJSON struct {
	Name          string `json:"name"`
	Waiting       int    `json:"waiting"`
	LongestWaitMS int64  `json:"longest_wait_ms"`
	Ready         int    `json:"ready"` // members ready now
}

// AgentDayJSON is an agent's figures since midnight (the server's time
// zone), computed by internal/kpi as the supervisors' reports are.
type AgentDayJSON struct {
	Handled int      `json:"handled"`
	AHTS    *float64 `json:"aht_s"`   // average handle time; null before the first call
	ReadyS  float64  `json:"ready_s"` // time ready or ringing (occupancy's available time)
}

// agentOverview is GET /api/v1/agent/overview (agents and up): the queue
// awareness strip and "my day" of the agent page.
func (a *API) agentOverview(w http.ResponseWriter, r *http.Request) {
	me := a.principal(r).Username
	snap, err := a.opt.Queues.Snapshot(r.Context())
	if err != nil {
		a.opt.Logger.Error("agent overview: queue snapshot", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the ACD is not running")
		return
	}
	view := queuesJSON(snap)
	var mine []string
	for _, ag := range view.Agents {
		if ag.Agent == me {
			mine = ag.Queues
		}
	}
	out := AgentOverviewJSON{Queues: []AgentQueueJSON{}}
	for _, q := range view.Queues {
		if slices.Contains(mine, q.Name) {
			out.Queues = append(out.Queues, AgentQueueJSON{Name: q.Name, Waiting: q.Waiting, LongestWaitMS: q.LongestWaitMS, Ready: q.Ready})
		}
	}
	if a.opt.Stats != nil {
		now := a.opt.Now()
		l := now.In(time.Local)
		cfg := kpi.Config{From: time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.Local), To: now, Location: time.Local}
		rep, err := ReadReport(r.Context(), a.opt.Stats, cfg, now)
		if err != nil {
			a.opt.Logger.Warn("agent overview: today's figures", "agent", me, "err", err)
		} else {
			out.Day = agentDay(rep.Total.Agents, me)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// agentDay is agent's figures of a report; zero figures when the report
// has none for them yet.
func agentDay(agents []kpi.AgentStats, agent string) *AgentDayJSON {
	day := &AgentDayJSON{}
	for _, s := range agents {
		if s.Agent != agent {
			continue
		}
		if s.Handled.Value != nil {
			day.Handled = int(*s.Handled.Value)
		}
		day.AHTS = s.AHT.Value
		if o := s.Occupancy; o.Denominator != nil {
			day.ReadyS = *o.Denominator
			if o.Numerator != nil {
				day.ReadyS -= *o.Numerator
			}
		}
	}
	return day
}
