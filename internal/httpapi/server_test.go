package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/store"
)

// dialFrom opens a TCP connection to addr from the loopback address ip.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	return c
}

// hostOf is the host:port of a test server's URL.
func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return u.Host
}

// Issue 14, finding 3: 1,000 clients that send their headers and half a body
// and then nothing do not keep an agent from signing in, and are dropped
// at the read timeout; afterwards nothing of them is left.
func TestSlowBodiesAreDroppedWhileAnAgentSignsIn(t *testing.T) {
	const slow, sources = 1000, 4
	cfg := DefaultServerConfig()
	cfg.ReadHeaderTimeout, cfg.ReadTimeout = time.Second, 2*time.Second
	cfg.MaxConnections, cfg.MaxConnectionsPerSource = slow+50, slow/sources+10
	e := newAuthEnvTuned(t, func(e *authEnv) { e.server = &cfg })
	e.addUser("anna", store.RoleAgent, "correct horse")
	addr := hostOf(t, e.srv.URL)
	goroutines := runtime.NumGoroutine()

	var sent sync.WaitGroup
	sent.Add(slow)
	type drop struct {
		after time.Duration
		err   error
	}
	drops := make(chan drop, slow)
	var clients sync.WaitGroup
	for i := range slow {
		clients.Add(1)
		go func() {
			defer clients.Done()
			ip := fmt.Sprintf("127.0.0.%d", 2+i%sources)
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				sent.Done()
				drops <- drop{err: err}
				return
			}
			defer func() { _ = c.Close() }()
			_, err = io.WriteString(c, "POST /api/v1/login HTTP/1.1\r\nHost: hotline\r\n"+
				"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"username\": \"anna\", ")
			start := time.Now()
			sent.Done()
			if err != nil {
				drops <- drop{err: err}
				return
			}
			// The rest of the body never comes; the server must hang up.
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			_, err = io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				drops <- drop{err: fmt.Errorf("still open after 15 s")}
				return
			}
			drops <- drop{after: time.Since(start)}
		}()
	}
	waited := make(chan struct{})
	go func() { sent.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(15 * time.Second):
		t.Fatal("the slow clients could not all connect")
	}

	start := time.Now()
	r := e.browserFrom("127.0.0.1").login("anna", "correct horse")
	require.Equal(t, http.StatusOK, r.code, "%v", r.body)
	require.Less(t, time.Since(start), 3*time.Second, "the agent signs in within a few seconds")

	clients.Wait()
	close(drops)
	var longest time.Duration
	for d := range drops {
		require.NoError(t, d.err)
		longest = max(longest, d.after)
	}
	require.Less(t, longest, cfg.ReadTimeout+3*time.Second, "every slow body is dropped at the read timeout")
	require.Eventually(t, func() bool { return e.ln.Open() <= 1 }, 5*time.Second, 20*time.Millisecond,
		"the dropped connections free their places")
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines+10 }, 5*time.Second,
		50*time.Millisecond, "nothing is left of the slow clients: %d goroutines, %d before", runtime.NumGoroutine(), goroutines)
}

// readRefusal reads what the server says on c within a short while: the
// 503 of a refused connection, or "" for one that was let in.
func readRefusal(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

// Connections over the per-source or total cap are answered 503 and closed
// at once; closing one frees its place; other sources still get in.
func TestConnectionCaps(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.MaxConnections, cfg.MaxConnectionsPerSource = 8, 5
	e := newAuthEnvTuned(t, func(e *authEnv) { e.server = &cfg })
	addr := hostOf(t, e.srv.URL)

	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			_ = c.Close()
		}
	})
	for range 5 {
		c := dialFrom(t, "127.0.0.2", addr)
		held = append(held, c)
	}
	require.Eventually(t, func() bool { return e.ln.Open() == 5 }, 2*time.Second, 10*time.Millisecond)
	for _, c := range held {
		require.Empty(t, readRefusal(t, c), "within the caps")
	}
	over := dialFrom(t, "127.0.0.2", addr)
	require.Equal(t, "HTTP/1.1 503 Service Unavailable\r\n", readRefusal(t, over), "the 6th from one source")
	_ = over.Close()
	require.Contains(t, e.logs.String(), "too many connections")
	require.Contains(t, e.logs.String(), "cap=per_source")

	for range 3 {
		c := dialFrom(t, "127.0.0.3", addr)
		held = append(held, c)
		require.Empty(t, readRefusal(t, c), "another source gets in")
	}
	over = dialFrom(t, "127.0.0.4", addr)
	require.Equal(t, "HTTP/1.1 503 Service Unavailable\r\n", readRefusal(t, over), "the 9th in all")
	_ = over.Close()

	_ = held[0].Close()
	held = held[1:]
	require.Eventually(t, func() bool { return e.ln.Open() == 7 }, 2*time.Second, 10*time.Millisecond)
	res, err := (&http.Client{Timeout: 5 * time.Second}).Get(e.srv.URL + "/healthz")
	require.NoError(t, err, "a freed place takes a new connection")
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// A body over the limit is answered 413 with the limit in the message:
// by the server's limit before the handler runs when the length is
// declared, through MaxBytesReader when it is not, and by a route's own
// tighter limit (sign-in).
func TestBodyLimits(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.MaxBodyBytes = 100 << 10
	e := newAuthEnvTuned(t, func(e *authEnv) { e.server = &cfg })

	post := func(body io.Reader, length int64) response {
		req, err := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/api/v1/login", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = length
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer func() { _ = res.Body.Close() }()
		raw, _ := io.ReadAll(res.Body)
		return response{code: res.StatusCode, body: map[string]any{"error": string(raw)}}
	}
	big := `{"username": "` + strings.Repeat("a", 200<<10) + `"}`
	r := post(strings.NewReader(big), int64(len(big)))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.code)
	require.Contains(t, r.str("error"), "the body is longer than 102400 bytes")

	mid := `{"username": "` + strings.Repeat("a", 20<<10) + `"}`
	r = post(strings.NewReader(mid), int64(len(mid)))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.code, "the sign-in route's own limit")
	require.Contains(t, r.str("error"), "the body is longer than 16384 bytes")
	r = post(io.MultiReader(strings.NewReader(mid)), -1) // chunked: no declared length
	require.Equal(t, http.StatusRequestEntityTooLarge, r.code)

	// A route without a limit of its own is bounded by the server's.
	var got atomic.Int64
	h := limitBodies(cfg.MaxBodyBytes, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		got.Store(n)
		if !bodyTooLarge(w, err) {
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	t.Cleanup(func() { _ = srv.Close(); wg.Wait() })
	res, err := http.Post("http://"+ln.Addr().String()+"/", "application/octet-stream",
		io.MultiReader(strings.NewReader(big)))
	require.NoError(t, err)
	msg, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	require.Contains(t, string(msg), "the body is longer than 102400 bytes")
	require.LessOrEqual(t, got.Load(), cfg.MaxBodyBytes, "no more than the limit was read")
}

// A long response on a streaming writer outlives WriteTimeout and
// ReadTimeout (each write has WriteTimeout), and its request's context is
// not cancelled by the read deadline; without it the response is cut.
func TestStreamingOutlivesWriteTimeout(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	const chunks, chunk = 10, 16 << 10
	ctxErr := make(chan error, 2)
	handler := func(stream bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if stream {
				w = streaming(w, r)
			}
			w.Header().Set("Content-Length", fmt.Sprint(chunks*chunk))
			defer func() { ctxErr <- r.Context().Err() }()
			for i := range chunks {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				if _, err := w.Write(make([]byte, chunk)); err != nil {
					return
				}
				_ = http.NewResponseController(w).Flush()
			}
		})
	}
	get := func(stream bool) (int64, error, error) {
		ln, err := Listen("127.0.0.1:0", cfg, nil)
		require.NoError(t, err)
		srv := NewServer(cfg, handler(stream), nil)
		var wg sync.WaitGroup
		wg.Go(func() { _ = srv.Serve(ln) })
		defer func() { _ = srv.Close(); wg.Wait() }()
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		require.NoError(t, err)
		defer func() { _ = res.Body.Close() }()
		n, err := io.Copy(io.Discard, res.Body)
		select {
		case herr := <-ctxErr:
			return n, err, herr
		case <-time.After(5 * time.Second):
			t.Fatal("the handler did not return")
			return 0, nil, nil
		}
	}
	n, err, herr := get(true)
	require.NoError(t, err)
	require.Equal(t, int64(chunks*chunk), n, "the whole stream, 1 s long")
	require.NoError(t, herr, "the request's context lived to the end")

	n, err, _ = get(false)
	require.True(t, err != nil || n < chunks*chunk, "without streaming the response is cut at WriteTimeout")
}

func TestServerConfigValidate(t *testing.T) {
	good := DefaultServerConfig()
	require.NoError(t, good.Validate())
	bad := good
	bad.ReadTimeout, bad.IdleTimeout, bad.MaxHeaderBytes, bad.MaxBodyBytes = 0, -1, 10, 1
	bad.MaxConnections, bad.MaxConnectionsPerSource = 0, 0
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"read_timeout: must be positive", "idle_timeout: must be positive",
		"max_header_bytes: ", "max_body_bytes: must be at least 65536", "max_connections: ", "max_connections_per_source: "} {
		require.Contains(t, err.Error(), want)
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2:5000":          "127.0.0.2",
		"[::ffff:10.1.2.3]:80":    "10.1.2.3",
		"[2001:db8:1:2:3::4]:443": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":       "fe80::/64",
		"pipe":                    "pipe",
	} {
		require.Equal(t, want, sourceKey(in), in)
	}
}
