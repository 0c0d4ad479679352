package main

// Supervisors during the benchmark (-supervisors N -monitor M): N
// supervisor users watch the wallboard socket (GET /api/v1/supervisor/ws)
// for the whole run, and the first M of them also connect a softphone and
// each listen to one live call once every call is bridged (a supervisor
// listens to one call at a time, so M calls monitored at once take M
// supervisors). The report gives the push latency: from an agent's client
// getting "call connected" to each supervisor's wallboard showing that
// agent on that call.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline/hotline/internal/softphone/agentclient"
)

// supervisorName is the user name of supervisor i (1-based): sup001, ….
func supervisorName(i int) string { return fmt.Sprintf("sup%03d", i) }

// listenFor is how long a monitoring supervisor listens before the
// benchmark checks that they hear the agent's tone, and hearWindow how
// much of their audio it checks.
const (
	listenFor  = 3 * time.Second
	hearWindow = time.Second
)

// monitored is one supervisor's listen request and what they heard.
type monitored struct {
	Supervisor, CallID string
	Status             int     // the monitor request's HTTP status
	Heard              float64 // share of the agent's tone in the last hearWindow
	Err                error
}

// watchers is the signed-in supervisors: one reader goroutine per
// wallboard socket, owned and waited for by Close.
type watchers struct {
	log      *slog.Logger
	httpAddr string
	started  time.Time
	sessions []session
	conns    []*websocket.Conn
	phones   []*agentclient.Client // the first M supervisors' softphones
	wg       sync.WaitGroup
	closing  atomic.Bool // Close began: read errors are the end, not failures

	mu       sync.Mutex
	seen     []map[string]time.Time // per supervisor: call id → first message showing it connected
	messages int
	bytes    int64
	errs     []error
	monitors []monitored
}

// session is a signed-in supervisor's cookie and CSRF token.
type session struct{ cookie, csrf string }

// wallboardView is the part of a wallboard message the benchmark reads.
type wallboardView struct {
	Type   string `json:"type"`
	Agents []struct {
		State string `json:"state"`
		Call  *struct {
			ID string `json:"id"`
		} `json:"call"`
	} `json:"agents"`
}

// startSupervisors signs n supervisors in, opens each one's wallboard
// socket, and connects a softphone for the first m.
func startSupervisors(ctx context.Context, httpAddr string, n, m int, password string, log *slog.Logger) (*watchers, error) {
	w := &watchers{log: log, httpAddr: httpAddr, started: time.Now()}
	for i := 1; i <= n; i++ {
		if err := w.add(ctx, supervisorName(i), password, i <= m); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// add signs one supervisor in and starts reading their wallboard.
func (w *watchers) add(ctx context.Context, user, password string, phone bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cookie, csrf, err := login(ctx, w.httpAddr, user, password)
	if err != nil {
		return err
	}
	header := http.Header{"Cookie": {cookie}}
	conn, _, err := websocket.Dial(ctx, "ws://"+w.httpAddr+"/api/v1/supervisor/ws", &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return fmt.Errorf("%s: wallboard socket: %w", user, err)
	}
	conn.SetReadLimit(8 << 20)
	if phone {
		c, err := agentclient.Dial(ctx, "ws://"+w.httpAddr+"/api/v1/agent/ws",
			agentclient.Options{Header: header, Logger: quiet(w.log).With("supervisor", user)})
		if err == nil {
			if _, err = c.Hello(ctx); err == nil {
				err = c.Connect(ctx)
			}
			if err != nil {
				_ = c.Close()
			}
		}
		if err != nil {
			_ = conn.CloseNow()
			return fmt.Errorf("%s: softphone: %w", user, err)
		}
		w.phones = append(w.phones, c)
	}
	i := len(w.conns)
	w.sessions = append(w.sessions, session{cookie, csrf})
	w.conns = append(w.conns, conn)
	w.mu.Lock()
	w.seen = append(w.seen, map[string]time.Time{})
	w.mu.Unlock()
	w.wg.Go(func() { w.read(i, user, conn) })
	return nil
}

// read files every wallboard message of supervisor i until the socket
// closes: the first time each call shows with its agent on it.
func (w *watchers) read(i int, user string, conn *websocket.Conn) {
	for {
		_, data, err := conn.Read(context.Background())
		if err != nil {
			if !w.closing.Load() {
				w.fail(fmt.Errorf("%s: wallboard socket: %w", user, err))
			}
			return
		}
		at := time.Now()
		var v wallboardView
		if err := json.Unmarshal(data, &v); err != nil || v.Type != "wallboard" {
			w.fail(fmt.Errorf("%s: not a wallboard message (%v): %.80s", user, err, data))
			continue
		}
		w.mu.Lock()
		w.messages++
		w.bytes += int64(len(data))
		for _, a := range v.Agents {
			if a.Call != nil && a.State == "on_call" {
				if _, ok := w.seen[i][a.Call.ID]; !ok {
					w.seen[i][a.Call.ID] = at
				}
			}
		}
		w.mu.Unlock()
	}
}

// monitor has the supervisors with a softphone each listen to one of
// calls, then checks that each hears the agent's tone. It returns when
// every check is done; the supervisors stay on until their call ends.
func (w *watchers) monitor(ctx context.Context, calls []string) {
	out := make([]monitored, len(w.phones))
	for i := range w.phones {
		out[i] = monitored{Supervisor: supervisorName(i + 1)}
		if i >= len(calls) {
			out[i].Err = fmt.Errorf("only %d live calls to monitor", len(calls))
			continue
		}
		out[i].CallID = calls[i]
		out[i].Status, out[i].Err = w.listen(ctx, i, calls[i])
	}
	select {
	case <-ctx.Done():
	case <-time.After(listenFor):
	}
	for i, c := range w.phones {
		if out[i].Err == nil && out[i].Status == http.StatusOK {
			out[i].Heard = c.Heard(agentTone, hearWindow)
		}
	}
	w.mu.Lock()
	w.monitors = out
	w.mu.Unlock()
}

// listen is supervisor i's POST /api/v1/calls/{id}/monitor {"mode": "listen"}.
func (w *watchers) listen(ctx context.Context, i int, callID string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+w.httpAddr+"/api/v1/calls/"+callID+"/monitor",
		strings.NewReader(`{"mode": "listen"}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", w.sessions[i].cookie)
	req.Header.Set("X-CSRF-Token", w.sessions[i].csrf)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = res.Body.Close()
	return res.StatusCode, nil
}

// fail records a supervisor's error.
func (w *watchers) fail(err error) {
	w.log.Warn("supervisor failed", "err", err)
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

// pushes pairs each connected call with the moment each supervisor's
// wallboard first showed it: the latencies, and how many pairs never
// showed. A wallboard ahead of the agent's own message counts as 0.
func (w *watchers) pushes(calls []callRecord) (lat []time.Duration, missing int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, seen := range w.seen {
		for _, c := range calls {
			if c.ConnectedAt.IsZero() {
				continue
			}
			at, ok := seen[c.CallID]
			if !ok {
				missing++
				continue
			}
			lat = append(lat, max(at.Sub(c.ConnectedAt), 0))
		}
	}
	return lat, missing
}

// Close closes every socket and softphone and waits for the readers.
// It is safe to call more than once.
func (w *watchers) Close() {
	w.closing.Store(true)
	for _, c := range w.conns {
		_ = c.Close(websocket.StatusNormalClosure, "benchmark over")
	}
	for _, c := range w.phones {
		_ = c.Close()
	}
	w.wg.Wait()
}
