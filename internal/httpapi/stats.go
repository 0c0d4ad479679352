package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/kpi"
	"github.com/hotline/hotline/internal/store"
)

// StatsReader is what GET /api/v1/stats reads; store.Store satisfies it.
type StatsReader interface {
	ListCallsBetween(ctx context.Context, from, to time.Time, queues []string) ([]store.Call, error)
	ListAgentEvents(ctx context.Context, agentID string, from, to time.Time) ([]store.AgentEvent, error)
}

// StatsThresholds are the KPI thresholds of GET /api/v1/stats; zero values
// take the kpi package's defaults (T 20 s, short abandons under 5 s).
type StatsThresholds struct {
	ServiceLevel time.Duration            // T of every queue Queues does not name
	Queues       map[string]time.Duration // T per queue
	ShortAbandon time.Duration            // negative: no abandon is short
}

// Bounds of GET /api/v1/stats.
const (
	maxStatsInterval = 93 * 24 * time.Hour
	// statsLookback is how far before from the reads reach: the agents'
	// states at from, and the queue of a call queued before from that an
	// agent handles after it.
	statsLookback = 24 * time.Hour
	// statsLookahead is how far after to agent events are read (never past
	// now), so a call that runs past to keeps its whole handle time.
	statsLookahead = 4 * time.Hour
	maxStatsQueues = 100
	maxStatsParamS = 3600 // sl_threshold and short_abandon, in seconds
)

// statsRoutes registers GET /api/v1/stats when a StatsReader is set.
func (a *API) statsRoutes() {
	if a.opt.Stats == nil {
		return
	}
	a.mux.Handle("GET /api/v1/stats", a.require(store.RoleSupervisor, a.stats))
}

// stats is GET /api/v1/stats?from=&to=&bucket=15m|1h|1d&queue=a,b&tz=&format=json|csv
// &sl_threshold=&short_abandon= (supervisors): the KPIs of kpi.Compute for
// [from, to) split into buckets in the time zone tz (default: the server's).
// from and to are RFC 3339 times or dates (YYYY-MM-DD, in tz; a date to
// includes that day); from defaults to today's midnight, to to now. The interval is at most
// 93 days and 10,000 buckets; no bucket gives one. sl_threshold (seconds)
// sets T for every queue, short_abandon (seconds; 0: none is short) the
// short-abandon threshold. format=csv answers kpi.WriteCSV as a download.
func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	now := a.opt.Now()
	cfg, csvOut, err := a.statsQuery(r, now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := ReadReport(r.Context(), a.opt.Stats, cfg, now)
	switch {
	case errors.Is(err, kpi.ErrConfig):
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "kpi: bad config: "))
		return
	case err != nil:
		a.statsUnavailable(w, "stats", err)
		return
	}
	if !csvOut {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	const stamp = "20060102T1504"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="hotline-stats-%s-%s.csv"`,
		rep.From.Format(stamp), rep.To.Format(stamp)))
	if err := kpi.WriteCSV(w, rep); err != nil {
		a.opt.Logger.Warn("stats: write csv", "err", err)
	}
}

// ReadReport reads what cfg's interval needs from st (calls and agent
// events a lookback before From, events a lookahead after To but never
// after now) and computes its report as of now. Errors are the store's, or
// wrap kpi.ErrConfig. The wallboard's figures of today use it too.
func ReadReport(ctx context.Context, st StatsReader, cfg kpi.Config, now time.Time) (kpi.Report, error) {
	evTo := cfg.To.Add(statsLookahead)
	if evTo.After(now) {
		evTo = now
	}
	if evTo.Before(cfg.To) {
		evTo = cfg.To
	}
	cfg.AsOf, cfg.EventsTo = now, evTo
	calls, err := st.ListCallsBetween(ctx, cfg.From.Add(-statsLookback), cfg.To, cfg.Queues)
	if err != nil {
		return kpi.Report{}, fmt.Errorf("calls: %w", err)
	}
	events, err := st.ListAgentEvents(ctx, "", cfg.From.Add(-statsLookback), evTo)
	if err != nil {
		return kpi.Report{}, fmt.Errorf("agent events: %w", err)
	}
	return kpi.Compute(cfg, kpiCalls(calls), kpiEvents(events))
}

func (a *API) statsUnavailable(w http.ResponseWriter, what string, err error) {
	a.opt.Logger.Error(what, "err", err)
	writeError(w, http.StatusServiceUnavailable, "the call store is not reachable; try again")
}

// statsQuery reads the query of GET /api/v1/stats into a kpi.Config.
func (a *API) statsQuery(r *http.Request, now time.Time) (kpi.Config, bool, error) {
	q := r.URL.Query()
	th := a.opt.StatsThresholds
	cfg := kpi.Config{Threshold: th.ServiceLevel, QueueThresholds: th.Queues, ShortAbandon: th.ShortAbandon}
	loc := time.Local
	if tz := q.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return cfg, false, fmt.Errorf("tz %q is not a time zone name (like Europe/Berlin or UTC)", tz)
		}
		loc = l
	}
	cfg.Location = loc
	l := now.In(loc)
	cfg.From = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	cfg.To = now
	var err error
	if s := q.Get("from"); s != "" {
		if cfg.From, _, err = parseStatsTime(s, loc); err != nil {
			return cfg, false, fmt.Errorf("from: %w", err)
		}
	}
	if s := q.Get("to"); s != "" {
		var date bool
		if cfg.To, date, err = parseStatsTime(s, loc); err != nil {
			return cfg, false, fmt.Errorf("to: %w", err)
		}
		if date { // a date includes that day
			t := cfg.To
			cfg.To = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		}
	}
	switch {
	case !cfg.To.After(cfg.From):
		return cfg, false, errors.New("to must be after from")
	case cfg.To.Sub(cfg.From) > maxStatsInterval:
		return cfg, false, fmt.Errorf("the interval is longer than %d days", int(maxStatsInterval/(24*time.Hour)))
	}
	if cfg.Bucket, err = kpi.ParseBucketSize(q.Get("bucket")); err != nil {
		return cfg, false, fmt.Errorf("bucket %q: want 15m, 1h or 1d (or none: the whole interval)", q.Get("bucket"))
	}
	for _, name := range strings.Split(q.Get("queue"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			cfg.Queues = append(cfg.Queues, name)
		}
	}
	if len(cfg.Queues) > maxStatsQueues {
		return cfg, false, fmt.Errorf("at most %d queues", maxStatsQueues)
	}
	if s := q.Get("sl_threshold"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxStatsParamS {
			return cfg, false, fmt.Errorf("sl_threshold must be whole seconds from 1 to %d", maxStatsParamS)
		}
		cfg.Threshold, cfg.QueueThresholds = time.Duration(n)*time.Second, nil
	}
	if s := q.Get("short_abandon"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxStatsParamS {
			return cfg, false, fmt.Errorf("short_abandon must be whole seconds from 0 to %d", maxStatsParamS)
		}
		cfg.ShortAbandon = time.Duration(n) * time.Second
		if n == 0 {
			cfg.ShortAbandon = -1
		}
	}
	csvOut := false
	switch q.Get("format") {
	case "", "json":
	case "csv":
		csvOut = true
	default:
		return cfg, false, fmt.Errorf("format %q: want json or csv", q.Get("format"))
	}
	return cfg, csvOut, nil
}

// parseStatsTime reads an RFC 3339 time or a date (midnight in loc; date
// reports which).
func parseStatsTime(s string, loc *time.Location) (t time.Time, date bool, err error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is neither an RFC 3339 time nor a date (YYYY-MM-DD)", s)
	}
	return t, false, nil
}

func kpiCalls(calls []store.Call) []kpi.Call {
	at := func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
	out := make([]kpi.Call, 0, len(calls))
	for _, c := range calls {
		out = append(out, kpi.Call{
			ID: c.ID, Queue: c.Queue, Agent: c.Agent, Outcome: c.Outcome, ArrivedAt: c.ArrivedAt,
			QueuedAt: at(c.QueuedAt), ConnectedAt: at(c.ConnectedAt), EndedAt: at(c.EndedAt),
		})
	}
	return out
}

func kpiEvents(events []store.AgentEvent) []kpi.AgentEvent {
	out := make([]kpi.AgentEvent, 0, len(events))
	for _, e := range events {
		out = append(out, kpi.AgentEvent{Agent: e.AgentID, At: e.At, State: e.State, CallID: e.CallID})
	}
	return out
}
