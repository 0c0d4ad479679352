package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/web"
)

// Test account of the fake backend.
const (
	testUser     = "alice"
	testPassword = "correct horse"
	testName     = "Alice Agent"
	testCSRF     = "csrf-token-for-tests"
	cookieName   = "hotline_session"
)

// backend stands in for internal/httpapi in the page tests: the pages from
// web.Handler, the sign-in API, /api/v1/me, the agent WebSocket, and the
// recordings API (recordings_test.go), the tickets API (tickets_test.go) and the
// supervisor page's socket, agent controls and stats (supervisor_test.go). Each WebSocket the page opens arrives
// on conns; every message the page sends is checked with softphone.Decode,
// the real protocol decoder.
type backend struct {
	URL        string
	session    string
	role       atomic.Value // string: the role /api/v1/me reports ("agent" when unset)
	recs       recordingsAPI
	tix        ticketsAPI
	sup        supervisorAPI
	retryAfter atomic.Int32 // > 0: the next sign-in is throttled for that many seconds
	overview   atomic.Value // []byte: GET /api/v1/agent/overview's answer; unset: 404
	logouts    atomic.Int32
	conns      chan *agentConn
	// OnConn, when set, serves the WebSocket instead of the fake (used to
	// plug in softphone.Hub).
	OnConn func(ctx context.Context, c *websocket.Conn)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // WebSocket handlers, which outlive httptest's tracking once hijacked
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	b := &backend{session: hex.EncodeToString(raw[:]), conns: make(chan *agentConn, 8)}
	b.sup.conns = make(chan *wallConn, 8)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.HandleFunc("POST /api/v1/login", b.login)
	mux.HandleFunc("POST /api/v1/logout", b.logout)
	mux.HandleFunc("GET /api/v1/me", b.me)
	mux.HandleFunc("GET /api/v1/agent/ws", b.ws)
	mux.HandleFunc("GET /api/v1/agent/overview", func(w http.ResponseWriter, r *http.Request) {
		body, _ := b.overview.Load().([]byte)
		if !b.authed(r) || body == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /api/v1/recordings", b.listRecordings)
	mux.HandleFunc("GET /api/v1/recordings/{id}/audio", b.recordingAudio)
	mux.HandleFunc("PUT /api/v1/recordings/{id}/legal-hold", b.legalHold)
	b.ticketsRoutes(mux)
	b.supervisorRoutes(mux)
	srv := httptest.NewServer(mux)
	b.URL = srv.URL
	t.Cleanup(func() {
		b.cancel()
		b.wg.Wait()
		srv.Close()
	})
	return b
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *backend) login(w http.ResponseWriter, r *http.Request) {
	if s := b.retryAfter.Swap(0); s > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(s)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many attempts"})
		return
	}
	var req struct{ Username, Password string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Username != testUser || req.Password != testPassword {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "wrong user name or password"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: b.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{"id": testUser, "name": testName, "role": "agent"})
}

func (b *backend) authed(r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	return err == nil && c.Value == b.session
}

func (b *backend) logout(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-CSRF-Token") != testCSRF {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "csrf"})
		return
	}
	b.logouts.Add(1)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (b *backend) me(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not signed in"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": "id-" + testUser, "username": testUser, "name": testName,
		"role": b.currentRole(), "csrf": testCSRF})
}

func (b *backend) currentRole() string {
	if r, _ := b.role.Load().(string); r != "" {
		return r
	}
	return "agent"
}

func (b *backend) ws(w http.ResponseWriter, r *http.Request) {
	if !b.authed(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not signed in"})
		return
	}
	c, err := websocket.Accept(w, r, nil) // checks that Origin is this host
	if err != nil {
		return
	}
	b.wg.Add(1)
	defer b.wg.Done()
	defer c.CloseNow()
	if b.OnConn != nil {
		b.OnConn(b.ctx, c)
		return
	}
	ac := &agentConn{c: c, in: make(chan received, 256), ctx: b.ctx}
	select {
	case b.conns <- ac:
	case <-b.ctx.Done():
		return
	}
	defer close(ac.in)
	for {
		_, data, err := c.Read(b.ctx)
		if err != nil {
			return
		}
		m, err := softphone.Decode(data)
		select {
		case ac.in <- received{msg: m, raw: string(data), err: err}:
		default: // the test stopped reading; drop
		}
	}
}

// next waits for the page's next WebSocket.
func (b *backend) next(t *testing.T) *agentConn {
	t.Helper()
	select {
	case c := <-b.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the page did not open the agent WebSocket within 10 s")
		return nil
	}
}

// received is one message from the page.
type received struct {
	msg softphone.Message
	raw string
	err error
}

// agentConn is the server end of one page's WebSocket.
type agentConn struct {
	c   *websocket.Conn
	in  chan received
	ctx context.Context
}

// expect returns the next message of type typ, skipping heartbeats and
// WebRTC signalling (the page sends those on its own schedule). A message
// the real decoder refuses fails the test.
func (a *agentConn) expect(t *testing.T, typ string) softphone.Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r, ok := <-a.in:
			require.True(t, ok, "the page closed the WebSocket while the test waited for %q", typ)
			require.NoError(t, r.err, "the page sent a message the protocol decoder refuses: %s", r.raw)
			if r.msg.Type() == typ {
				return r.msg
			}
			switch r.msg.Type() {
			case softphone.TypePing, softphone.TypeICE, softphone.TypeWebRTCOffer, softphone.TypeHello:
				continue
			}
			t.Fatalf("want a %q message from the page, got %s", typ, r.raw)
		case <-timeout:
			t.Fatalf("the page sent no %q message within 10 s", typ)
		}
	}
}

// send writes one server message to the page.
func (a *agentConn) send(t *testing.T, m softphone.Message) {
	t.Helper()
	data, err := softphone.Encode(m)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, a.c.Write(ctx, websocket.MessageText, data))
}
