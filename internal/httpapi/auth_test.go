package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotline/hotline/internal/store"
)

// testClock is the injected clock: tests move it by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncBuffer collects log output from handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// authEnv is a node's HTTP API over a real SQLite store in a temp dir.
type authEnv struct {
	t     *testing.T
	dir   string
	st    store.Store
	clock *testClock
	logs  *syncBuffer
	auth  *Auth
	srv   *httptest.Server
	// configure, when set, adds to the API's options (recordings_test.go).
	configure func(*Options)
	// authConfig, when set, replaces DefaultAuthConfig.
	authConfig *AuthConfig
	// server, when set, serves the API as `hotline serve` does: NewServer
	// with these limits, on a LimitListener (ln).
	server *ServerConfig
	ln     *Listener
	// logins counts the refused sign-ins (AuthMetrics).
	logins *loginCounts
}

// loginCounts is an AuthMetrics that remembers.
type loginCounts struct {
	mu sync.Mutex
	by map[string]int
}

func (c *loginCounts) LoginFailed(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.by[reason]++
}

func (c *loginCounts) get(reason string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.by[reason] }

// newAuthEnvTuned is newAuthEnv with tune setting the env's fields first.
func newAuthEnvTuned(t *testing.T, tune func(e *authEnv)) *authEnv {
	t.Helper()
	e := &authEnv{t: t, dir: filepath.Join(t.TempDir(), "data"), logs: &syncBuffer{},
		clock: &testClock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}}
	tune(e)
	e.open()
	return e
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	return newAuthEnvWith(t, nil)
}

// newAuthEnvWith is newAuthEnv with configure adding to the API's options.
func newAuthEnvWith(t *testing.T, configure func(*Options)) *authEnv {
	t.Helper()
	e := &authEnv{t: t, dir: filepath.Join(t.TempDir(), "data"), logs: &syncBuffer{},
		clock: &testClock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}, configure: configure}
	e.open()
	return e
}

// open opens the store and starts the API over it (again, after restart).
func (e *authEnv) open() {
	t := e.t
	st, err := store.Open(t.Context(), store.Config{DataDir: e.dir}, nil)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(t.Context()))
	e.st = st
	cfg := DefaultAuthConfig()
	if e.authConfig != nil {
		cfg = *e.authConfig
	}
	e.logins = &loginCounts{by: map[string]int{}}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	e.auth, err = NewAuth(AuthOptions{Store: st, Config: cfg, Now: e.clock.Now, Logger: log, Metrics: e.logins})
	require.NoError(t, err)
	e.auth.dummyCost = bcrypt.MinCost // users here are hashed at MinCost too
	mux := http.NewServeMux()
	opt := Options{Calls: st, Auth: e.auth}
	if e.configure != nil {
		e.configure(&opt)
	}
	mux.Handle("/", New(opt))
	// A state-changing endpoint any agent may call, to test CSRF.
	mux.Handle("POST /api/v1/test/ready", e.auth.Require(store.RoleAgent, http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			writeJSON(w, http.StatusOK, map[string]string{"user": p.Username})
		})))
	if e.server == nil {
		e.srv = httptest.NewServer(mux)
	} else {
		e.srv = httptest.NewUnstartedServer(nil)
		e.ln = LimitListener(e.srv.Listener, e.server.MaxConnections, e.server.MaxConnectionsPerSource, log)
		e.srv.Listener, e.srv.Config = e.ln, NewServer(*e.server, mux, log)
		e.srv.Start()
	}
	t.Cleanup(e.close)
}

func (e *authEnv) close() {
	e.srv.Close()
	require.NoError(e.t, e.st.Close())
}

// restart stops the node and starts a new one over the same database file.
func (e *authEnv) restart() {
	e.close()
	e.open()
}

// addUser stores a user with password; a cheap bcrypt cost keeps tests fast.
func (e *authEnv) addUser(username string, role store.Role, password string) store.User {
	e.t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(e.t, err)
	now := e.clock.Now()
	u := store.User{ID: "id-" + username, Username: username, Name: strings.ToUpper(username[:1]) + username[1:],
		Role: role, PasswordHash: string(h), Language: "ru", CreatedAt: now, UpdatedAt: now}
	require.NoError(e.t, e.st.CreateUser(e.t.Context(), u))
	return u
}

// client is one browser: its own cookie jar.
type client struct {
	e    *authEnv
	http *http.Client
	csrf string
	ip   string
}

func (e *authEnv) browser() *client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &client{e: e, http: &http.Client{Jar: jar}}
}

// browserFrom is a browser whose connections come from the loopback
// address ip (Linux routes all of 127/8 to lo), a source of its own.
func (e *authEnv) browserFrom(ip string) *client {
	b := e.browser()
	b.ip = ip
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	b.http.Transport = &http.Transport{DialContext: d.DialContext}
	b.http.Timeout = 20 * time.Second
	e.t.Cleanup(b.http.CloseIdleConnections)
	return b
}

type response struct {
	code   int
	header http.Header
	body   map[string]any
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

func (c *client) do(method, path string, body any, hdr map[string]string) response {
	t := c.e.t
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.e.srv.URL+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := response{code: res.StatusCode, header: res.Header}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out.body), "body %q", raw)
	}
	return out
}

func (c *client) login(username, password string) response {
	c.e.t.Helper()
	r := c.do("POST", "/api/v1/login", map[string]string{"username": username, "password": password}, nil)
	if r.code == http.StatusOK {
		c.csrf = r.str("csrf")
	}
	return r
}

func (c *client) me() response { c.e.t.Helper(); return c.do("GET", "/api/v1/me", nil, nil) }

func (c *client) post(path string) response {
	c.e.t.Helper()
	return c.do("POST", path, nil, map[string]string{CSRFHeader: c.csrf})
}

func TestLoginSetsSessionCookieAndMe(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()

	require.Equal(t, http.StatusUnauthorized, b.me().code, "not signed in yet")

	r := b.login("Anna", "correct horse")
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, "id-anna", r.str("id"))
	require.Equal(t, "Anna", r.str("name"))
	require.Equal(t, "agent", r.str("role"))
	require.Len(t, r.str("csrf"), 32)

	cookies := (&http.Response{Header: r.header}).Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	require.Equal(t, SessionCookie, c.Name)
	require.True(t, c.HttpOnly, "scripts cannot read the session")
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.False(t, c.Secure, "plain HTTP on loopback")
	require.Equal(t, int((12 * time.Hour).Seconds()), c.MaxAge)

	me := b.me()
	require.Equal(t, http.StatusOK, me.code)
	require.Equal(t, "anna", me.str("username"))
	require.Equal(t, "ru", me.str("language"))
	require.Equal(t, b.csrf, me.str("csrf"))

	_, err := e.st.GetSession(t.Context(), c.Value)
	require.ErrorIs(t, err, store.ErrNotFound, "the store never holds the cookie's value itself")
	_, err = e.st.GetSession(t.Context(), store.TokenHash(c.Value))
	require.NoError(t, err)
}

func TestLoginOverTLSSetsSecureCookie(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	srv := httptest.NewTLSServer(New(Options{Calls: e.st, Auth: e.auth}))
	defer srv.Close()
	res, err := srv.Client().Post(srv.URL+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"anna","password":"correct horse"}`))
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, res.Cookies()[0].Secure)
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	off := e.addUser("olga", store.RoleAgent, "correct horse")
	off.Disabled = true
	require.NoError(t, e.st.UpdateUser(t.Context(), off))
	b := e.browser()

	wrong := b.login("anna", "wrong horse")
	unknown := b.login("nobody", "correct horse")
	disabled := b.login("olga", "correct horse")
	for _, r := range []response{wrong, unknown, disabled} {
		require.Equal(t, http.StatusUnauthorized, r.code)
		require.Equal(t, map[string]any{"error": "wrong username or password"}, r.body)
		require.Empty(t, r.header.Values("Set-Cookie"))
	}
	require.Equal(t, http.StatusBadRequest, b.do("POST", "/api/v1/login", "not an object", nil).code)
	form := b.do("POST", "/api/v1/login", map[string]string{"username": "anna", "password": "correct horse"},
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	require.Equal(t, http.StatusUnsupportedMediaType, form.code, "a cross-site form cannot sign anyone in")
	require.Contains(t, e.logs.String(), "sign-in failed")
	require.NotContains(t, e.logs.String(), "wrong horse", "passwords never reach the log")
}

func TestLoginThrottledPerSourceAndUsername(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()

	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, b.login("anna", "guess").code, "failure %d", i+1)
	}
	r := b.login("ANNA", "correct horse")
	require.Equal(t, http.StatusTooManyRequests, r.code, "locked out: even the right password waits")
	require.Equal(t, "60", r.header.Get("Retry-After"))
	require.Contains(t, r.str("error"), "too many failed sign-ins for this name from this address; try again in 60 s")
	require.Contains(t, e.logs.String(), "sign-in throttled")
	require.Contains(t, e.logs.String(), "sign-in locked out for this user from this source")
	require.Equal(t, 5, e.logins.get(LoginFailureWrongPassword))
	require.Equal(t, 1, e.logins.get(LoginFailureThrottled))

	e.clock.Advance(61 * time.Second)
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, b.login("anna", "guess").code)
	}
	r = b.login("anna", "correct horse")
	require.Equal(t, http.StatusTooManyRequests, r.code)
	require.Equal(t, "120", r.header.Get("Retry-After"), "the back-off grows")

	e.clock.Advance(2 * time.Minute)
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)
	for range 4 {
		require.Equal(t, http.StatusUnauthorized, b.login("anna", "guess").code)
	}
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code, "a success reset the count")
}

func TestLoginThrottledPerSourceAddress(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	for i := range 20 { // different usernames: only the address links them
		require.Equal(t, http.StatusUnauthorized, b.login(fmt.Sprintf("user%d", i), "guess").code)
	}
	r := b.login("anna", "correct horse")
	require.Equal(t, http.StatusTooManyRequests, r.code)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.Contains(t, r.str("error"), "too many failed sign-ins from this address")
	require.Equal(t, 20, e.logins.get(LoginFailureUnknownUser))
	require.Contains(t, e.logs.String(), "sign-in locked out for this source")
}

// Issue 14, finding 5: wrong passwords for boris from one source lock that
// source out, never boris: he signs in from another address at once, and
// keeps doing so while the guessing source stays locked.
func TestLockoutFromOneSourceLeavesTheAgentIn(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("boris", store.RoleAgent, "correct horse")
	guesser, boris := e.browserFrom("127.0.0.2"), e.browserFrom("127.0.0.1")

	for round := range 3 { // the back-off grows for the guesser, not for boris
		for i := range 5 {
			require.Equal(t, http.StatusUnauthorized, guesser.login("boris", fmt.Sprintf("guess%d", i)).code)
		}
		r := guesser.login("boris", "correct horse")
		require.Equal(t, http.StatusTooManyRequests, r.code, "round %d: the guessing source is locked out", round)
		require.Equal(t, strconv.Itoa(60<<round), r.header.Get("Retry-After"))

		r = boris.login("boris", "correct horse")
		require.Equal(t, http.StatusOK, r.code, "round %d: boris from his own address: %v", round, r.body)
		require.Equal(t, http.StatusOK, boris.me().code)
		e.clock.Advance(time.Duration(60<<round)*time.Second + time.Second)
	}
	require.Equal(t, 15, e.logins.get(LoginFailureWrongPassword))
	require.Equal(t, 3, e.logins.get(LoginFailureThrottled))
	logs := e.logs.String()
	require.Contains(t, logs, "source=127.0.0.2")
	require.Contains(t, logs, "reason=wrong_password")

	// 20 failures from the guesser with any names lock the whole address,
	// still not boris elsewhere.
	for i := range 20 {
		require.Equal(t, http.StatusUnauthorized, guesser.login(fmt.Sprintf("user%d", i), "guess").code)
	}
	require.Equal(t, http.StatusTooManyRequests, guesser.login("anyone", "guess").code)
	require.Equal(t, http.StatusOK, e.browserFrom("127.0.0.1").login("boris", "correct horse").code)
}

// Guessing one name from many sources, each under its own limits, is slowed
// past MaxFailuresPerUser: every sign-in as that name waits SlowDown, and
// the real agent still gets in.
func TestDistributedGuessingIsSlowedNeverLocked(t *testing.T) {
	cfg := DefaultAuthConfig()
	cfg.MaxFailuresPerUser, cfg.SlowDown = 12, 400*time.Millisecond
	e := newAuthEnvTuned(t, func(e *authEnv) { e.authConfig = &cfg })
	e.addUser("boris", store.RoleAgent, "correct horse")

	timed := func(c *client, password string) (int, time.Duration) {
		start := time.Now()
		r := c.login("boris", password)
		return r.code, time.Since(start)
	}
	boris := e.browserFrom("127.0.0.1")
	code, took := timed(boris, "correct horse")
	require.Equal(t, http.StatusOK, code)
	require.Less(t, took, cfg.SlowDown, "not slowed before the guessing")

	for src := 2; src <= 5; src++ { // 4 sources × 3 failures: under each source's limits
		c := e.browserFrom(fmt.Sprintf("127.0.0.%d", src))
		for range 3 {
			code, _ := timed(c, "guess")
			require.Equal(t, http.StatusUnauthorized, code)
		}
	}
	require.Contains(t, e.logs.String(), "sign-ins for this user slowed")
	code, took = timed(boris, "correct horse")
	require.Equal(t, http.StatusOK, code, "slowed, never refused")
	require.GreaterOrEqual(t, took, cfg.SlowDown)
	code, took = timed(e.browserFrom("127.0.0.6"), "guess")
	require.Equal(t, http.StatusUnauthorized, code)
	require.GreaterOrEqual(t, took, cfg.SlowDown, "a guess from a fresh source waits too")
	code, took = timed(boris, "correct horse")
	require.Equal(t, http.StatusOK, code)
	require.GreaterOrEqual(t, took, cfg.SlowDown)
	e.addUser("anna", store.RoleAgent, "correct horse")
	start := time.Now()
	require.Equal(t, http.StatusOK, e.browserFrom("127.0.0.1").login("anna", "correct horse").code)
	require.Less(t, time.Since(start), cfg.SlowDown, "other names are not slowed")

	e.clock.Advance(cfg.FailureWindow + time.Second)
	code, took = timed(boris, "correct horse")
	require.Equal(t, http.StatusOK, code)
	require.Less(t, took, cfg.SlowDown, "the slow-down ends with the window")
}

func TestSessionSurvivesRestart(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)
	cookies := b.http.Jar.Cookies(mustURL(t, e.srv.URL))

	e.restart() // a new process: new store handle, new Auth, new listener
	b2 := e.browser()
	b2.http.Jar.SetCookies(mustURL(t, e.srv.URL), cookies)
	b2.csrf = b.csrf
	me := b2.me()
	require.Equal(t, http.StatusOK, me.code)
	require.Equal(t, "anna", me.str("username"))
	require.Equal(t, http.StatusOK, b2.post("/api/v1/test/ready").code, "the CSRF token is still valid")
}

func TestSessionIdleExpiry(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)

	for range 4 { // active every 29 minutes: stays signed in
		e.clock.Advance(29 * time.Minute)
		require.Equal(t, http.StatusOK, b.me().code)
	}
	e.clock.Advance(31 * time.Minute)
	r := b.me()
	require.Equal(t, http.StatusUnauthorized, r.code, "idle over 30 minutes")
	require.Contains(t, e.logs.String(), "idle too long")
	require.Contains(t, strings.Join(r.header.Values("Set-Cookie"), ";"), "Max-Age=0", "the cookie is cleared")
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)
	cookies := b.http.Jar.Cookies(mustURL(t, e.srv.URL))

	for range 35 { // busy all shift long: 35 × 20 min = 11 h 40 min
		e.clock.Advance(20 * time.Minute)
		require.Equal(t, http.StatusOK, b.me().code)
	}
	e.clock.Advance(20 * time.Minute)
	// The browser would drop the cookie at Max-Age; a client that keeps it
	// anyway is refused by the server.
	b.http.Jar.SetCookies(mustURL(t, e.srv.URL), cookies)
	require.Equal(t, http.StatusUnauthorized, b.me().code, "12 hours after sign-in")
	require.Contains(t, e.logs.String(), "expired")
}

func TestLogout(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)
	cookies := b.http.Jar.Cookies(mustURL(t, e.srv.URL))

	require.Equal(t, http.StatusForbidden, b.do("POST", "/api/v1/logout", nil, nil).code, "logout needs the CSRF token")
	require.Equal(t, http.StatusNoContent, b.post("/api/v1/logout").code)
	require.Empty(t, b.http.Jar.Cookies(mustURL(t, e.srv.URL)), "the cookie is cleared")

	b.http.Jar.SetCookies(mustURL(t, e.srv.URL), cookies)
	require.Equal(t, http.StatusUnauthorized, b.me().code, "the session is gone on the server too")
}

// POST /api/v1/logout with an API token is refused, and says so: the token
// is not a session and keeps working until disabled.
func TestLogoutWithTokenIsRefused(t *testing.T) {
	e := newAuthEnv(t)
	secret, err := GenerateAPIToken()
	require.NoError(t, err)
	require.NoError(t, e.st.CreateToken(t.Context(), store.APIToken{ID: "t1", Name: "helpdesk", Role: store.RoleAgent,
		Hash: store.TokenHash(secret), CreatedAt: e.clock.Now()}))
	script := &client{e: e, http: http.DefaultClient}
	bearer := map[string]string{"Authorization": "Bearer " + secret}

	r := script.do("POST", "/api/v1/logout", nil, bearer)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.str("error"), "hotline token disable helpdesk")
	require.Equal(t, http.StatusOK, script.do("GET", "/api/v1/me", nil, bearer).code, "the token still works, as the answer said")
	require.Contains(t, e.logs.String(), "sign-out with an API token refused")
}

func TestCSRF(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)

	require.Equal(t, http.StatusForbidden, b.do("POST", "/api/v1/test/ready", nil, nil).code, "no token")
	r := b.do("POST", "/api/v1/test/ready", nil, map[string]string{CSRFHeader: "forged"})
	require.Equal(t, http.StatusForbidden, r.code, "wrong token")
	require.Contains(t, r.str("error"), CSRFHeader)
	require.Contains(t, e.logs.String(), "CSRF")
	r = b.post("/api/v1/test/ready")
	require.Equal(t, http.StatusOK, r.code)
	require.Equal(t, "anna", r.str("user"))
}

func TestBearerToken(t *testing.T) {
	e := newAuthEnv(t)
	secret, err := GenerateAPIToken()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, APITokenPrefix))
	ctx := t.Context()
	require.NoError(t, e.st.CreateToken(ctx, store.APIToken{ID: "t1", Name: "helpdesk", Role: store.RoleSupervisor,
		Hash: store.TokenHash(secret), CreatedAt: e.clock.Now()}))
	agentSecret, err := GenerateAPIToken()
	require.NoError(t, err)
	require.NoError(t, e.st.CreateToken(ctx, store.APIToken{ID: "t2", Name: "bot", Role: store.RoleAgent,
		Hash: store.TokenHash(agentSecret), CreatedAt: e.clock.Now()}))
	script := &client{e: e, http: http.DefaultClient}
	bearer := func(s string) map[string]string { return map[string]string{"Authorization": "Bearer " + s} }

	r := script.do("GET", "/api/v1/calls", nil, bearer(secret))
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, http.StatusOK, script.do("POST", "/api/v1/test/ready", nil, bearer(secret)).code,
		"bearer requests need no CSRF token")
	me := script.do("GET", "/api/v1/me", nil, bearer(secret))
	require.Equal(t, "helpdesk", me.str("name"))
	require.Equal(t, "token:helpdesk", me.str("username"), "a token never passes for a user")
	require.Equal(t, "supervisor", me.str("role"))

	tok, err := e.st.GetToken(ctx, store.TokenHash(secret))
	require.NoError(t, err)
	require.NotNil(t, tok.LastUsedAt, "use is recorded")

	require.Equal(t, http.StatusForbidden, script.do("GET", "/api/v1/calls", nil, bearer(agentSecret)).code)
	require.Equal(t, http.StatusUnauthorized, script.do("GET", "/api/v1/calls", nil, bearer("hl_wrong")).code)
	require.Equal(t, http.StatusUnauthorized, script.do("GET", "/api/v1/calls", nil,
		map[string]string{"Authorization": "Basic " + secret}).code)

	require.NoError(t, e.st.SetTokenDisabled(ctx, "helpdesk", true))
	require.Equal(t, http.StatusUnauthorized, script.do("GET", "/api/v1/calls", nil, bearer(secret)).code)
	require.NotContains(t, e.logs.String(), secret, "tokens never reach the log")
}

func TestRoleCheck(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	e.addUser("sam", store.RoleSupervisor, "correct horse")
	agent, sup := e.browser(), e.browser()
	require.Equal(t, http.StatusOK, agent.login("anna", "correct horse").code)
	require.Equal(t, http.StatusOK, sup.login("sam", "correct horse").code)

	r := agent.do("GET", "/api/v1/calls", nil, nil)
	require.Equal(t, http.StatusForbidden, r.code)
	require.Equal(t, "your role may not do this", r.str("error"))
	logs := e.logs.String()
	require.Contains(t, logs, "auth: 403")
	require.Contains(t, logs, "user=anna")
	require.Contains(t, logs, "path=/api/v1/calls")

	require.Equal(t, http.StatusOK, sup.do("GET", "/api/v1/calls", nil, nil).code)
	require.Equal(t, http.StatusNotFound, sup.do("GET", "/api/v1/calls/nope", nil, nil).code)
	require.Equal(t, http.StatusUnauthorized, e.browser().do("GET", "/api/v1/calls", nil, nil).code)
	require.Contains(t, e.logs.String(), "auth: 401")
}

func TestDisabledUserLosesSession(t *testing.T) {
	e := newAuthEnv(t)
	u := e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)
	u.Disabled = true
	require.NoError(t, e.st.UpdateUser(t.Context(), u))
	require.Equal(t, http.StatusUnauthorized, b.me().code)
}

func TestCheckOrigin(t *testing.T) {
	e := newAuthEnv(t)
	cfg := DefaultAuthConfig()
	cfg.AllowedOrigins = []string{"https://desk.example.com", "crm.example.com:8443"}
	a, err := NewAuth(AuthOptions{Store: e.st, Config: cfg})
	require.NoError(t, err)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://127.0.0.1:8080", true},
		{"https://desk.example.com", true},
		{"https://crm.example.com:8443", true},
		{"https://evil.example.com", false},
		{"http://127.0.0.1:9999", false},
		{"null", false},
		{"file:///etc/passwd", false},
	} {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8080/api/v1/agent/ws", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.ok {
			require.NoError(t, a.CheckOrigin(r), tc.origin)
		} else {
			require.Error(t, a.CheckOrigin(r), tc.origin)
		}
	}
}

func TestIdentifyForWebSocket(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	b := e.browser()
	require.Equal(t, http.StatusOK, b.login("anna", "correct horse").code)
	r := httptest.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/api/v1/agent/ws", nil)
	for _, c := range b.http.Jar.Cookies(mustURL(t, e.srv.URL)) {
		r.AddCookie(c)
	}
	p, err := e.auth.Identify(r)
	require.NoError(t, err)
	require.Equal(t, "id-anna", p.UserID)
	require.Equal(t, store.RoleAgent, p.Role)

	_, err = e.auth.Identify(httptest.NewRequestWithContext(t.Context(), "GET", "/", nil))
	require.ErrorIs(t, err, ErrUnauthenticated)
}

func TestAuthConfigValidate(t *testing.T) {
	good := DefaultAuthConfig()
	require.NoError(t, good.Validate())
	bad := good
	bad.SessionTTL, bad.IdleTimeout, bad.MaxFailures = 0, time.Second, 0
	bad.AllowedOrigins = []string{"ftp://x", "a b"}
	bad.MaxFailuresPerUser, bad.SlowDown = -1, time.Minute
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"session_ttl", "idle_timeout", "max_failures", `"ftp://x"`, `"a b"`,
		"max_failures_per_user", "slow_down must be at most 30s"} {
		require.Contains(t, err.Error(), want)
	}
	_, err = NewAuth(AuthOptions{Store: nil, Config: good})
	require.Error(t, err)
}

func TestPasswords(t *testing.T) {
	_, err := HashPassword("short")
	require.ErrorContains(t, err, "at least 8")
	_, err = HashPassword(strings.Repeat("x", 73))
	require.ErrorContains(t, err, "at most 72")
	h, err := HashPassword("correct horse")
	require.NoError(t, err)
	require.True(t, CheckPassword(h, "correct horse"))
	require.False(t, CheckPassword("", ""))
	p1, err := GeneratePassword()
	require.NoError(t, err)
	p2, err := GeneratePassword()
	require.NoError(t, err)
	require.Len(t, p1, 16)
	require.NotEqual(t, p1, p2)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// FuzzIdentify feeds arbitrary Authorization headers and cookies to Identify:
// it never panics and never accepts anything but the one valid token.
func FuzzIdentify(f *testing.F) {
	f.Add("Bearer hl_abc", "")
	f.Add("", "c2Vzc2lvbg")
	f.Add("bearer  ", "")
	f.Add("Basic dXNlcjpwYXNz", "x")
	f.Add("Bearer "+strings.Repeat("A", 300), "")
	st, err := store.Open(context.Background(), store.Config{DataDir: f.TempDir()}, nil)
	require.NoError(f, err)
	defer func() { _ = st.Close() }()
	require.NoError(f, st.Migrate(context.Background()))
	const valid = "hl_valid-token"
	require.NoError(f, st.CreateToken(context.Background(), store.APIToken{ID: "t", Name: "t", Role: store.RoleAgent,
		Hash: store.TokenHash(valid), CreatedAt: time.Now()}))
	a, err := NewAuth(AuthOptions{Store: st, Config: DefaultAuthConfig()})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.Header["Authorization"] = []string{authz}
		if authz == "" {
			delete(r.Header, "Authorization")
		}
		r.Header["Cookie"] = []string{SessionCookie + "=" + cookie}
		p, err := a.Identify(r)
		if err != nil {
			require.ErrorIs(t, err, ErrUnauthenticated)
			return
		}
		require.True(t, p.Token)
		scheme, secret, _ := strings.Cut(authz, " ")
		require.True(t, strings.EqualFold(scheme, "Bearer"))
		require.Equal(t, valid, strings.TrimSpace(secret))
	})
}

// FuzzCheckOrigin: an accepted Origin names the request's own host.
func FuzzCheckOrigin(f *testing.F) {
	f.Add("http://127.0.0.1:8080", "127.0.0.1:8080")
	f.Add("https://evil.example.com", "127.0.0.1:8080")
	f.Add("null", "h")
	f.Add("http://[::1", "[::1]:80")
	a := &Auth{}
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		r.Header.Set("Origin", origin)
		if a.CheckOrigin(r) == nil && origin != "" {
			u, err := url.Parse(origin)
			require.NoError(t, err)
			require.True(t, strings.EqualFold(u.Host, host), "origin %q accepted for host %q", origin, host)
		}
	})
}

// Password checks run a bounded number at a time: with every slot taken a
// sign-in waits (it neither fails nor skips the check), and goes through
// once a slot frees; a check whose request is gone while waiting gives up.
func TestSignInsWaitForAHashingSlot(t *testing.T) {
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse battery")
	for range cap(e.auth.hashing) {
		e.auth.hashing <- struct{}{}
	}
	done := make(chan response, 1)
	go func() { done <- e.browser().login("anna", "correct horse battery") }()
	require.Never(t, func() bool { return len(done) > 0 }, 300*time.Millisecond, 20*time.Millisecond,
		"the sign-in did not wait for a hashing slot")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, e.auth.takeHashSlot(ctx), context.Canceled)

	<-e.auth.hashing
	select {
	case r := <-done:
		require.Equal(t, http.StatusOK, r.code, "%v", r.body)
	case <-time.After(10 * time.Second):
		t.Fatal("the sign-in never got the freed slot")
	}
}
