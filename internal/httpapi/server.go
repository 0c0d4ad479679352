package httpapi

// The HTTP server's limits: no client, slow or many, can hold the node's
// connections, file descriptors or memory.
//
//   - Timeouts: the headers must arrive within ReadHeaderTimeout and the
//     whole request, body included, within ReadTimeout; the response must be
//     written within WriteTimeout; a kept-alive connection idle for
//     IdleTimeout is closed. The agent WebSocket lifts both deadlines once
//     upgraded (it has its own keep-alive), and recording audio replaces the
//     whole-response WriteTimeout by a rolling one: each chunk must be taken
//     by the client within WriteTimeout (see longLived and streaming).
//   - Sizes: headers are at most MaxHeaderBytes, and every request body is
//     read through http.MaxBytesReader with MaxBodyBytes (routes bound their
//     own bodies tighter); a body over the limit is answered 413.
//   - Connections: Listen caps the open connections in total and per source
//     (an IPv4 address, or an IPv6 /64); one over a cap is refused at once
//     with 503 and closed, so a flood costs no more than the cap.
//
// HTTPS: with TLSCert and TLSKey set the server speaks only TLS (1.2 and
// up, HTTP/2 offered; the agent WebSocket stays on HTTP/1.1). The pair is
// read by a Certificates holder that Reload swaps (SIGHUP), so a renewed
// certificate is served from the next handshake on without a restart.
// Every answer carries the security headers (headers.go).

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ServerConfig are the HTTP listener's limits (the http section of the
// configuration, next to its addr).
type ServerConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included (default 30s).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response (default 60s); for recording
	// audio it bounds each chunk instead, and the agent WebSocket is exempt.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a kept-alive connection with no request for this
	// long (default 2m).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's headers (default 64 KiB).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxBodyBytes bounds every request body (default 1 MiB, at least 64 KiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxConnections caps the open HTTP connections, WebSockets included
	// (default 2000).
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerSource caps the open connections from one IPv4
	// address or IPv6 /64 (default 200; an office behind NAT is one source).
	MaxConnectionsPerSource int `yaml:"max_connections_per_source"`

	// TLSCert and TLSKey are PEM files of the server's certificate (its
	// chain after it) and private key; with both set the listener speaks
	// HTTPS only, and SIGHUP reads them again. A relative path is relative
	// to the working directory. `hotline cert` writes a self-signed pair.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// BehindTLSProxy says a TLS-terminating proxy in front serves HTTPS:
	// cookies are marked Secure and HSTS is sent although this listener
	// speaks plain HTTP. Nothing else of the proxy's is trusted (no
	// X-Forwarded-For or -Proto).
	BehindTLSProxy bool `yaml:"behind_tls_proxy"`
	// MetricsToken, when set, is the bearer token GET /metrics needs
	// ("Authorization: Bearer <token>"); without it /metrics answers 401.
	MetricsToken string `yaml:"metrics_token"`
}

// TLS reports whether the listener speaks HTTPS.
func (c *ServerConfig) TLS() bool { return c.TLSCert != "" }

// minBodyLimit is the smallest MaxBodyBytes: the largest body a route takes
// (a ticket's, tickets.go) must fit.
const minBodyLimit = maxTicketBody

// DefaultServerConfig returns the defaults listed on ServerConfig.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		ReadHeaderTimeout:       10 * time.Second,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             2 * time.Minute,
		MaxHeaderBytes:          64 << 10,
		MaxBodyBytes:            1 << 20,
		MaxConnections:          2000,
		MaxConnectionsPerSource: 200,
	}
}

// Validate reports every out-of-range limit, joined; each message starts
// with the field's YAML name ("read_timeout: …").
func (c *ServerConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read_header_timeout", c.ReadHeaderTimeout}, {"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout}, {"idle_timeout", c.IdleTimeout},
	} {
		if d.v <= 0 {
			bad(d.name, "must be positive, got %v", d.v)
		}
	}
	if c.ReadHeaderTimeout > c.ReadTimeout && c.ReadTimeout > 0 {
		bad("read_header_timeout", "must not be longer than read_timeout (%v)", c.ReadTimeout)
	}
	if c.MaxHeaderBytes < 4<<10 || c.MaxHeaderBytes > 1<<20 {
		bad("max_header_bytes", "must be from 4096 to 1048576, got %d", c.MaxHeaderBytes)
	}
	if c.MaxBodyBytes < minBodyLimit {
		bad("max_body_bytes", "must be at least %d (a ticket's body), got %d", minBodyLimit, c.MaxBodyBytes)
	}
	if c.MaxConnections < 1 {
		bad("max_connections", "must be at least 1, got %d", c.MaxConnections)
	}
	if c.MaxConnectionsPerSource < 1 {
		bad("max_connections_per_source", "must be at least 1, got %d", c.MaxConnectionsPerSource)
	} else if c.MaxConnectionsPerSource > c.MaxConnections && c.MaxConnections >= 1 {
		bad("max_connections_per_source", "must not be more than max_connections (%d)", c.MaxConnections)
	}
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		bad("tls_key", "must be set with tls_cert")
	case c.TLSKey != "" && c.TLSCert == "":
		bad("tls_cert", "must be set with tls_key")
	}
	if strings.ContainsAny(c.MetricsToken, " \t\r\n") {
		bad("metrics_token", "must not contain spaces")
	}
	return errors.Join(errs...)
}

// NewServer builds the http.Server for h with cfg's timeouts and sizes;
// every request body is bounded by MaxBodyBytes, and every answer has the
// security headers (headers.go). Serve it with Serve on a listener from
// Listen, which caps the connections; for HTTPS set its TLSConfig from a
// Certificates first. Server errors (failed accepts and handshakes,
// handler panics) go to log as warnings.
func NewServer(cfg ServerConfig, h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           secureHeaders(cfg, limitBodies(cfg.MaxBodyBytes, h)),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
}

// Serve serves srv on ln until srv shuts down: HTTPS when srv.TLSConfig
// is set (from Certificates.TLSConfig), plain HTTP otherwise.
func Serve(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// Certificates holds the server's TLS certificate, read from a PEM pair;
// Reload reads the files again and swaps it, and every handshake after
// takes the new one (the open connections keep theirs). It is safe for
// concurrent use.
type Certificates struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificates reads the pair certFile (the certificate, its chain
// after it) and keyFile.
func LoadCertificates(certFile, keyFile string) (*Certificates, error) {
	c := &Certificates{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the pair again; on an error the certificate in use stays.
func (c *Certificates) Reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls_cert %s, tls_key %s: %w", c.certFile, c.keyFile, err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("tls_cert %s: %w", c.certFile, err)
		}
	}
	c.cur.Store(&pair)
	return nil
}

// Leaf is the certificate served now.
func (c *Certificates) Leaf() *x509.Certificate { return c.cur.Load().Leaf }

// TLSConfig is the server side of TLS with this certificate: TLS 1.2 and up.
func (c *Certificates) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// limitBodies refuses a request that declares a body over limit with 413
// before its handler runs, and reads every other body through
// http.MaxBytesReader, so a body without a length is cut at limit too.
func limitBodies(limit int64, h http.Handler) http.Handler {
	if limit <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestEntityTooLarge, tooLargeMessage(limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

// tooLargeMessage is the error of a 413, the same on every route.
func tooLargeMessage(limit int64) string {
	return fmt.Sprintf("the body is longer than %d bytes", limit)
}

// bodyTooLarge answers 413 when err comes from a MaxBytesReader (the
// route's or the server's) and reports whether it did.
func bodyTooLarge(w http.ResponseWriter, err error) bool {
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		return false
	}
	writeError(w, http.StatusRequestEntityTooLarge, tooLargeMessage(tooBig.Limit))
	return true
}

// longLived lifts the server's read and write deadlines from a request that
// becomes a long-lived connection (the agent WebSocket, before its upgrade):
// the protocol on it keeps its own time. A writer without deadlines
// (httptest.ResponseRecorder) is left alone.
func longLived(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// streaming wraps w for a long response (recording audio): the server's
// WriteTimeout then bounds each write instead of the whole response, so a
// long recording plays to the end while a client that stops reading is
// still dropped. The read deadline is lifted (the request has no body, and
// its end must not cancel the request's context mid-stream).
func streaming(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil || srv.WriteTimeout <= 0 {
		return w
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	return &rollingWriter{ResponseWriter: w, rc: rc, every: srv.WriteTimeout}
}

// rollingWriter moves the connection's write deadline before each write.
type rollingWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	every time.Duration
}

// Write implements http.ResponseWriter.
func (s *rollingWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.every))
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *rollingWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Listen listens on addr (TCP) and caps the connections it hands out at
// cfg.MaxConnections in total and cfg.MaxConnectionsPerSource per source.
// A connection over a cap is answered 503 and closed at once; refusals are
// logged at most once a second per cap, with how many there were.
func Listen(addr string, cfg ServerConfig, log *slog.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return LimitListener(ln, cfg.MaxConnections, cfg.MaxConnectionsPerSource, log), nil
}

// Listener is a net.Listener that caps its open connections, in total and
// per source. It is safe for concurrent use.
type Listener struct {
	net.Listener
	max, perSource int
	log            *slog.Logger

	mu       sync.Mutex
	open     int
	bySource map[string]int
	refused  map[string]int       // refusals since the last log line, per cap
	logged   map[string]time.Time // last log line per cap
}

// LimitListener caps ln's connections at max in total and perSource per
// source (values below 1 mean no cap).
func LimitListener(ln net.Listener, max, perSource int, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: ln, max: max, perSource: perSource, log: log,
		bySource: map[string]int{}, refused: map[string]int{}, logged: map[string]time.Time{}}
}

// Accept waits for a connection within the caps and returns it; closing it
// frees its place. Connections over a cap are refused and not returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceKey(c.RemoteAddr().String())
		if which := l.admit(src); which != "" {
			refuse(c)
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.release(src) }}, nil
	}
}

// Open returns the number of connections open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// admit takes a place for a connection from src, or returns the cap it
// would exceed ("total" or "per_source").
func (l *Listener) admit(src string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	which, limit := "", 0
	switch {
	case l.max > 0 && l.open >= l.max:
		which, limit = "total", l.max
	case l.perSource > 0 && l.bySource[src] >= l.perSource:
		which, limit = "per_source", l.perSource
	default:
		l.open++
		l.bySource[src]++
		return ""
	}
	l.refused[which]++
	if now := time.Now(); now.Sub(l.logged[which]) >= time.Second {
		l.log.Warn("http: connection refused: too many connections", "cap", which, "limit", limit,
			"source", src, "open", l.open, "refused", l.refused[which])
		l.logged[which], l.refused[which] = now, 0
	}
	return which
}

func (l *Listener) release(src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src) // the map holds only sources with open connections
	}
}

// refusal is what a connection over a cap reads before it is closed.
const refusal = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n" +
	"Retry-After: 5\r\nContent-Length: 21\r\n\r\ntoo many connections\n"

// refuse answers a refused connection and closes it without waiting: its
// send buffer is empty, and the deadline bounds the write anyway.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = io.WriteString(c, refusal)
	_ = c.Close()
}

// limitedConn frees its place in the Listener when closed (once).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close implements net.Conn.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes a TCP connection, as http.Server does before a
// lingering close.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets file responses use the connection's own ReadFrom (sendfile).
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// sourceKey is the source a connection or request is counted against: the
// IPv4 address, or the /64 of an IPv6 address (one host's usual share),
// from a "host:port". Anything else counts as itself.
func sourceKey(hostport string) string {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		host, _, err := net.SplitHostPort(hostport)
		if err != nil {
			return hostport
		}
		return host
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
