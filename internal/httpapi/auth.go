package httpapi

// People and access: sign-in, server-side sessions, API tokens, roles, CSRF
// and the WebSocket Origin check.
//
// A browser signs in with POST /api/v1/login and gets the hotline_session
// cookie (HttpOnly, SameSite=Lax, Secure over TLS) and a CSRF token. The
// store keeps only the SHA-256 of the cookie's value, so sessions survive a
// restart and work on every node sharing the database. A session ends at its
// absolute expiry, after IdleTimeout without requests, on sign-out, or when
// its user is disabled. Every state-changing request (POST, PUT, PATCH,
// DELETE) that authenticates with the cookie must echo the CSRF token in
// X-CSRF-Token. Scripts use "Authorization: Bearer <token>" with a token from
// `hotline token create`; bearer requests need no CSRF token, since a browser
// never adds that header on its own.
//
// Failed sign-ins are throttled by where they come from, never by the name
// alone, so nobody can keep an agent off shift by guessing at their name:
//
//   - MaxFailures failures for one username from one source (an IPv4
//     address or an IPv6 /64) within FailureWindow lock that name out from
//     that source only;
//   - MaxFailuresPerIP failures from one source, whatever the names, lock
//     the source out;
//
// each for Lockout, doubling with each lock-out up to MaxLockout; a success
// clears the (source, name) record. A locked-out request gets 429 with
// Retry-After. A correct password from a source that has not been failing
// is never refused. Against guessing one name from many sources,
// MaxFailuresPerUser failures for a name within FailureWindow, from all
// sources together, make every sign-in as that name wait SlowDown before
// its password is checked, for FailureWindow: slowed, never refused.
// Every failure is logged and counted (AuthMetrics). Throttling state is per
// node: with N nodes an attacker gets at most N times the budget.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline/hotline/internal/store"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "hotline_session"

// CSRFHeader is the header state-changing requests with a session carry.
const CSRFHeader = "X-CSRF-Token"

// AuthConfig tunes sessions and sign-in throttling.
type AuthConfig struct {
	// SessionTTL is the absolute lifetime of a session (default 12h).
	SessionTTL time.Duration `yaml:"session_ttl"`
	// IdleTimeout ends a session that made no request for this long (default 30m).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// SecureCookie marks the cookie Secure even on plain HTTP, for a node
	// behind a TLS-terminating proxy (http.behind_tls_proxy does it too).
	// Over TLS it is always Secure.
	SecureCookie bool `yaml:"secure_cookie"`
	// AllowedOrigins are extra WebSocket origins ("https://desk.example.com"
	// or "desk.example.com:8443") besides the request's own host.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxFailures failed sign-ins for one username from one source within
	// FailureWindow lock that username out from that source (default 5);
	// other sources still sign in as that name.
	MaxFailures int `yaml:"max_failures"`
	// MaxFailuresPerIP failed sign-ins from one source (an IPv4 address or
	// an IPv6 /64) within FailureWindow lock that source out (default 20;
	// offices share addresses).
	MaxFailuresPerIP int `yaml:"max_failures_per_ip"`
	// MaxFailuresPerUser failed sign-ins for one username from all sources
	// within FailureWindow make every sign-in as that name wait SlowDown,
	// for FailureWindow (default 100): distributed guessing is slowed, and
	// the agent is never locked out.
	MaxFailuresPerUser int `yaml:"max_failures_per_user"`
	// SlowDown is that wait (default 2s, at most 30s).
	SlowDown time.Duration `yaml:"slow_down"`
	// FailureWindow is how long a failure counts (default 5m).
	FailureWindow time.Duration `yaml:"failure_window"`
	// Lockout is the first lock-out; each further one doubles it (default 1m).
	Lockout time.Duration `yaml:"lockout"`
	// MaxLockout caps the growing lock-out (default 1h).
	MaxLockout time.Duration `yaml:"max_lockout"`
}

// DefaultAuthConfig returns the defaults listed on AuthConfig.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{
		SessionTTL:       12 * time.Hour,
		IdleTimeout:      30 * time.Minute,
		MaxFailures:      5,
		MaxFailuresPerIP: 20,
		FailureWindow:    5 * time.Minute,
		Lockout:          time.Minute,
		MaxLockout:       time.Hour,

		MaxFailuresPerUser: 100,
		SlowDown:           2 * time.Second,
	}
}

// Validate reports every out-of-range setting, joined.
func (c *AuthConfig) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", name, d))
		}
	}
	positive("session_ttl", c.SessionTTL)
	positive("idle_timeout", c.IdleTimeout)
	positive("failure_window", c.FailureWindow)
	positive("lockout", c.Lockout)
	positive("max_lockout", c.MaxLockout)
	if c.IdleTimeout < time.Minute {
		errs = append(errs, errors.New("idle_timeout must be at least 1m (last use is recorded once a minute)"))
	}
	if c.MaxLockout < c.Lockout {
		errs = append(errs, errors.New("max_lockout must not be shorter than lockout"))
	}
	if c.MaxFailures < 1 || c.MaxFailuresPerIP < 1 {
		errs = append(errs, errors.New("max_failures and max_failures_per_ip must be at least 1"))
	}
	if c.MaxFailuresPerUser < c.MaxFailures || c.MaxFailuresPerUser < 1 {
		errs = append(errs, fmt.Errorf("max_failures_per_user must be at least max_failures (%d), got %d",
			c.MaxFailures, c.MaxFailuresPerUser))
	}
	positive("slow_down", c.SlowDown)
	if c.SlowDown > 30*time.Second {
		errs = append(errs, fmt.Errorf("slow_down must be at most 30s, got %v", c.SlowDown))
	}
	for _, o := range c.AllowedOrigins {
		if !validOrigin(o) {
			errs = append(errs, fmt.Errorf("allowed_origins: %q is not an origin (scheme://host[:port] or host[:port])", o))
		}
	}
	return errors.Join(errs...)
}

// validOrigin accepts "http(s)://host[:port]" and "host[:port]".
func validOrigin(o string) bool {
	if strings.Contains(o, "://") {
		u, err := url.Parse(o)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
			(u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == ""
	}
	return o != "" && !strings.ContainsAny(o, " /?#@")
}

// AuthStore is the part of the store Auth uses.
type AuthStore interface {
	FindUser(ctx context.Context, username string) (store.User, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	CreateSession(ctx context.Context, s store.Session) error
	GetSession(ctx context.Context, hash string) (store.Session, error)
	TouchSession(ctx context.Context, hash string, at time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
	GetToken(ctx context.Context, hash string) (store.APIToken, error)
	TouchToken(ctx context.Context, hash string, at time.Time) error
}

// AuthMetrics counts refused sign-ins by reason, one of the LoginFailure*
// values (metrics.Auth satisfies it).
type AuthMetrics interface {
	LoginFailed(reason string)
}

// Reasons a sign-in is refused, as AuthMetrics counts them.
const (
	LoginFailureWrongPassword = "wrong_password" // a known user, a wrong password
	LoginFailureUnknownUser   = "unknown_user"
	LoginFailureDisabled      = "disabled"  // the user is disabled
	LoginFailureThrottled     = "throttled" // refused with 429: its source is locked out
)

// AuthOptions wires an Auth.
type AuthOptions struct {
	Store  AuthStore
	Config AuthConfig
	Logger *slog.Logger
	// Metrics counts refused sign-ins; nil counts nothing.
	Metrics AuthMetrics
	Now     func() time.Time // the clock; time.Now when nil (tests inject one)
	// OnSignOut, when set, runs after a user signs out (the agent leaves the queues).
	OnSignOut func(p Principal)
}

// Auth authenticates requests and checks roles. It is safe for concurrent use.
type Auth struct {
	st     AuthStore
	cfg    AuthConfig
	log    *slog.Logger
	now    func() time.Time
	met    AuthMetrics
	byPair *throttle // (source, username): locks the name out from that source
	byIP   *throttle // source: locks the source out
	byUser *throttle // username, from all sources: "locked" means slowed, never refused

	onSignOut func(Principal)

	dummyOnce sync.Once
	dummyCost int    // bcrypt cost of dummyHash: that of HashPassword (tests lower it)
	dummyHash []byte // compared against for unknown users, so they take as long as known ones

	// hashing bounds the password checks running at once to half the CPUs
	// (at least one). Each takes tens of milliseconds of a CPU (bcrypt); a
	// burst of sign-ins (a shift starting, a password-guessing flood) must
	// leave the rest of the machine to the calls' media, which was late by
	// up to 20 ms while 300 agents signed in unbounded. Sign-ins wait their
	// turn instead.
	hashing chan struct{}
}

// ErrUnauthenticated means the request carries no valid session or token.
var ErrUnauthenticated = errors.New("not signed in")

// touchEvery is how often a session's last use (or a token's) is written.
const touchEvery = time.Minute

// NewAuth checks the configuration and builds an Auth.
func NewAuth(opt AuthOptions) (*Auth, error) {
	if opt.Store == nil {
		return nil, errors.New("httpapi: auth: no store")
	}
	if err := opt.Config.Validate(); err != nil {
		return nil, fmt.Errorf("httpapi: auth: %w", err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Metrics == nil {
		opt.Metrics = noAuthMetrics{}
	}
	c := opt.Config
	return &Auth{
		st: opt.Store, cfg: c, log: opt.Logger, now: opt.Now, met: opt.Metrics,
		byPair:    newThrottle(c.MaxFailures, c.FailureWindow, c.Lockout, c.MaxLockout),
		byIP:      newThrottle(c.MaxFailuresPerIP, c.FailureWindow, c.Lockout, c.MaxLockout),
		byUser:    newThrottle(c.MaxFailuresPerUser, c.FailureWindow, c.FailureWindow, c.FailureWindow),
		dummyCost: bcrypt.DefaultCost,
		onSignOut: opt.OnSignOut,
		hashing:   make(chan struct{}, max(1, runtime.NumCPU()/2)),
	}, nil
}

// Principal is who made a request: a signed-in user or an API token.
type Principal struct {
	UserID   string // "" for an API token
	Username string // the user's sign-in name, or TokenPrincipalPrefix + the token's name
	Name     string // display name (the token's name for a token)
	Role     store.Role
	Language string
	Token    bool   // authenticated with "Authorization: Bearer"
	CSRF     string // the session's CSRF token; "" for a token

	sessionHash string
}

// TokenPrincipalPrefix starts the Username of an API token's principal. No
// username can contain ':', so a token never passes for a person (an agent).
const TokenPrincipalPrefix = "token:"

type principalKey struct{}

// PrincipalFrom returns the principal Require put into a request's context.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// noAuthMetrics counts nothing.
type noAuthMetrics struct{}

func (noAuthMetrics) LoginFailed(string) {}

// Routes registers POST /api/v1/login, POST /api/v1/logout and GET /api/v1/me.
func (a *Auth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/login", a.login)
	mux.Handle("POST /api/v1/logout", a.Require(store.RoleAgent, http.HandlerFunc(a.logout)))
	mux.Handle("GET /api/v1/me", a.Require(store.RoleAgent, http.HandlerFunc(a.me)))
}

// Require serves h only to principals with at least role; the principal is
// in the request's context (PrincipalFrom). Without a valid session or token
// it answers 401; with a lower role, or a session request that changes state
// without the CSRF token, 403. Every refusal is logged.
func (a *Auth) Require(role store.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Identify(r)
		if err != nil {
			if errors.Is(err, ErrUnauthenticated) {
				a.log.Warn("auth: 401", "method", r.Method, "path", r.URL.Path, "source", r.RemoteAddr, "reason", err.Error())
				if _, cerr := r.Cookie(SessionCookie); cerr == nil {
					a.clearCookie(w, r)
				}
				writeError(w, http.StatusUnauthorized, "sign in first")
				return
			}
			a.log.Error("auth: identify", "path", r.URL.Path, "err", err)
			writeError(w, http.StatusServiceUnavailable, "the user store is not reachable; try again")
			return
		}
		if !p.Token && !safeMethod(r.Method) &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(p.CSRF)) != 1 {
			a.forbid(w, r, p, "missing or wrong CSRF token", "send the "+CSRFHeader+" header from sign-in")
			return
		}
		if !p.Role.AtLeast(role) {
			a.forbid(w, r, p, "role "+string(p.Role)+" below "+string(role), "your role may not do this")
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// Forbid answers 403 with msg and logs who was refused what and why. Other
// handlers use it for refusals of their own (another agent's call or offer,
// a WebSocket from a foreign Origin). The user logged is the request's
// principal (from Require, or else identified again).
func (a *Auth) Forbid(w http.ResponseWriter, r *http.Request, reason, msg string) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		p, _ = a.Identify(r)
	}
	a.forbid(w, r, p, reason, msg)
}

func (a *Auth) forbid(w http.ResponseWriter, r *http.Request, p Principal, reason, msg string) {
	a.log.Warn("auth: 403", "method", r.Method, "path", r.URL.Path, "user", p.Username, "role", string(p.Role),
		"token", p.Token, "source", r.RemoteAddr, "reason", reason)
	writeError(w, http.StatusForbidden, msg)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// Identify authenticates r by its bearer token or session cookie (a request
// with an Authorization header is judged by that header alone). It returns an
// error wrapping ErrUnauthenticated when neither is valid, and another error
// when the store cannot answer. It does not check CSRF: use it for the
// WebSocket upgrade (a GET), together with CheckOrigin.
func (a *Auth) Identify(r *http.Request) (Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return a.identifyToken(r.Context(), h)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, fmt.Errorf("%w: no session cookie or bearer token", ErrUnauthenticated)
	}
	return a.identifySession(r.Context(), c.Value)
}

func (a *Auth) identifyToken(ctx context.Context, header string) (Principal, error) {
	scheme, secret, ok := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Principal{}, fmt.Errorf("%w: Authorization is not \"Bearer <token>\"", ErrUnauthenticated)
	}
	hash := store.TokenHash(secret)
	t, err := a.st.GetToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown API token", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, err
	}
	if t.Disabled {
		return Principal{}, fmt.Errorf("%w: API token %q is disabled", ErrUnauthenticated, t.Name)
	}
	now := a.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := a.st.TouchToken(ctx, hash, now); err != nil {
			a.log.Warn("auth: record token use", "token", t.Name, "err", err)
		}
	}
	return Principal{Username: TokenPrincipalPrefix + t.Name, Name: t.Name, Role: t.Role, Token: true}, nil
}

func (a *Auth) identifySession(ctx context.Context, secret string) (Principal, error) {
	hash := store.TokenHash(secret)
	s, err := a.st.GetSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown or ended session", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, err
	}
	now := a.now()
	end := func(reason string) (Principal, error) {
		if err := a.st.DeleteSession(ctx, hash); err != nil {
			a.log.Warn("auth: delete ended session", "user_id", s.UserID, "err", err)
		}
		return Principal{}, fmt.Errorf("%w: session of user %s %s", ErrUnauthenticated, s.UserID, reason)
	}
	if !now.Before(s.ExpiresAt) {
		return end("expired")
	}
	if now.Sub(s.LastSeenAt) > a.cfg.IdleTimeout {
		return end("idle too long")
	}
	u, err := a.st.GetUser(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return end("has no user")
	}
	if err != nil {
		return Principal{}, err
	}
	if u.Disabled {
		return end("is disabled")
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := a.st.TouchSession(ctx, hash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.log.Warn("auth: record session use", "user", u.Username, "err", err)
		}
	}
	return Principal{UserID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Language: u.Language,
		CSRF: s.CSRF, sessionHash: hash}, nil
}

// CheckOrigin accepts a WebSocket upgrade whose Origin is the request's own
// host or one of AllowedOrigins. A request without Origin is accepted: only
// browsers send it, and only browsers can be tricked into cross-site requests.
func (a *Auth) CheckOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("origin %q is not an http(s) origin", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, allowed := range a.cfg.AllowedOrigins {
		if strings.EqualFold(allowed, origin) || strings.EqualFold(allowed, u.Host) {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not this server (%s) nor an allowed origin", origin, r.Host)
}

// meJSON is the signed-in principal as /login and /me show it.
type meJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	CSRF     string `json:"csrf"`
	Language string `json:"language"`
}

func (p Principal) json() meJSON {
	return meJSON{ID: p.UserID, Username: p.Username, Name: p.Name, Role: string(p.Role), CSRF: p.CSRF, Language: p.Language}
}

// maxLoginBody bounds the sign-in request body.
const maxLoginBody = 16 << 10

// login is POST /api/v1/login {"username", "password"}: it starts a session
// (see the file comment for the throttling of failures).
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	// Only JSON: an HTML form on another site cannot send it without a CORS
	// preflight, so no foreign page can sign a browser in (login CSRF).
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBody)).Decode(&req); err != nil {
		if !bodyTooLarge(w, err) {
			writeError(w, http.StatusBadRequest, "send JSON {\"username\": …, \"password\": …}")
		}
		return
	}
	userKey, src := strings.ToLower(strings.TrimSpace(req.Username)), sourceKey(r.RemoteAddr)
	pairKey := src + " " + userKey // a source has no space
	if a.throttled(w, userKey, src, pairKey) {
		return
	}
	if a.byUser.lockedFor(userKey, a.now()) > 0 {
		a.log.Debug("auth: sign-in slowed: many failures for this user from all sources", "user", userKey,
			"source", src, "wait", a.cfg.SlowDown)
		t := time.NewTimer(a.cfg.SlowDown)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	u, err := a.st.FindUser(r.Context(), userKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.Error("auth: sign-in: find user", "user", userKey, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the user store is not reachable; try again")
		return
	}
	known := err == nil
	if err := a.takeHashSlot(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "sign-in was cancelled while waiting its turn; try again")
		return
	}
	// Failures of other requests from this source may have locked it out
	// while this one waited (a burst of guesses): look again.
	if a.throttled(w, userKey, src, pairKey) {
		a.releaseHashSlot()
		return
	}
	match := a.comparePassword(known, u.PasswordHash, req.Password)
	a.releaseHashSlot()
	if !known || !match || u.Disabled {
		reason := LoginFailureWrongPassword
		switch {
		case !known:
			reason = LoginFailureUnknownUser
		case u.Disabled:
			reason = LoginFailureDisabled
		}
		a.failed(r, userKey, src, pairKey, reason)
		writeError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	now := a.now()
	a.byPair.reset(pairKey)

	secret, err := randomToken(32)
	if err != nil {
		a.log.Error("auth: sign-in: random", "err", err)
		writeError(w, http.StatusInternalServerError, "could not start a session")
		return
	}
	csrf, err := randomToken(24)
	if err != nil {
		a.log.Error("auth: sign-in: random", "err", err)
		writeError(w, http.StatusInternalServerError, "could not start a session")
		return
	}
	s := store.Session{Hash: store.TokenHash(secret), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(a.cfg.SessionTTL), CSRF: csrf}
	if err := a.st.CreateSession(r.Context(), s); err != nil {
		a.log.Error("auth: sign-in: create session", "user", u.Username, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the user store is not reachable; try again")
		return
	}
	if n, err := a.st.DeleteExpiredSessions(r.Context(), now); err != nil {
		a.log.Warn("auth: purge expired sessions", "err", err)
	} else if n > 0 {
		a.log.Debug("auth: purged expired sessions", "count", n)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secureRequest(r) || a.cfg.SecureCookie, Expires: s.ExpiresAt, MaxAge: int(a.cfg.SessionTTL / time.Second),
	})
	a.log.Info("auth: signed in", "user", u.Username, "role", string(u.Role), "source", src)
	p := Principal{UserID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Language: u.Language, CSRF: csrf}
	writeJSON(w, http.StatusOK, p.json())
}

// logout is POST /api/v1/logout: it ends the request's session (204) and
// signs the agent out of the queues. An API token is not a session and is
// not ended by this: a request with one is refused with 400 and the token
// keeps working; a token is stopped with `hotline token disable NAME`.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if p.Token {
		a.log.Warn("auth: sign-out with an API token refused", "token", p.Name, "source", r.RemoteAddr)
		writeError(w, http.StatusBadRequest, "an API token is not signed out: it stays valid; "+
			"stop it with `hotline token disable "+p.Name+"`")
		return
	}
	if p.sessionHash != "" {
		if err := a.st.DeleteSession(r.Context(), p.sessionHash); err != nil {
			a.log.Error("auth: sign-out", "user", p.Username, "err", err)
			writeError(w, http.StatusServiceUnavailable, "the user store is not reachable; try again")
			return
		}
		a.log.Info("auth: signed out", "user", p.Username)
	}
	if a.onSignOut != nil && !p.Token {
		a.onSignOut(p)
	}
	a.clearCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (a *Auth) me(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	writeJSON(w, http.StatusOK, p.json())
}

func (a *Auth) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secureRequest(r) || a.cfg.SecureCookie, MaxAge: -1})
}

// throttled answers 429 when the source, or the name from this source, is
// locked out, and reports whether it did.
func (a *Auth) throttled(w http.ResponseWriter, user, src, pair string) bool {
	now := a.now()
	bySrc, byPair := a.byIP.lockedFor(src, now), a.byPair.lockedFor(pair, now)
	wait := max(bySrc, byPair)
	if wait <= 0 {
		return false
	}
	secs := int((wait + time.Second - 1) / time.Second)
	what := "for this name from this address"
	if bySrc >= byPair {
		what = "from this address"
	}
	a.met.LoginFailed(LoginFailureThrottled)
	a.log.Warn("auth: sign-in throttled", "user", user, "source", src, "locked", what, "retry_after_s", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed sign-ins %s; try again in %d s", what, secs))
	return true
}

// failed records, logs and counts a failed sign-in, and logs the lock-outs
// (and the slow-down) it starts.
func (a *Auth) failed(r *http.Request, user, src, pair, reason string) {
	now := a.now()
	a.met.LoginFailed(reason)
	a.log.Warn("auth: 401 sign-in failed", "path", r.URL.Path, "user", user, "source", src, "reason", reason)
	if d := a.byPair.fail(pair, now); d > 0 {
		a.log.Warn("auth: sign-in locked out for this user from this source", "user", user, "source", src,
			"for", d, "failures", a.cfg.MaxFailures)
	}
	if d := a.byIP.fail(src, now); d > 0 {
		a.log.Warn("auth: sign-in locked out for this source", "source", src, "for", d,
			"failures", a.cfg.MaxFailuresPerIP)
	}
	if d := a.byUser.fail(user, now); d > 0 {
		a.log.Warn("auth: sign-ins for this user slowed: many failures from all sources", "user", user,
			"for", d, "failures", a.cfg.MaxFailuresPerUser, "wait", a.cfg.SlowDown)
	}
}

// takeHashSlot waits for one of the hashing slots; it fails only when ctx
// ends while waiting. releaseHashSlot gives it back.
func (a *Auth) takeHashSlot(ctx context.Context) error {
	select {
	case a.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Auth) releaseHashSlot() { <-a.hashing }

// comparePassword compares password with hash when the user is known, and
// with a dummy hash otherwise (an unknown user takes as long as a known
// one). The caller holds a hashing slot.
func (a *Auth) comparePassword(known bool, hash, password string) bool {
	if !known {
		a.dummyCompare(password)
		return false
	}
	return CheckPassword(hash, password)
}

func (a *Auth) dummyCompare(password string) {
	a.dummyOnce.Do(func() {
		pw, err := randomToken(16)
		if err == nil {
			a.dummyHash, _ = bcrypt.GenerateFromPassword([]byte(pw), a.dummyCost)
		}
	})
	if a.dummyHash != nil {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
	}
}

// sourceIP is the request's peer address without the port (the audit's
// source; throttling counts by sourceKey). Forwarded-for headers are not
// trusted: a proxy in front must be configured to keep the peer address
// meaningful.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Password rules: bcrypt looks at the first 72 bytes only, so longer
// passwords are refused rather than silently cut.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// HashPassword returns the bcrypt hash of password, refusing one shorter than
// MinPasswordLen characters or longer than MaxPasswordLen bytes.
func HashPassword(password string) (string, error) {
	if len([]rune(password)) < MinPasswordLen {
		return "", fmt.Errorf("password must have at least %d characters", MinPasswordLen)
	}
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("password must be at most %d bytes", MaxPasswordLen)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches the bcrypt hash.
func CheckPassword(hash, password string) bool {
	return hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// GeneratePassword returns a random password of 16 URL-safe characters
// (96 bits), for accounts created without one.
func GeneratePassword() (string, error) { return randomToken(12) }

// APITokenPrefix starts every API token, so a leaked one is easy to spot.
const APITokenPrefix = "hl_"

// GenerateAPIToken returns a new random API token secret (256 bits).
func GenerateAPIToken() (string, error) {
	t, err := randomToken(32)
	if err != nil {
		return "", err
	}
	return APITokenPrefix + t, nil
}

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// require guards an /api/v1 route with Auth.Require. Without an Auth (tests
// of the handlers alone) the route is open: serve always sets Options.Auth.
func (a *API) require(role store.Role, h http.HandlerFunc) http.Handler {
	if a.opt.Auth == nil {
		return h
	}
	return a.opt.Auth.Require(role, h)
}

// throttle counts failed sign-ins per key (a username or an address) and
// locks a key out for a growing time after too many.
type throttle struct {
	max                  int
	window, base, maxLck time.Duration

	mu   sync.Mutex
	keys map[string]*failures
}

// failures is one key's record.
type failures struct {
	count       int       // failures since first
	first       time.Time // start of the current window
	last        time.Time
	strikes     int // lock-outs so far; each doubles the next
	lockedUntil time.Time
}

// maxThrottleKeys bounds the memory a flood of made-up usernames can take.
const maxThrottleKeys = 100_000

func newThrottle(max int, window, base, maxLock time.Duration) *throttle {
	return &throttle{max: max, window: window, base: base, maxLck: maxLock, keys: map[string]*failures{}}
}

// lockedFor returns how long key stays locked out (0 when it is not).
func (t *throttle) lockedFor(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.keys[key]; f != nil && now.Before(f.lockedUntil) {
		return f.lockedUntil.Sub(now)
	}
	return 0
}

// fail records a failure; the max-th within the window starts a lock-out,
// whose length it returns (0 when none started).
func (t *throttle) fail(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f == nil {
		if len(t.keys) >= maxThrottleKeys {
			t.sweep(now)
		}
		f = &failures{first: now}
		t.keys[key] = f
	}
	if now.Sub(f.last) > t.maxLck+t.window {
		f.strikes = 0 // quiet for long: start the back-off over
	}
	if now.Sub(f.first) > t.window {
		f.count, f.first = 0, now
	}
	f.count++
	f.last = now
	if f.count >= t.max {
		lock := t.base << min(f.strikes, 30)
		if lock <= 0 || lock > t.maxLck {
			lock = t.maxLck
		}
		f.strikes++
		f.lockedUntil = now.Add(lock)
		f.count, f.first = 0, now
		return lock
	}
	return 0
}

// reset forgets key (a successful sign-in).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
}

// sweep drops records that no longer matter, and if that is not enough,
// arbitrary ones, so the map stays bounded. Lock held on entry.
func (t *throttle) sweep(now time.Time) {
	for k, f := range t.keys {
		if !now.Before(f.lockedUntil) && now.Sub(f.last) > t.maxLck+t.window {
			delete(t.keys, k)
		}
	}
	for k := range t.keys {
		if len(t.keys) < maxThrottleKeys {
			break
		}
		delete(t.keys, k)
	}
}
