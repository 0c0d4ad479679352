package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/kpi"
	"github.com/hotline/hotline/internal/store"
)

// statsEnv is the API over a real SQLite store holding two Berlin days of
// calls; sam supervises, anna is an agent. The clock is authEnv's,
// 2026-11-24 09:00 UTC.
type statsEnv struct {
	*authEnv
	sam, anna *client
	calls     []store.Call
	events    []store.AgentEvent
}

// statsMidnight is midnight 24 November in Berlin, 23:00 UTC the 23rd.
var statsMidnight = time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)

func newStatsEnv(t *testing.T) *statsEnv {
	t.Helper()
	e := &statsEnv{}
	e.authEnv = newAuthEnvWith(t, func(o *Options) {
		st, ok := o.Calls.(StatsReader)
		require.True(t, ok, "the store reads stats")
		o.Stats = st
		o.StatsThresholds = StatsThresholds{Queues: map[string]time.Duration{"billing": 45 * time.Second}}
		o.Now = func() time.Time { return e.clock.Now() }
	})
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	e.addUser("anna", store.RoleAgent, "correct horse")
	e.sam, e.anna = e.browser(), e.browser()
	require.Equal(t, http.StatusOK, e.sam.login("sam", "correct horse").code)
	require.Equal(t, http.StatusOK, e.anna.login("anna", "correct horse").code)

	// tech: answered at 5 s and 15 s, abandoned at 3 s and 30 s and one
	// overflow before midnight (the 23rd in Berlin); answered at 25 s and
	// billing answered at 40 s after it (the 24th).
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	call := func(id, queue string, at, wait time.Duration, outcome, agent string) store.Call {
		c := store.Call{ID: id, ArrivedAt: statsMidnight.Add(at - sec(20)), Queue: queue, Outcome: outcome, Agent: agent,
			UpdatedAt: statsMidnight.Add(at + time.Hour)}
		q, left := statsMidnight.Add(at), statsMidnight.Add(at+wait)
		end := left.Add(sec(100))
		c.QueuedAt, c.EndedAt = &q, &end
		if outcome == "answered" {
			c.ConnectedAt = &left
		} else {
			c.EndedAt = &left
		}
		return c
	}
	e.calls = []store.Call{
		call("q1", "tech", -50*time.Minute, sec(5), "answered", "anna"),
		call("q2", "tech", -40*time.Minute, sec(15), "answered", "boris"),
		call("q3", "tech", -30*time.Minute, sec(3), "abandoned", ""),
		call("q4", "tech", -20*time.Minute, sec(30), "abandoned", ""),
		call("q5", "tech", -10*time.Minute, sec(60), "overflow", ""),
		call("q6", "tech", 10*time.Minute, sec(25), "answered", "anna"),
		call("q7", "billing", 20*time.Minute, sec(40), "answered", "boris"),
	}
	ev := func(id, agent string, at time.Duration, state, callID string) store.AgentEvent {
		return store.AgentEvent{ID: id, AgentID: agent, At: statsMidnight.Add(at), State: state, CallID: callID}
	}
	e.events = []store.AgentEvent{
		ev("1", "anna", -25*time.Hour, "ready", ""), // before from: her state at from
		ev("2", "anna", -50*time.Minute+sec(5), "on_call", "q1"),
		ev("3", "anna", -50*time.Minute+sec(125), "wrap_up", "q1"),
		ev("4", "anna", -50*time.Minute+sec(145), "ready", ""),
		ev("5", "anna", 10*time.Minute+sec(25), "on_call", "q6"),
		ev("6", "anna", 10*time.Minute+sec(325), "on_hold", "q6"),
		ev("7", "anna", 10*time.Minute+sec(345), "on_call", "q6"),
		ev("8", "anna", 10*time.Minute+sec(405), "wrap_up", "q6"),
		ev("9", "anna", 10*time.Minute+sec(435), "signed_out", ""),
		ev("a", "boris", -45*time.Minute, "ready", ""),
		ev("b", "boris", -40*time.Minute+sec(15), "on_call", "q2"),
		ev("c", "boris", -40*time.Minute+sec(215), "wrap_up", "q2"),
		ev("d", "boris", -40*time.Minute+sec(245), "not_ready", ""),
		ev("e", "boris", 20*time.Minute, "ready", ""),
		ev("f", "boris", 20*time.Minute+sec(40), "on_call", "q7"),
		ev("g", "boris", 20*time.Minute+sec(140), "wrap_up", "q7"),
		ev("h", "boris", 20*time.Minute+sec(150), "signed_out", ""),
	}
	for _, c := range e.calls {
		require.NoError(t, e.st.SaveCall(t.Context(), c))
	}
	require.NoError(t, e.st.AppendAgentEvents(t.Context(), e.events))
	return e
}

// get fetches path as c and returns the status, the headers and the body.
func (c *client) get(path string) (int, http.Header, []byte) {
	t := c.e.t
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", c.e.srv.URL+path, nil)
	require.NoError(t, err)
	res, err := c.http.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, body
}

func TestStatsJSONEqualsEngine(t *testing.T) {
	e := newStatsEnv(t)
	code, hdr, body := e.sam.get("/api/v1/stats?from=2026-11-23&to=2026-11-24&bucket=1d&tz=Europe/Berlin")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Contains(t, hdr.Get("Content-Type"), "application/json")

	// The engine over the same data, as the handler asks it.
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := e.clock.Now()
	want, err := kpi.Compute(kpi.Config{
		From: time.Date(2026, 11, 23, 0, 0, 0, 0, berlin), To: time.Date(2026, 11, 25, 0, 0, 0, 0, berlin),
		Bucket: kpi.Day, Location: berlin, QueueThresholds: map[string]time.Duration{"billing": 45 * time.Second},
		AsOf: now, EventsTo: now,
	}, kpiCalls(e.calls), kpiEvents(e.events))
	require.NoError(t, err)
	raw, err := json.Marshal(want)
	require.NoError(t, err)
	require.JSONEq(t, string(raw), string(body))

	var got kpi.Report
	require.NoError(t, json.Unmarshal(body, &got))
	require.Len(t, got.Buckets, 2)
	require.Equal(t, statsMidnight, got.Buckets[1].Start.UTC(), "the second day begins at midnight Berlin")
	// By hand: tech answered 5, 15 (day 1), 25 (day 2); abandoned 3 (short)
	// and 30; one overflow; billing answered at 40 s within its 45 s.
	day1 := got.Buckets[0].Queues[1]
	require.Equal(t, "tech", day1.Queue)
	require.Equal(t, 5.0, *day1.Offered.Value)
	sl := day1.SLDefault
	require.Equal(t, "service_level", sl.Name)
	require.Equal(t, "b", sl.Variant)
	require.Equal(t, 20.0, *sl.ThresholdS)
	require.Equal(t, 5.0, *sl.ShortAbandonS)
	require.Equal(t, [3]float64{2, 3, 2.0 / 3}, [3]float64{*sl.Numerator, *sl.Denominator, *sl.Value})
	all := got.Total.AllQueues
	require.Equal(t, 85.0/4, *all.ASA.Value)
	require.Equal(t, 3.0/5, *all.SLDefault.Value)
	require.True(t, all.SLDefault.ThresholdPerQueue)
	require.Equal(t, 3.0/4, *all.SLAnswered.Value)
	require.Equal(t, 4.0/6, *all.SLWithAbandons.Value)
	require.Equal(t, 4.0/7, *all.SLLeftQueue.Value)
	require.Equal(t, 2.0/7, *all.AbandonRate.Value)
	require.Equal(t, 1.0/6, *all.AbandonRateLong.Value)
	anna := got.Total.Agents[0]
	require.Equal(t, "anna", anna.Agent)
	require.Equal(t, 2.0, *anna.Handled.Value)
	// q1: talk 120, wrap 20; q6: talk 300 + 60, hold 20, wrap 30.
	require.Equal(t, (140.0+410)/2, *anna.AHT.Value)
	require.Equal(t, 20.0/2, *anna.AvgHold.Value)
	// Her states from from (ready since before it) until she signs out.
	signedIn := statsMidnight.Add(10*time.Minute + 435*time.Second).Sub(statsMidnight.Add(-24 * time.Hour)).Seconds()
	require.Equal(t, signedIn, *anna.Utilization.Denominator)
	require.Equal(t, 550.0, *anna.Utilization.Numerator)
}

func TestStatsCSV(t *testing.T) {
	e := newStatsEnv(t)
	code, hdr, body := e.sam.get("/api/v1/stats?from=2026-11-23&to=2026-11-24&bucket=1d&tz=Europe/Berlin&format=csv&queue=tech")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Equal(t, "text/csv; charset=utf-8", hdr.Get("Content-Type"))
	require.Equal(t, `attachment; filename="hotline-stats-20261123T0000-20261125T0000.csv"`, hdr.Get("Content-Disposition"))
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	require.NoError(t, err)
	header := rows[0]
	require.Contains(t, header, "sl_default [service_level b; T=per queue (sl_threshold_s); short<5s; ratio]")
	require.Contains(t, header, "asa [asa from_enqueue; seconds]")
	// Two days and the interval: tech, all queues, anna, boris, all agents.
	require.Len(t, rows, 1+3*5)
	col := func(prefix string) int {
		for i, h := range header {
			if strings.HasPrefix(h, prefix+" [") {
				return i
			}
		}
		t.Fatalf("no column %s", prefix)
		return 0
	}
	var tech []string
	for _, r := range rows[1:] {
		if r[0] == "interval" && r[3] == "queue" {
			tech = r
		}
	}
	require.Equal(t, []string{"interval", "2026-11-23T00:00:00+01:00", "2026-11-25T00:00:00+01:00", "queue", "tech", "20", "5"}, tech[:7])
	require.Equal(t, "6", tech[col("offered")])
	require.Equal(t, "0.5", tech[col("sl_default")], "answered 5, 15 of 5, 15, 25 and the 30 s abandon")
	require.Equal(t, "15", tech[col("asa")])
}

func TestStatsDefaultsAndFilter(t *testing.T) {
	e := newStatsEnv(t)
	// Today so far in Berlin: 24 November from midnight to 10:00.
	code, _, body := e.sam.get("/api/v1/stats?tz=Europe/Berlin&queue=billing,%20sales&sl_threshold=30&short_abandon=0")
	require.Equal(t, http.StatusOK, code, "%s", body)
	var got kpi.Report
	require.NoError(t, json.Unmarshal(body, &got))
	require.True(t, statsMidnight.Equal(got.From), "from %s", got.From)
	require.True(t, e.clock.Now().Equal(got.To), "to %s", got.To)
	require.Equal(t, "whole", got.Bucket)
	require.Len(t, got.Buckets, 1)
	require.Equal(t, []string{"billing", "sales"}, []string{got.Total.Queues[0].Queue, got.Total.Queues[1].Queue})
	billing := got.Total.Queues[0]
	require.Equal(t, 1.0, *billing.Offered.Value)
	require.Equal(t, 30.0, *billing.SLAnswered.ThresholdS, "sl_threshold sets T for every queue")
	require.Equal(t, 0.0, *billing.SLAnswered.Value, "40 s is not within 30 s")
	require.Equal(t, 0.0, *billing.AbandonedShort.ShortAbandonS)
}

func TestStatsRefusals(t *testing.T) {
	e := newStatsEnv(t)
	code, _, _ := e.anna.get("/api/v1/stats")
	require.Equal(t, http.StatusForbidden, code, "agents may not read the reports")
	code, _, _ = e.browser().get("/api/v1/stats")
	require.Equal(t, http.StatusUnauthorized, code)

	for query, msg := range map[string]string{
		"from=yesterday":                     "from:",
		"from=2026-11-24T10:00:00":           "from:", // no zone
		"from=2026-11-24&to=2026-11-23":      "to must be after from",
		"from=2026-01-01&to=2026-11-24":      "longer than 93 days",
		"bucket=2h":                          "bucket",
		"tz=Mars/Olympus":                    "time zone",
		"format=xml":                         "format",
		"sl_threshold=0":                     "sl_threshold",
		"short_abandon=-1":                   "short_abandon",
		"queue=" + strings.Repeat("q,", 101): "at most 100 queues",
		"from=2026-11-24T10:00:00Z&to=2026-11-24T10:00:00Z": "to must be after from",
	} {
		code, _, body := e.sam.get("/api/v1/stats?" + query)
		require.Equal(t, http.StatusBadRequest, code, query)
		var out map[string]string
		require.NoError(t, json.Unmarshal(body, &out), query)
		require.Contains(t, out["error"], msg, query)
	}
}

func TestStatsRouteOnlyWithReader(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	sam := e.browser()
	require.Equal(t, http.StatusOK, sam.login("sam", "correct horse").code)
	code, _, _ := sam.get("/api/v1/stats")
	require.Equal(t, http.StatusNotFound, code)
}
