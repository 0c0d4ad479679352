package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
)

// callRecord is one call as an agent saw it.
type callRecord struct {
	Agent    string
	CallID   string
	From     string    // the caller, e.g. "load17"
	AcceptAt time.Time // when the agent sent accept
	// HeardAt is when the agent's client first decoded audio after accept
	// (its Received counter grew); zero if it never did.
	HeardAt time.Time
	// ConnectedAt is when the agent's client got "call connected"; zero
	// if it never did.
	ConnectedAt time.Time
	EndedAt     time.Time // when the agent saw the call end; zero if it never did
	EndedBy     string
	Connected   bool   // the hotline said the call is connected
	Problem     string // why the offer did not become a call, if it did not
}

// pool is the signed-in agents; each runs in its own goroutine, owned and
// waited for by the pool.
type pool struct {
	log     *slog.Logger
	clients []*agentclient.Client
	wg      sync.WaitGroup

	mu    sync.Mutex
	calls []callRecord
	errs  []error
	live  []string // the calls connected and not ended, oldest first
}

// agentTone is the agents' microphone tone; the capture looks for it in
// the audio the hotline sends each caller.
const agentTone = 1000.0

// heardPoll is how often an agent checks whether audio arrived after it
// accepted, and heardWait how long it checks.
const (
	heardPoll = time.Millisecond
	heardWait = 5 * time.Second
)

// signIn signs n agents in (parallel at a time): login, WebSocket, hello,
// WebRTC, tone, ready; then each waits for rings and accepts them.
func signIn(ctx context.Context, httpAddr string, n, parallel int, password string, log *slog.Logger) (*pool, error) {
	p := &pool{log: log, clients: make([]*agentclient.Client, n)}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				c, err := signInOne(ctx, httpAddr, agentName(i+1), password, log)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				p.clients[i] = c
			}
		})
	}
	for i := range n {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	if firstErr != nil {
		p.Close()
		return nil, firstErr
	}
	for i, c := range p.clients {
		p.wg.Go(func() { p.answer(ctx, agentName(i+1), c) })
	}
	return p, nil
}

// signInOne signs one agent in and makes them ready.
func signInOne(ctx context.Context, httpAddr, user, password string, log *slog.Logger) (*agentclient.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cookie, _, err := login(ctx, httpAddr, user, password)
	if err != nil {
		return nil, err
	}
	c, err := agentclient.Dial(ctx, "ws://"+httpAddr+"/api/v1/agent/ws",
		agentclient.Options{Header: http.Header{"Cookie": {cookie}}, Logger: quiet(log).With("agent", user)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", user, err)
	}
	fail := func(what string, err error) (*agentclient.Client, error) {
		_ = c.Close()
		return nil, fmt.Errorf("%s: %s: %w", user, what, err)
	}
	if _, err := c.Hello(ctx); err != nil {
		return fail("hello", err)
	}
	if err := c.Connect(ctx); err != nil {
		return fail("WebRTC", err)
	}
	c.SetTone(agentTone)
	if err := c.Send(ctx, softphone.Ready{}); err != nil {
		return fail("ready", err)
	}
	for {
		m, err := c.Wait(ctx, softphone.TypeState)
		if err != nil {
			return fail("waiting to be ready", err)
		}
		if m.(softphone.State).State == "ready" {
			return c, nil
		}
	}
}

// quiet keeps only errors of log: pion warns about every closing peer
// connection, which is noise here.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{log.Handler(), slog.LevelError})
}

// levelFilter passes records at or above min to h.
type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

// Enabled implements slog.Handler.
func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }

// WithAttrs implements slog.Handler.
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.h.WithAttrs(a), f.min}
}

// WithGroup implements slog.Handler.
func (f levelFilter) WithGroup(n string) slog.Handler { return levelFilter{f.h.WithGroup(n), f.min} }

// login signs user in and returns the session cookie as a Cookie header value.
func login(ctx context.Context, httpAddr, user, password string) (cookie, csrf string, err error) {
	body, err := json.Marshal(map[string]string{"username": user, "password": password})
	if err != nil {
		return "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%s: sign-in: %w", user, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("%s: sign-in: HTTP %d", user, resp.StatusCode)
	}
	var out struct {
		CSRF string `json:"csrf"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", "", fmt.Errorf("%s: sign-in: %w", user, err)
	}
	var parts []string
	for _, ck := range resp.Cookies() {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		return "", "", fmt.Errorf("%s: sign-in: no session cookie", user)
	}
	return strings.Join(parts, "; "), out.CSRF, nil
}

// answer accepts every ring the agent gets until ctx ends or the socket
// closes, and records each call: one event loop over the agent's messages,
// so a withdrawn offer or a refused accept never leaves the agent waiting.
func (p *pool) answer(ctx context.Context, agent string, c *agentclient.Client) {
	var (
		cur   *callRecord    // the call offered or on now; nil: idle
		heard chan time.Time // the current call's heard-audio poller
		wg    sync.WaitGroup // the pollers
	)
	defer wg.Wait()
	finish := func() {
		cur.HeardAt = <-heard
		p.record(*cur)
		cur = nil
	}
	for {
		m, err := c.Next(ctx)
		if err != nil {
			if cur != nil {
				finish()
			}
			if ctx.Err() == nil {
				p.fail(fmt.Errorf("%s: %w", agent, err))
			}
			return
		}
		switch m := m.(type) {
		case softphone.Ring:
			if cur != nil {
				p.fail(fmt.Errorf("%s: rung for %s while on %s", agent, m.CallID, cur.CallID))
				continue
			}
			cur = &callRecord{Agent: agent, CallID: m.CallID, From: m.From}
			before := c.Received()
			cur.AcceptAt = time.Now()
			if err := c.Send(ctx, softphone.Accept{CallID: m.CallID}); err != nil {
				p.fail(fmt.Errorf("%s: accept %s: %w", agent, m.CallID, err))
				return
			}
			heard = make(chan time.Time, 1)
			wg.Go(func() { heard <- waitHeard(ctx, c, before) })
		case softphone.RingCancel:
			if cur != nil && cur.CallID == m.CallID && !cur.Connected {
				cur.Problem = "offer withdrawn: " + m.Reason
				finish()
			}
		case softphone.Call:
			if cur == nil || cur.CallID != m.CallID {
				continue
			}
			switch m.Status {
			case softphone.CallConnected:
				cur.Connected, cur.ConnectedAt = true, time.Now()
				p.setLive(m.CallID, true)
			case softphone.CallEnded:
				cur.EndedAt, cur.EndedBy = time.Now(), m.EndedBy
				p.setLive(m.CallID, false)
				finish()
			}
		case softphone.Error:
			if cur != nil && m.Ref == softphone.TypeAccept && !cur.Connected {
				cur.Problem = "accept refused: " + m.Message
				finish()
			} else {
				p.fail(fmt.Errorf("%s: error from the hotline: %s (%s)", agent, m.Message, m.Ref))
			}
		}
	}
}

// record files one finished (or abandoned) call.
func (p *pool) record(r callRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, r)
}

// waitHeard polls the client until it has decoded more audio than before,
// and returns when; zero if it did not within heardWait.
func waitHeard(ctx context.Context, c *agentclient.Client, before int64) time.Time {
	t := time.NewTicker(heardPoll)
	defer t.Stop()
	limit := time.After(heardWait)
	for {
		select {
		case <-ctx.Done():
			return time.Time{}
		case <-limit:
			return time.Time{}
		case now := <-t.C:
			if c.Received() > before {
				return now
			}
		}
	}
}

// setLive adds a call to the live calls or takes it off.
func (p *pool) setLive(callID string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.live = append(p.live, callID)
		return
	}
	for i, id := range p.live {
		if id == callID {
			p.live = append(p.live[:i], p.live[i+1:]...)
			return
		}
	}
}

// liveCalls returns the calls connected and not ended, oldest first.
func (p *pool) liveCalls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.live...)
}

// fail records an agent's error.
func (p *pool) fail(err error) {
	p.log.Warn("agent failed", "err", err)
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// result returns the calls and errors recorded so far.
func (p *pool) result() ([]callRecord, []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]callRecord(nil), p.calls...), append([]error(nil), p.errs...)
}

// Close signs every agent out (drops its socket and peer connection) and
// waits for their goroutines. Cancel the ctx given to signIn first, or
// the agents stop when their socket closes.
func (p *pool) Close() {
	var wg sync.WaitGroup
	for _, c := range p.clients {
		if c != nil {
			wg.Go(func() { _ = c.Close() })
		}
	}
	wg.Wait()
	p.wg.Wait()
}
