package httpapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/web"
)

// headersEnv serves the API with the pages and a metrics handler the way
// `hotline serve` does: NewServer on a Listen listener, over TLS when certs
// is set.
type headersEnv struct {
	*authEnv
	base   string
	client *http.Client
}

func newHeadersEnv(t *testing.T, cfg ServerConfig, certs *Certificates) *headersEnv {
	t.Helper()
	e := newAuthEnv(t)
	e.addUser("anna", store.RoleAgent, "correct horse")
	api := New(Options{Calls: e.st, Auth: e.auth, Pages: web.Handler(),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "up 1\n") })})
	ln, err := Listen("127.0.0.1:0", cfg, nil)
	require.NoError(t, err)
	srv := NewServer(cfg, api, nil)
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	scheme := "http"
	if certs != nil {
		srv.TLSConfig = certs.TLSConfig()
		pool := x509.NewCertPool()
		pool.AddCert(certs.Leaf())
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() { served <- Serve(srv, ln) }()
	t.Cleanup(func() {
		client.CloseIdleConnections()
		require.NoError(t, srv.Close())
		require.ErrorIs(t, <-served, http.ErrServerClosed)
	})
	return &headersEnv{authEnv: e, base: scheme + "://" + ln.Addr().String(), client: client}
}

func (e *headersEnv) get(path string, hdr ...string) *http.Response {
	e.t.Helper()
	return e.send("GET", path, "", hdr...)
}

func (e *headersEnv) send(method, path, body string, hdr ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.base+path, strings.NewReader(body))
	require.NoError(e.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.client.Do(req)
	require.NoError(e.t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	require.NoError(e.t, res.Body.Close())
	return res
}

func (e *headersEnv) login() *http.Response {
	e.t.Helper()
	return e.send("POST", "/api/v1/login", `{"username":"anna","password":"correct horse"}`, "Content-Type", "application/json")
}

// requireSecurityHeaders checks the headers every answer must carry.
func requireSecurityHeaders(t *testing.T, what string, res *http.Response) {
	t.Helper()
	require.Equal(t, ContentSecurityPolicy, res.Header.Get("Content-Security-Policy"), what)
	require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), what)
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), what)
	require.Equal(t, "same-origin", res.Header.Get("Referrer-Policy"), what)
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.MaxBodyBytes = minBodyLimit
	e := newHeadersEnv(t, cfg, nil)
	for _, c := range []struct {
		what, method, path, body string
		code                     int
	}{
		{"a page", "GET", "/login", "", http.StatusOK},
		{"a script", "GET", "/static/agent.js", "", http.StatusOK},
		{"a redirect", "GET", "/", "", http.StatusFound},
		{"an API answer", "GET", "/healthz", "", http.StatusOK},
		{"an API error", "GET", "/api/v1/me", "", http.StatusUnauthorized},
		{"a page not found", "GET", "/no-such-page", "", http.StatusNotFound},
		{"a body over the limit", "POST", "/api/v1/login", strings.Repeat("x", minBodyLimit+1), http.StatusRequestEntityTooLarge},
		{"metrics", "GET", "/metrics", "", http.StatusOK},
	} {
		res := e.send(c.method, c.path, c.body)
		require.Equal(t, c.code, res.StatusCode, c.what)
		requireSecurityHeaders(t, c.what, res)
		require.Empty(t, res.Header.Get("Strict-Transport-Security"), "%s: no HSTS on plain HTTP", c.what)
	}
	// A proxy's header is not trusted: the listener is plain HTTP.
	res := e.login()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.False(t, res.Cookies()[0].Secure)
	res = e.get("/healthz", "X-Forwarded-Proto", "https")
	require.Empty(t, res.Header.Get("Strict-Transport-Security"), "X-Forwarded-Proto is not trusted")
}

func TestHTTPSSendsHSTSAndSecureCookies(t *testing.T) {
	dir := t.TempDir()
	writeTestPair(t, dir, "a.example")
	certs, err := LoadCertificates(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	require.NoError(t, err)
	e := newHeadersEnv(t, DefaultServerConfig(), certs)

	for _, path := range []string{"/agent/", "/healthz", "/api/v1/me"} {
		res := e.get(path)
		requireSecurityHeaders(t, path, res)
		require.Equal(t, HSTS, res.Header.Get("Strict-Transport-Security"), path)
		require.Equal(t, 2, res.ProtoMajor, "HTTP/2 over TLS")
	}
	res := e.login()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Len(t, res.Cookies(), 1)
	require.True(t, res.Cookies()[0].Secure, "the session cookie over HTTPS is Secure")
	require.True(t, res.Cookies()[0].HttpOnly)

	// Plain HTTP to the HTTPS listener gets no page.
	plain := &http.Client{Timeout: 5 * time.Second}
	res, err = plain.Get("http://" + strings.TrimPrefix(e.base, "https://") + "/healthz")
	if err == nil {
		_ = res.Body.Close()
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "Go answers plain HTTP on a TLS port with 400")
	}
}

func TestBehindTLSProxy(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.BehindTLSProxy = true
	e := newHeadersEnv(t, cfg, nil)
	for _, path := range []string{"/login", "/healthz", "/api/v1/me"} {
		res := e.get(path)
		requireSecurityHeaders(t, path, res)
		require.Equal(t, HSTS, res.Header.Get("Strict-Transport-Security"), path)
	}
	res := e.login()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, res.Cookies()[0].Secure, "behind a TLS proxy the cookie is Secure")
	// The cookie that clears a dead session is Secure too (a browser would
	// not otherwise replace the Secure one).
	res = e.get("/api/v1/me", "Cookie", SessionCookie+"=not-a-session")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Len(t, res.Cookies(), 1)
	require.Equal(t, -1, res.Cookies()[0].MaxAge)
	require.True(t, res.Cookies()[0].Secure)
}

func TestMetricsToken(t *testing.T) {
	open := newHeadersEnv(t, DefaultServerConfig(), nil)
	require.Equal(t, http.StatusOK, open.get("/metrics").StatusCode, "no token configured: open")

	cfg := DefaultServerConfig()
	cfg.MetricsToken = "s3cret-metrics-token"
	e := newHeadersEnv(t, cfg, nil)
	for _, c := range []struct {
		auth string
		code int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer s3cret-metrics-tokenX", http.StatusUnauthorized},
		{"Basic czNjcmV0LW1ldHJpY3MtdG9rZW4=", http.StatusUnauthorized},
		{"Bearer s3cret-metrics-token", http.StatusOK},
		{"bearer s3cret-metrics-token", http.StatusOK},
	} {
		res := e.get("/metrics", "Authorization", c.auth)
		require.Equal(t, c.code, res.StatusCode, "Authorization: %q", c.auth)
		requireSecurityHeaders(t, "/metrics", res)
		if c.code == http.StatusUnauthorized {
			require.Equal(t, `Bearer realm="metrics"`, res.Header.Get("WWW-Authenticate"))
		}
	}
	require.Equal(t, http.StatusOK, e.get("/healthz").StatusCode, "other routes need no metrics token")
	require.Equal(t, http.StatusOK, e.get("/login").StatusCode)
}

func TestCertificatesReload(t *testing.T) {
	dir := t.TempDir()
	writeTestPair(t, dir, "old.example")
	certs, err := LoadCertificates(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	require.NoError(t, err)
	ln, err := Listen("127.0.0.1:0", DefaultServerConfig(), nil)
	require.NoError(t, err)
	srv := NewServer(DefaultServerConfig(), http.NotFoundHandler(), nil)
	srv.TLSConfig = certs.TLSConfig()
	go func() { _ = Serve(srv, ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		require.NoError(t, err)
		defer func() { _ = c.Close() }()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	require.Equal(t, "old.example", served())

	writeTestPair(t, dir, "new.example")
	require.NoError(t, certs.Reload())
	require.Equal(t, "new.example", served(), "a new handshake gets the new certificate")
	require.Equal(t, "new.example", certs.Leaf().Subject.CommonName)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600))
	require.Error(t, certs.Reload())
	require.Equal(t, "new.example", served(), "a broken pair keeps the one in use")

	_, err = LoadCertificates(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "key.pem"))
	require.ErrorContains(t, err, "missing.pem")
}

func TestServerConfigValidateTLS(t *testing.T) {
	for _, c := range []struct {
		cert, key, token string
		want             string
	}{
		{"c.pem", "k.pem", "", ""},
		{"", "", "a-token", ""},
		{"c.pem", "", "", "tls_key: must be set with tls_cert"},
		{"", "k.pem", "", "tls_cert: must be set with tls_key"},
		{"", "", "two words", "metrics_token: must not contain spaces"},
	} {
		cfg := DefaultServerConfig()
		cfg.TLSCert, cfg.TLSKey, cfg.MetricsToken = c.cert, c.key, c.token
		err := cfg.Validate()
		if c.want == "" {
			require.NoError(t, err)
			require.Equal(t, c.cert != "", cfg.TLS())
			continue
		}
		require.EqualError(t, err, c.want)
	}
}

// writeTestPair writes a self-signed cert.pem and key.pem for cn (and
// 127.0.0.1) into dir, replacing what is there.
func writeTestPair(t *testing.T, dir, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{cn}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
}
