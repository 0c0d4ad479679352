package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/wallboard"
	"github.com/hotline/hotline/internal/web"
	"github.com/hotline/hotline/internal/web/browsertest"
)

// supervisorAPI is the fake's side of the supervisor page: the wallboard
// socket (each one the page opens arrives on conns), the agent controls
// (recorded in actions) and GET /api/v1/stats (recorded in queries).
type supervisorAPI struct {
	conns chan *wallConn

	mu      sync.Mutex
	actions []agentAction
	queries []url.Values
}

// agentAction is one POST the page made to /api/v1/agents/{id}/...
type agentAction struct {
	Agent, Action, Reason, CSRF, ContentType string
}

// testReasons are the fake's configured not-ready reasons.
var testReasons = []string{"break", "lunch"}

func (a *supervisorAPI) actionsDone() []agentAction {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.actions)
}

func (a *supervisorAPI) statsQueries() []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.queries)
}

// lastStats is the newest stats query with the bucket.
func (a *supervisorAPI) lastStats(bucket string) url.Values {
	qs := a.statsQueries()
	for i := len(qs) - 1; i >= 0; i-- {
		if qs[i].Get("bucket") == bucket {
			return qs[i]
		}
	}
	return nil
}

func (b *backend) supervisorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/supervisor/ws", b.supervisorWS)
	mux.HandleFunc("POST /api/v1/agents/{id}/not-ready", b.agentControl("not-ready"))
	mux.HandleFunc("POST /api/v1/agents/{id}/sign-out", b.agentControl("sign-out"))
	mux.HandleFunc("GET /api/v1/stats", b.stats)
}

func (b *backend) supervisor() bool {
	r := b.currentRole()
	return r == "supervisor" || r == "admin"
}

// supervisorWS answers like the real socket: 401 without a session, 403
// for an agent; the browser sends nothing, so the fake only writes.
func (b *backend) supervisorWS(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
		return
	}
	if !b.supervisor() {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the wallboard is for supervisors"})
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	b.wg.Add(1)
	defer b.wg.Done()
	defer c.CloseNow()
	ctx := c.CloseRead(b.ctx)
	select {
	case b.sup.conns <- &wallConn{c: c, ctx: ctx}:
	case <-ctx.Done():
		return
	}
	<-ctx.Done()
}

func (b *backend) agentControl(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !b.authed(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
			return
		}
		var in struct {
			Reason string `json:"reason"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		a := &b.sup
		a.mu.Lock()
		a.actions = append(a.actions, agentAction{Agent: r.PathValue("id"), Action: action, Reason: in.Reason,
			CSRF: r.Header.Get("X-CSRF-Token"), ContentType: r.Header.Get("Content-Type")})
		a.mu.Unlock()
		switch {
		case r.Header.Get("X-CSRF-Token") != testCSRF:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "csrf"})
		case !b.supervisor():
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "supervisors only"})
		case r.PathValue("id") == "ghost":
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no agent ghost in the queues"})
		case action == "not-ready" && in.Reason != "" && !slices.Contains(testReasons, in.Reason):
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(
				"not a configured not-ready reason: %q (the reasons are %s)", in.Reason, strings.Join(testReasons, ", "))})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"agent": r.PathValue("id"), "action": "agent." + action})
		}
	}
}

// stats answers today's report for bucket=15m and the history report for
// any other bucket; format=csv answers a small CSV.
func (b *backend) stats(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first"})
		return
	}
	if !b.supervisor() {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "supervisors only"})
		return
	}
	q := r.URL.Query()
	b.sup.mu.Lock()
	b.sup.queries = append(b.sup.queries, q)
	b.sup.mu.Unlock()
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="hotline-stats.csv"`)
		_, _ = io.WriteString(w, "scope,bucket_start,kind,name,offered [offered entered_queue; calls]\nbucket,"+q.Get("from")+",queue,support,4\n")
		return
	}
	if q.Get("bucket") == "15m" {
		writeJSON(w, http.StatusOK, todayReport())
		return
	}
	writeJSON(w, http.StatusOK, historyReport())
}

// wallConn is the server end of one page's wallboard socket.
type wallConn struct {
	c   *websocket.Conn
	ctx context.Context
}

func (b *backend) nextWall(t *testing.T) *wallConn {
	t.Helper()
	select {
	case c := <-b.sup.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the page did not open the wallboard socket within 10 s")
		return nil
	}
}

func (c *wallConn) send(t *testing.T, m wallboard.Message) {
	t.Helper()
	data, err := json.Marshal(m)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, c.c.Write(ctx, websocket.MessageText, data))
}

// ---- fake KPI reports (the JSON of GET /api/v1/stats) -----------------------

type fakeFigure struct {
	Key           string   `json:"key"`
	Name          string   `json:"name"`
	Variant       string   `json:"variant"`
	Unit          string   `json:"unit"`
	ThresholdS    *float64 `json:"threshold_s,omitempty"`
	ShortAbandonS *float64 `json:"short_abandon_s,omitempty"`
	Value         *float64 `json:"value"`
	Numerator     *float64 `json:"numerator,omitempty"`
	Denominator   *float64 `json:"denominator,omitempty"`
}

// fakeQueueStats is a queue's figures, a subset of kpi.QueueStats in its
// order (the page shows whatever figures the API sends).
type fakeQueueStats struct {
	Queue       string     `json:"queue"`
	Offered     fakeFigure `json:"offered"`
	Answered    fakeFigure `json:"answered"`
	Abandoned   fakeFigure `json:"abandoned"`
	ASA         fakeFigure `json:"asa"`
	SLDefault   fakeFigure `json:"sl_default"`
	AbandonRate fakeFigure `json:"abandon_rate"`
}

type fakeBucket struct {
	Start     time.Time        `json:"start"`
	End       time.Time        `json:"end"`
	Queues    []fakeQueueStats `json:"queues"`
	AllQueues fakeQueueStats   `json:"all_queues"`
}

type fakeReport struct {
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	TimeZone   string         `json:"tz"`
	Bucket     string         `json:"bucket"`
	AsOf       time.Time      `json:"as_of"`
	Thresholds map[string]any `json:"thresholds"`
	Buckets    []fakeBucket   `json:"buckets"`
	Total      fakeBucket     `json:"total"`
}

func fp(v float64) *float64 { return &v }

// qstats is a queue's figures from its counts and total wait of the
// answered calls (s); answeredInT of them within T (20 s).
func qstats(queue string, offered, answered, abandoned, answeredInT int, waitS float64) fakeQueueStats {
	count := func(key, name, variant string, n int) fakeFigure {
		return fakeFigure{Key: key, Name: name, Variant: variant, Unit: "calls", Value: fp(float64(n))}
	}
	div := func(f fakeFigure, num, den float64) fakeFigure {
		f.Numerator, f.Denominator = fp(num), fp(den)
		if den > 0 {
			f.Value = fp(num / den)
		}
		return f
	}
	return fakeQueueStats{
		Queue:     queue,
		Offered:   count("offered", "offered", "entered_queue", offered),
		Answered:  count("answered", "answered", "connected", answered),
		Abandoned: count("abandoned", "abandoned", "incl_short", abandoned),
		ASA:       div(fakeFigure{Key: "asa", Name: "asa", Variant: "from_enqueue", Unit: "seconds"}, waitS, float64(answered)),
		SLDefault: div(fakeFigure{Key: "sl_default", Name: "service_level", Variant: "b", Unit: "ratio", ThresholdS: fp(20), ShortAbandonS: fp(5)},
			float64(answeredInT), float64(answered+abandoned)),
		AbandonRate: div(fakeFigure{Key: "abandon_rate", Name: "abandon_rate", Variant: "incl_short", Unit: "ratio"},
			float64(abandoned), float64(offered)),
	}
}

var testThresholds = map[string]any{"service_level_s": 20, "short_abandon_s": 5}

// todayStart is today's midnight in the browser's (and this process's)
// zone; the page asks for today in it.
func todayStart() time.Time {
	n := time.Now()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.Local)
}

// todayReport: three quarter hours of all queues.
func todayReport() fakeReport {
	at := todayStart()
	b := func(i, offered, answered, inT int) fakeBucket {
		s := qstats("support", offered, answered, 0, inT, float64(answered)*10)
		all := s
		all.Queue = ""
		return fakeBucket{Start: at.Add(time.Duration(i) * 15 * time.Minute), End: at.Add(time.Duration(i+1) * 15 * time.Minute),
			Queues: []fakeQueueStats{s}, AllQueues: all}
	}
	buckets := []fakeBucket{b(0, 2, 2, 2), b(1, 5, 4, 3), b(2, 0, 0, 0)}
	total := b(0, 7, 6, 5)
	total.End = buckets[2].End
	return fakeReport{From: at, To: buckets[2].End, TimeZone: "Local", Bucket: "15m", AsOf: time.Now(), Thresholds: testThresholds,
		Buckets: buckets, Total: total}
}

// historyReport: two hours of support and billing.
func historyReport() fakeReport {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	b := func(i int, sup, bil fakeQueueStats) fakeBucket {
		all := qstats("", 0, 0, 0, 0, 0)
		all.Offered.Value = fp(*sup.Offered.Value + *bil.Offered.Value)
		return fakeBucket{Start: at.Add(time.Duration(i) * time.Hour), End: at.Add(time.Duration(i+1) * time.Hour),
			Queues: []fakeQueueStats{sup, bil}, AllQueues: all}
	}
	buckets := []fakeBucket{
		b(0, qstats("support", 4, 3, 1, 3, 28.5), qstats("billing", 2, 2, 0, 1, 50)),
		b(1, qstats("support", 0, 0, 0, 0, 0), qstats("billing", 1, 0, 1, 0, 0)),
	}
	total := b(0, qstats("support", 4, 3, 1, 3, 28.5), qstats("billing", 3, 2, 1, 1, 50))
	total.End = buckets[1].End
	return fakeReport{From: at, To: buckets[1].End, TimeZone: "UTC", Bucket: "1h", AsOf: at.Add(26 * time.Hour),
		Thresholds: testThresholds, Buckets: buckets, Total: total}
}

// ---- the wallboard messages -------------------------------------------------

// board is a wallboard message at now: support with waiting callers and
// its longest wait, billing (T 30 s) with one caller waiting 25 s; alice
// ready for 65 s, bob 30 s into a call, carol not ready (lunch) and away.
func board(waiting int, longest time.Duration) wallboard.Message {
	now := time.Now().UnixMilli()
	sl, ar := 15.0/18, 0.1
	return wallboard.Message{V: 1, Type: "wallboard", At: now, Today: &wallboard.TodayStatus{At: now - 2000},
		Queues: []wallboard.QueueView{
			{Name: "support", Waiting: waiting, Ringing: 1, Talking: 1, LongestWaitMS: longest.Milliseconds(), Staffed: 2, SignedIn: 3,
				Agents: map[string]int{"ready": 1, "on_call": 1, "not_ready": 1},
				Today: wallboard.QueueFigures{Offered: 20, Answered: 18, Abandoned: 2, ServiceLevel: &sl, ThresholdS: 20,
					ASAMS: 12_400, AbandonRate: &ar}},
			{Name: "billing", Waiting: 1, LongestWaitMS: 25_000, Staffed: 1, SignedIn: 1, Agents: map[string]int{"on_call": 1},
				Today: wallboard.QueueFigures{ThresholdS: 30}},
		},
		Agents: []wallboard.AgentView{
			{ID: "alice", State: "ready", Since: now - 65_000, Connected: true, Queues: []string{"support"}, HandledToday: 3},
			{ID: "bob", State: "on_call", Since: now - 30_000, Connected: true, Queues: []string{"support", "billing"},
				Call: &wallboard.CallView{ID: "call-7", From: "+15551230000", Queue: "support", Since: now - 30_000}, HandledToday: 5},
			{ID: "carol", State: "not_ready", Reason: "lunch", Since: now - 600_000, Queues: []string{"support"}},
		}}
}

// requireDrawnWithin checks that the page drew the wallboard message sent
// at sent within d, by the page's own clock (the machine's, as the test's):
// the test's polling is not counted.
func requireDrawnWithin(t *testing.T, p *browsertest.Page, sent time.Time, d time.Duration, what string) {
	t.Helper()
	drawn := time.UnixMilli(browsertest.Eval[int64](p, `hotlineSupervisor.drawnAt()`))
	require.Less(t, drawn.Sub(sent), d, "%s showed within %v of the message", what, d)
}

// clockSeconds reads a m:ss or h:mm:ss timer.
func clockSeconds(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, part := range strings.Split(s, ":") {
		v, err := strconv.Atoi(part)
		require.NoError(t, err, "timer %q", s)
		n = n*60 + v
	}
	return n
}

// requireTimer checks the timer shows from seconds plus at most the time
// since the message was sent.
func requireTimer(t *testing.T, p *browsertest.Page, sel string, from int, sent time.Time) {
	t.Helper()
	got := clockSeconds(t, p.Text(sel))
	require.GreaterOrEqual(t, got, from, sel)
	require.LessOrEqual(t, got, from+int(time.Since(sent).Seconds())+1, sel)
}

// waitTick waits for the timer to move on: it counts up at least once a
// second between messages (2 s leaves room for a loaded machine's polling).
func waitTick(t *testing.T, p *browsertest.Page, sel string) {
	t.Helper()
	before := p.Text(sel)
	start := time.Now()
	p.WaitTrue(fmt.Sprintf(`document.querySelector(%q).innerText !== %q`, sel, before))
	require.Less(t, time.Since(start), 2*time.Second, "%s moves on between messages", sel)
	require.Greater(t, clockSeconds(t, p.Text(sel)), clockSeconds(t, before), sel)
}

func noPageErrors(t *testing.T, p *browsertest.Page) {
	t.Helper()
	for _, line := range p.Console() {
		require.False(t, strings.HasPrefix(line, "uncaught") || strings.HasPrefix(line, "console.error"), "page error: %s", line)
	}
}

func TestSupervisorPage(t *testing.T) {
	br := browsertest.Start(t, browsertest.Options{})

	t.Run("wallboard, agents, controls, curves, history, russian", func(t *testing.T) {
		b := newBackend(t)
		b.role.Store("supervisor")
		p := br.NewPage(t)
		signInAt(t, p, b, "/supervisor/", "#sup-content")
		require.Equal(t, testName, p.Text("#user-name"))
		require.False(t, p.Visible("#sup-forbidden"))
		wc := b.nextWall(t)
		p.WaitText("#conn", "Connected")

		// A waiting caller shows within a second of the message.
		sent := time.Now()
		wc.send(t, board(1, 5*time.Second))
		p.WaitText("#tile-support .tile-waiting", "1")
		requireDrawnWithin(t, p, sent, time.Second, "the waiting caller")
		require.Equal(t, []string{"support", "billing"},
			browsertest.Eval[[]string](p, `[...document.querySelectorAll('#tiles .tile')].map((e) => e.dataset.queue)`), "in the message's order")

		// The figures are the message's, each naming its variant.
		require.Equal(t, "83.3%", p.Text("#tile-support .tile-sl"))
		require.Equal(t, "12 s", p.Text("#tile-support .tile-asa"))
		require.Equal(t, "10%", p.Text("#tile-support .tile-abandon"))
		require.Equal(t, "Offered 20 · answered 18 · abandoned 2", p.Text("#tile-support .tile-counts"))
		require.Equal(t, "Ringing 1 · talking 1 · staffed 2 of 3 signed in", p.Text("#tile-support .tile-live"))
		require.Equal(t, "Service level, variant b: answered within 20 s ÷ (answered + abandoned after 5 s)",
			browsertest.Eval[string](p, `document.querySelector('#tile-support .tile-sl-box').title`))
		require.Contains(t, browsertest.Eval[string](p, `document.querySelector('#tile-billing .tile-sl-box').title`), "within 30 s")
		require.Equal(t, "Abandon rate: calls abandoned after 5 s ÷ calls offered",
			browsertest.Eval[string](p, `document.querySelector('#tile-support .tile-abandon-box').title`))
		require.Equal(t, "—", p.Text("#tile-billing .tile-sl"), "no service level without calls")
		require.Equal(t, "—", p.Text("#tile-billing .tile-asa"))
		require.Equal(t, map[string]string{"ready": "1", "on_call": "1", "not_ready": "1"}, browsertest.Eval[map[string]string](p,
			`Object.fromEntries([...document.querySelectorAll('#tile-support .tile-states li')].map((e) => [e.dataset.state, e.dataset.count]))`))
		require.Equal(t, "Ready 1", p.Text(`#tile-support .tile-states [data-state="ready"]`))

		// The longest wait counts up between messages; its colour follows
		// the queue's threshold T: amber over T, red over 3T.
		require.Equal(t, "ok", browsertest.Eval[string](p, `document.querySelector('#tile-support .tile-longest-box').dataset.level`))
		requireTimer(t, p, "#tile-support .tile-longest", 5, sent)
		waitTick(t, p, "#tile-support .tile-longest")
		require.Equal(t, "ok", browsertest.Eval[string](p, `document.querySelector('#tile-billing .tile-longest-box').dataset.level`),
			"billing's 25 s is under its T of 30 s")
		sent = time.Now()
		wc.send(t, board(2, 25*time.Second))
		p.WaitText("#tile-support .tile-waiting", "2")
		require.Equal(t, "warn", browsertest.Eval[string](p, `document.querySelector('#tile-support .tile-longest-box').dataset.level`))
		requireTimer(t, p, "#tile-support .tile-longest", 25, sent)
		wc.send(t, board(2, 61*time.Second))
		p.WaitTrue(`document.querySelector('#tile-support .tile-longest-box').dataset.level === 'bad'`)
		require.Equal(t, "bad", browsertest.Eval[string](p, `document.getElementById('tile-support').dataset.level`))
		require.Equal(t, "rgb(192, 57, 43)", browsertest.Eval[string](p,
			`getComputedStyle(document.querySelector('#tile-support .tile-longest-box')).backgroundColor`), "red")

		// The caller answered: cleared within a second of the next message.
		sent = time.Now()
		wc.send(t, board(0, 0))
		p.WaitText("#tile-support .tile-waiting", "0")
		requireDrawnWithin(t, p, sent, time.Second, "the answered caller's clearing")
		require.Equal(t, "0:00", p.Text("#tile-support .tile-longest"))
		require.Equal(t, "ok", browsertest.Eval[string](p, `document.querySelector('#tile-support .tile-longest-box').dataset.level`))

		// Agents: state, time in state (ticking), reason, call, handled, softphone.
		require.Equal(t, []string{"alice", "bob", "carol"},
			browsertest.Eval[[]string](p, `[...document.querySelectorAll('#agent-rows tr.agent-row')].map((r) => r.dataset.id)`))
		require.Equal(t, "Ready", p.Text("#agent-alice .ag-state"))
		require.Equal(t, "3", p.Text("#agent-alice .ag-handled"))
		require.Equal(t, "Online", p.Text("#agent-alice .ag-connected"))
		require.Equal(t, "—", p.Text("#agent-alice .ag-call-from"))
		require.Equal(t, "On a call", p.Text("#agent-bob .ag-state"))
		require.Equal(t, "+15551230000", p.Text("#agent-bob .ag-call-from"))
		require.Equal(t, "support", p.Text("#agent-bob .ag-call-queue"))
		require.Equal(t, "5", p.Text("#agent-bob .ag-handled"))
		require.Equal(t, "Not ready", p.Text("#agent-carol .ag-state"))
		require.Equal(t, "Lunch", p.Text("#agent-carol .ag-reason"))
		require.Equal(t, "Offline", p.Text("#agent-carol .ag-connected"))
		require.Equal(t, "false", browsertest.Eval[string](p, `document.getElementById('agent-carol').dataset.connected`))
		requireTimer(t, p, "#agent-alice .ag-timer", 65, sent)
		requireTimer(t, p, "#agent-bob .ag-timer", 30, sent)
		requireTimer(t, p, "#agent-bob .ag-call-timer", 30, sent)
		requireTimer(t, p, "#agent-carol .ag-timer", 600, sent)
		waitTick(t, p, "#agent-alice .ag-timer")
		waitTick(t, p, "#agent-bob .ag-call-timer")

		// Not ready with a reason, with the CSRF token.
		p.Type("#nr-reason", "break")
		p.Click("#nr-bob")
		p.WaitText("#action-done", "bob goes not ready, reason “break”")
		require.Equal(t, []agentAction{{Agent: "bob", Action: "not-ready", Reason: "break", CSRF: testCSRF, ContentType: "application/json"}},
			b.sup.actionsDone())
		// A reason the server does not know: its refusal is shown, and the
		// reasons it lists are offered.
		p.SetValue("#nr-reason", "nap")
		p.Click("#nr-alice")
		p.WaitText("#action-error", `alice was not put in not ready: not a configured not-ready reason: "nap" (the reasons are break, lunch)`)
		require.False(t, p.Visible("#action-done"))
		require.Equal(t, []string{"break", "lunch"}, browsertest.Eval[[]string](p, `[...document.querySelectorAll('#nr-reasons option')].map((o) => o.value)`))
		p.SetValue("#nr-reason", "")
		p.Click("#nr-alice")
		p.WaitText("#action-done", "alice goes not ready (after the current call, if on one).")
		require.False(t, p.Visible("#action-error"))
		require.Equal(t, agentAction{Agent: "alice", Action: "not-ready", Reason: "", CSRF: testCSRF, ContentType: "application/json"},
			b.sup.actionsDone()[2], "no reason: the server takes the first configured")

		// Sign out asks first; cancelling sends nothing.
		p.Click("#so-alice")
		p.WaitVisible("#signout-dialog")
		require.Equal(t, "Sign out alice? They leave their queues and their softphone is closed.", p.Text("#signout-text"))
		p.Click("#signout-no")
		p.WaitHidden("#signout-dialog")
		require.Len(t, b.sup.actionsDone(), 3)
		p.Click("#so-alice")
		p.WaitVisible("#signout-dialog")
		p.Click("#signout-yes")
		p.WaitText("#action-done", "alice is signed out.")
		require.Equal(t, agentAction{Agent: "alice", Action: "sign-out", CSRF: testCSRF, ContentType: "application/json"}, b.sup.actionsDone()[3])

		// Today's curves: the API's 15-minute buckets of today, drawn by uPlot.
		q := b.sup.lastStats("15m")
		require.NotNil(t, q, "the page asked for today per 15 minutes")
		require.Equal(t, todayStart().Format(time.DateOnly), q.Get("from"))
		require.NotEmpty(t, q.Get("tz"), "in the browser's time zone")
		require.Empty(t, q.Get("format"))
		p.WaitTrue(`document.querySelector('#chart-calls canvas') && document.querySelector('#chart-sl canvas')`)
		start := float64(todayStart().Unix())
		require.Equal(t, [][]float64{{start, start + 900, start + 1800}, {2, 5, 0}, {2, 4, 0}},
			browsertest.Eval[[][]float64](p, `hotlineSupervisor.charted()`))
		sl := browsertest.Eval[map[string][]*float64](p, `hotlineSupervisor.chart()`)["sl"]
		require.Len(t, sl, 3)
		require.Equal(t, 100.0, *sl[0])
		require.Equal(t, 75.0, *sl[1], "3 of the 4 answered within T")
		require.Nil(t, sl[2], "no service level without calls: a gap")
		require.True(t, browsertest.Eval[bool](p, `(() => {
			const c = document.querySelector('#chart-calls canvas');
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
			return false;
		})()`), "the canvas has ink")
		require.Contains(t, p.Text("#chart-sl-variant"), "variant b: answered within 20 s ÷ (answered + abandoned after 5 s)")
		p.SetValue("#chart-queue", "support")
		require.Equal(t, []float64{2, 5, 0}, browsertest.Eval[[][]float64](p, `hotlineSupervisor.charted()`)[1])

		// History: yesterday per hour at first, then the picked interval.
		yesterday := time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
		p.WaitTrue(`document.querySelectorAll('#hist-rows tr').length > 0`)
		q = b.sup.lastStats("1h")
		require.Equal(t, yesterday, q.Get("from"))
		require.Equal(t, yesterday, q.Get("to"))
		require.Equal(t, "json", q.Get("format"))
		heads := browsertest.Eval[[]string](p, `[...document.querySelectorAll('#hist-head th')].map((h) => h.dataset.key || '')`)
		require.Equal(t, []string{"", "", "offered", "answered", "abandoned", "asa", "sl_default", "abandon_rate"}, heads,
			"a column per figure, in the API's order")
		require.Equal(t, "service_level b; T=20 s; short < 5 s; ratio", p.Text(`#hist-head th[data-key="sl_default"] .kpi-variant`))
		require.Equal(t, "Service level", p.Text(`#hist-head th[data-key="sl_default"] .kpi-label`))
		require.Equal(t, "asa from_enqueue; seconds", p.Text(`#hist-head th[data-key="asa"] .kpi-variant`))
		rows := browsertest.Eval[[][]string](p, `[...document.querySelectorAll('#hist-rows tr')].map((r) =>
			[...r.querySelectorAll('td')].slice(1).map((c) => c.innerText))`)
		require.Equal(t, [][]string{
			{"support", "4", "3", "1", "9.5 s", "75%", "25%"},
			{"billing", "2", "2", "0", "25 s", "50%", "0%"},
			{"All queues", "6", "0", "0", "—", "—", "—"},
			{"support", "0", "0", "0", "—", "—", "—"},
			{"billing", "1", "0", "1", "—", "0%", "100%"},
			{"All queues", "1", "0", "0", "—", "—", "—"},
			{"All queues", "7", "0", "0", "—", "—", "—"},
		}, rows, "the rows are the API's figures")
		require.Equal(t, "Whole interval", p.Text("#hist-rows tr.hist-total .hist-when"))
		require.Equal(t, "3 ÷ 4", browsertest.Eval[string](p, `document.querySelector('#hist-rows tr .hist-val[data-key="sl_default"]').title`))

		p.SetValue("#h-from", "2026-12-01")
		p.SetValue("#h-to", "2026-12-02")
		p.SetValue("#h-bucket", "1d")
		p.Click("#h-q-support")
		p.Click("#h-apply")
		p.WaitTrue(`hotlineSupervisor.histQuery().includes('bucket=1d')`)
		q = b.sup.lastStats("1d")
		require.Equal(t, "2026-12-01", q.Get("from"))
		require.Equal(t, "2026-12-02", q.Get("to"))
		require.Equal(t, "support", q.Get("queue"))
		tz := q.Get("tz")
		want := url.Values{"from": {"2026-12-01"}, "to": {"2026-12-02"}, "bucket": {"1d"}, "queue": {"support"}, "tz": {tz}, "format": {"csv"}}
		href := browsertest.Eval[string](p, `document.getElementById('h-csv').getAttribute('href')`)
		u, err := url.Parse(href)
		require.NoError(t, err)
		require.Equal(t, "/api/v1/stats", u.Path)
		require.Equal(t, want, u.Query(), "the CSV link asks for the same figures as CSV")
		require.Equal(t, "Download CSV", p.Text("#h-csv"))
		require.True(t, browsertest.Eval[bool](p, `document.getElementById('h-csv').hasAttribute('download')`))
		csv := browsertest.Eval[string](p, `fetch(document.getElementById('h-csv').href).then((r) => r.headers.get('content-type') + '|' + r.headers.get('content-disposition'))`)
		require.Equal(t, `text/csv; charset=utf-8|attachment; filename="hotline-stats.csv"`, csv, "the link downloads the CSV")
		p.SetValue("#h-to", "2026-11-30")
		p.WaitText("#hist-error", "“From” must not be after “To”.")
		p.SetValue("#h-to", "2026-12-02")
		p.WaitHidden("#hist-error")

		// Today's figures not computed: said on the wallboard.
		m := board(0, 0)
		m.Today.Error = "today's figures are not available: the store is down"
		wc.send(t, m)
		p.WaitText("#today-error", "Today’s figures are not up to date: today's figures are not available: the store is down")

		// Russian.
		p.SetValue("#lang", "ru")
		p.WaitText("h1", "Супервизор")
		require.Equal(t, "Hotline — супервизор", browsertest.Eval[string](p, `document.title`))
		require.Equal(t, "Ждут", p.Text("#tile-support .tile-waiting-box .fig-label"))
		require.Equal(t, "83,3\u00a0%", p.Text("#tile-support .tile-sl"))
		require.Equal(t, "12 с", p.Text("#tile-support .tile-asa"))
		require.Contains(t, browsertest.Eval[string](p, `document.querySelector('#tile-support .tile-sl-box').title`),
			"отвеченные за 20 с ÷ (отвеченные + брошенные после 5 с)")
		require.Equal(t, "Готов", p.Text("#agent-alice .ag-state"))
		require.Equal(t, "Обед", p.Text("#agent-carol .ag-reason"))
		require.Equal(t, "Не на связи", p.Text("#agent-carol .ag-connected"))
		require.Equal(t, "Не готов", p.Text("#nr-alice"))
		require.Equal(t, "Уровень сервиса", p.Text(`#hist-head th[data-key="sl_default"] .kpi-label`))
		require.Equal(t, "Скачать CSV", p.Text("#h-csv"))
		require.Equal(t, "alice: выведен из системы.", p.Text("#action-done"))
		require.Contains(t, p.Text("#today-error"), "Показатели за сегодня устарели")
		p.WaitTrue(`document.querySelector('#chart-calls canvas')`)
		require.Contains(t, p.Text("#chart-calls"), "Поступило", "the legend is redrawn in Russian")
		p.SetValue("#lang", "en")
		p.WaitText("h1", "Supervisor")
		noPageErrors(t, p)
	})

	t.Run("agent: refused", func(t *testing.T) {
		b := newBackend(t)
		p := br.NewPage(t)
		signInAt(t, p, b, "/supervisor/", "#sup-forbidden")
		require.Equal(t, "This page is for supervisors", p.Text("#sup-forbidden h2"))
		require.Contains(t, p.Text("#sup-forbidden-text"), "You are signed in as an agent")
		require.False(t, p.Visible("#sup-content"))
		require.Equal(t, "/agent/", browsertest.Eval[string](p, `document.getElementById('sup-forbidden-agent').getAttribute('href')`))
		select {
		case <-b.sup.conns:
			t.Fatal("the page opened the wallboard socket for an agent")
		case <-time.After(300 * time.Millisecond):
		}
		require.Empty(t, b.sup.statsQueries())
		p.SetValue("#lang", "ru")
		p.WaitText("#sup-forbidden h2", "Эта страница для супервизоров")
		noPageErrors(t, p)
	})

	t.Run("russian from the start", func(t *testing.T) {
		b := newBackend(t)
		b.role.Store("admin")
		p := br.NewPage(t)
		signInAt(t, p, b, "/supervisor/?lang=ru", "#sup-content")
		wc := b.nextWall(t)
		wc.send(t, board(1, 5*time.Second))
		p.WaitText("#tile-support .tile-waiting", "1")
		require.Equal(t, "Супервизор", p.Text("h1"))
		require.Equal(t, "10\u00a0%", p.Text("#tile-support .tile-abandon"))
		require.Equal(t, "Разговор", p.Text("#agent-bob .ag-state"))
		require.Equal(t, "Вывести", p.Text("#so-bob"))
		require.Equal(t, "Очереди сейчас", p.Text("#wallboard-title span"))
		p.WaitTrue(`document.querySelectorAll('#hist-rows tr').length > 0`)
		require.Equal(t, "Все очереди", p.Text("#hist-rows tr.hist-total .hist-queue"))
		require.Equal(t, "Весь период", p.Text("#hist-rows tr.hist-total .hist-when"))
		require.Equal(t, "9,5 с", p.Text(`#hist-rows tr .hist-val[data-key="asa"]`))

		// The socket goes away (a restart): the page says so and opens it again.
		require.NoError(t, wc.c.Close(websocket.StatusGoingAway, "restart"))
		p.WaitText("#conn", "Связь потеряна")
		wc = b.nextWall(t)
		p.WaitText("#conn", "Подключено")
		wc.send(t, board(3, 5*time.Second))
		p.WaitText("#tile-support .tile-waiting", "3")
		noPageErrors(t, p)
	})
}

// The page, its script and the vendored uPlot are served from the binary;
// the page loads nothing from elsewhere and every text it uses is in both
// languages.
func TestSupervisorPageFiles(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r, err := c.Get(srv.URL + path)
		require.NoError(t, err)
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		return r, string(b)
	}
	r, page := get("/supervisor/")
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'self'")
	require.NotContains(t, page, "http://")
	require.NotContains(t, page, "https://")
	require.NotRegexp(t, `(?i)\son[a-z]+=|<script>|style=`, page, "no inline script, handler or style")
	for _, id := range []string{"sup-error", "sup-forbidden", "sup-content", "tiles", "today-error", "agent-rows", "nr-reason",
		"nr-reasons", "action-error", "action-done", "chart-queue", "chart-calls", "chart-sl", "chart-error", "hist-form",
		"h-from", "h-to", "h-bucket", "h-queues", "h-apply", "h-csv", "hist-head", "hist-rows", "signout-dialog",
		"signout-yes", "signout-no", "conn", "lang", "logout", "phone-conn", "monitor", "monitor-none", "monitor-on",
		"monitor-mode", "monitor-what", "monitor-stop", "monitor-error", "monitor-ended", "remote-audio", "mic-status"} {
		require.Contains(t, page, `id="`+id+`"`, id)
	}
	r, _ = get("/supervisor?lang=ru")
	require.Equal(t, http.StatusMovedPermanently, r.StatusCode)
	require.Equal(t, "/supervisor/?lang=ru", r.Header.Get("Location"))

	for path, ctype := range map[string]string{
		"/static/supervisor.js":                  "text/javascript; charset=utf-8",
		"/static/softphone.js":                   "text/javascript; charset=utf-8",
		"/static/vendor/uplot/uPlot.iife.min.js": "text/javascript; charset=utf-8",
		"/static/vendor/uplot/uPlot.min.css":     "text/css; charset=utf-8",
		"/static/vendor/uplot/LICENSE":           "application/octet-stream",
		"/static/app.css":                        "text/css; charset=utf-8",
	} {
		r, b := get(path)
		require.Equal(t, http.StatusOK, r.StatusCode, path)
		require.Equal(t, ctype, r.Header.Get("Content-Type"), path)
		require.NotEmpty(t, b, path)
	}
	_, lic := get("/static/vendor/uplot/LICENSE")
	require.Contains(t, lic, "The MIT License")
	_, lib := get("/static/vendor/uplot/uPlot.iife.min.js")
	require.Contains(t, lib, "(v1.6.32)", "the pinned uPlot of make vendor-uplot")

	// Every key the page uses has an English and a Russian text.
	_, i18n := get("/static/i18n.js")
	_, js := get("/static/supervisor.js")
	block := func(lang string) map[string]bool {
		start := strings.Index(i18n, "\n    "+lang+": {\n")
		require.GreaterOrEqual(t, start, 0)
		end := strings.Index(i18n[start:], "\n    },\n")
		keys := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s{6}(\w+): `).FindAllStringSubmatch(i18n[start:start+end], -1) {
			keys[m[1]] = true
		}
		return keys
	}
	en, ru := block("en"), block("ru")
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`data-i18n(?:-placeholder)?="(\w+)"`).FindAllStringSubmatch(page, -1) {
		used[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`'((?:sup|kpi|state|reason|conn|btn)_\w+|sign_out|none|queue|unknown_caller)'`).FindAllStringSubmatch(js, -1) {
		used[m[1]] = true
	}
	for _, k := range []string{"offered", "answered", "abandoned", "abandoned_short", "overflow", "left_other", "waiting", "asa",
		"sl_answered", "sl_default", "sl_with_abandons", "sl_left_queue", "abandon_rate", "abandon_rate_long", "avg_abandon_time",
		"max_queued_time", "handled", "aht", "avg_talk", "avg_hold", "avg_wrap_up", "occupancy", "utilization"} {
		used["kpi_"+k] = true // the figures of package kpi, by key
	}
	for _, u := range []string{"calls", "ratio", "seconds"} {
		used["sup_unit_"+u] = true
	}
	require.Greater(t, len(used), 80)
	for k := range used {
		if strings.HasSuffix(k, "_") {
			continue // a prefix the script completes
		}
		require.True(t, en[k], "text %q is used but has no English", k)
		require.True(t, ru[k], "text %q is used but has no Russian", k)
	}
}
