package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/kpi"
)

// AgentOverviewJSON is GET /api/v1/agent/overview: the signed-in user's
// queues as they are now, and their day so far.
type AgentOverviewJSON struct {
	Queues []AgentQueueJSON `json:"queues"` // the queues the user is a member of, in configuration order
	Day    *AgentDayJSON    `json:"day"`    // null when the KPI store is not configured or not reachable
	// Agents are the colleagues a call can be transferred to: the other
	// signed-in agents whose browser is attached (members of a queue, so
	// supervisors are left out), ready first (colleagueRank), then by id.
	Agents []AgentColleagueJSON `json:"agents"`
}

// AgentColleagueJSON is another agent as the transfer list shows them.
// State is the ACD's (ready, offered, on_call, on_hold, wrap_up,
// not_ready), Reason the not-ready reason ("" otherwise), Since when the
// state began (null when unknown).
type AgentColleagueJSON struct {
	Agent  string     `json:"agent"`
	State  string     `json:"state"`
	Reason string     `json:"reason"`
	Since  *time.Time `json:"since"`
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
	out := AgentOverviewJSON{Queues: []AgentQueueJSON{}, Agents: colleagues(view.Agents, me)}
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

// colleagues is the transfer list of agent me: the other agents who are
// signed in and attached, in colleagueRank order, then by id.
func colleagues(agents []AgentJSON, me string) []AgentColleagueJSON {
	out := []AgentColleagueJSON{}
	for _, a := range agents {
		if a.Agent == me || a.State == string(acd.StateSignedOut) || !a.Connected {
			continue
		}
		out = append(out, AgentColleagueJSON{Agent: a.Agent, State: a.State, Reason: a.Reason, Since: a.Since})
	}
	slices.SortStableFunc(out, func(x, y AgentColleagueJSON) int {
		if d := colleagueRank(x.State) - colleagueRank(y.State); d != 0 {
			return d
		}
		return strings.Compare(x.Agent, y.Agent)
	})
	return out
}

// colleagueRank orders states in the transfer list: who can take a call
// now first, then who will soon (wrap-up), then who is busy, then who is
// away; unknown states last.
func colleagueRank(state string) int {
	switch acd.State(state) {
	case acd.StateReady:
		return 0
	case acd.StateWrapUp:
		return 1
	case acd.StateOffered, acd.StateOnCall, acd.StateOnHold:
		return 2
	case acd.StateNotReady:
		return 3
	}
	return 4
}
