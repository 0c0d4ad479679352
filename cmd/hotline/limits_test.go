package main

// End-to-end tests of the HTTP limits and the sign-in throttling (issue 14,
// findings 3 and 5) on a whole node: slow bodies are dropped at the read
// timeout while agents sign in and keep their softphone sockets, bodies over
// the limit get 413, and wrong passwords from one source lock that source
// out, never the agent; and 200 slowloris connections cannot keep a call
// from completing (issue 13).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/httpapi"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/metrics"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
)

var _ httpapi.AuthMetrics = (*metrics.Auth)(nil)

// startLimitedNode is a node with the agent queues and these http limits
// (a YAML flow mapping's entries, after addr).
func startLimitedNode(t *testing.T, httpLimits string) *testNode {
	t.Helper()
	return startTestNode(t, nodeOptions{http: httpLimits, extra: agentQueues, rtpPorts: "45000-45999", drain: 2 * time.Second})
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (Linux routes all of 127/8 to lo).
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// loginFrom signs in from ip and returns the cookie, the status and the error message.
func loginFrom(t *testing.T, c *http.Client, httpAddr, username, password string) (cookie string, status int, msg string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	res, err := c.Post("http://"+httpAddr+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	var out struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	for _, ck := range res.Cookies() {
		cookie = ck.Name + "=" + ck.Value
	}
	return cookie, res.StatusCode, out.Error
}

// 1,000 POST /api/v1/login that send half a body and stop: an agent signs
// in within a few seconds and keeps a softphone socket longer than every
// timeout, the slow requests are dropped at the read timeout, and the node
// holds no connection of theirs afterwards.
func TestSlowBodiesDoNotKeepAgentsOut(t *testing.T) {
	const slow, sources = 1000, 4
	n := startLimitedNode(t, "read_header_timeout: 1s, read_timeout: 2s, write_timeout: 2s, idle_timeout: 2s, "+
		"max_connections: 1100, max_connections_per_source: 260")
	password := n.addUser("anna", store.RoleAgent)
	addr := n.HTTPAddr()

	var sent, clients sync.WaitGroup
	sent.Add(slow)
	errs := make(chan error, slow)
	started := time.Now()
	for i := range slow {
		clients.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%sources))}, Timeout: 10 * time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				sent.Done()
				errs <- err
				return
			}
			defer func() { _ = c.Close() }()
			_, err = io.WriteString(c, "POST /api/v1/login HTTP/1.1\r\nHost: hotline\r\n"+
				"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"username\": ")
			sent.Done()
			if err != nil {
				errs <- err
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			if _, err := io.Copy(io.Discard, c); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					errs <- fmt.Errorf("a slow body was not dropped within 15 s")
				}
			}
		})
	}
	sent.Wait()

	agent := clientFrom(t, "127.0.0.1")
	start := time.Now()
	cookie, status, msg := loginFrom(t, agent, addr, "anna", password)
	require.Equal(t, http.StatusOK, status, msg)
	require.Less(t, time.Since(start), 3*time.Second, "anna signs in within a few seconds")
	c, _ := connectAgent(t, addr, cookie)

	clients.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Less(t, time.Since(started), 12*time.Second, "the slow bodies were dropped at the read timeout")
	ln := n.httpLn.(*httpapi.Listener)
	require.Eventually(t, func() bool { return ln.Open() <= 2 }, 5*time.Second, 20*time.Millisecond,
		"only the agent's connections are left: %d open", ln.Open())

	// The softphone socket outlived read_timeout and write_timeout.
	time.Sleep(time.Second) // past 3 s of timeouts since the socket opened, with the flood above
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Send(ctx, softphone.NotReady{Reason: "break"}))
	waitState(t, c, softphone.StateNotReady)
	require.NoError(t, c.Err(), "the agent socket is still up")
}

// A body over http.max_body_bytes is refused with 413 and a clear message.
func TestOversizedBodyGets413(t *testing.T) {
	n := startLimitedNode(t, "max_body_bytes: 65536")
	big := `{"username": "` + strings.Repeat("x", 100<<10) + `", "password": "x"}`
	res, err := http.Post("http://"+n.HTTPAddr()+"/api/v1/login", "application/json", strings.NewReader(big))
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	raw, _ := io.ReadAll(res.Body)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	require.Contains(t, string(raw), "the body is longer than 65536 bytes")
}

// Wrong passwords for boris from 127.0.0.2 lock that source out; boris
// signs in from 127.0.0.1 all the while. The failures are counted.
func TestLockoutFromOneSourceWhileTheAgentSignsIn(t *testing.T) {
	n := startLimitedNode(t, "max_connections_per_source: 50")
	password := n.addUser("boris", store.RoleAgent)
	addr := n.HTTPAddr()
	guesser, boris := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.1")

	for i := range 5 {
		_, status, _ := loginFrom(t, guesser, addr, "boris", fmt.Sprintf("guess %d", i))
		require.Equal(t, http.StatusUnauthorized, status)
	}
	_, status, msg := loginFrom(t, guesser, addr, "boris", password)
	require.Equal(t, http.StatusTooManyRequests, status, "the guessing source is locked out")
	require.Contains(t, msg, "from this address")

	for range 3 {
		cookie, status, msg := loginFrom(t, boris, addr, "boris", password)
		require.Equal(t, http.StatusOK, status, "boris from his own desk: %s", msg)
		require.NotEmpty(t, cookie)
	}
	require.Equal(t, "5", n.metric(`hotline_login_failures_total{reason="wrong_password"}`))
	require.Equal(t, "1", n.metric(`hotline_login_failures_total{reason="throttled"}`))
	require.Contains(t, n.logs.String(), "sign-in locked out for this user from this source")
}

// POST /api/v1/logout with an API token is refused with 400, and the token
// keeps working (it is stopped with `hotline token disable`).
func TestLogoutWithAnAPIToken(t *testing.T) {
	n := startTestNode(t, nodeOptions{})
	do := func(method, path string) *http.Response {
		req, err := http.NewRequest(method, "http://"+n.HTTPAddr()+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+n.token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = res.Body.Close() })
		return res
	}
	res := do("POST", "/api/v1/logout")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	raw, _ := io.ReadAll(res.Body)
	require.Contains(t, string(raw), "hotline token disable")
	require.Equal(t, http.StatusOK, do("GET", "/api/v1/calls").StatusCode, "the token still works")
}

// Slowloris while a call completes: 200 connections that trickle request
// headers a byte at a time, reconnecting whenever the node drops them,
// from four loopback sources. All the while a caller goes through the IVR
// to anna, they talk (tones both ways), she hangs up and wraps up, and a
// supervisor's queue view loads. The node drops every slow connection at
// read_header_timeout and holds none of them once the attack stops.
func TestSlowlorisWhileACallCompletes(t *testing.T) {
	const slow, sources = 200, 4
	const headerTimeout = 2 * time.Second
	n := startLimitedNode(t, "read_header_timeout: 2s, read_timeout: 5s, write_timeout: 5s, idle_timeout: 5s, "+
		"max_connections: 400, max_connections_per_source: 100")
	anna := n.agent("anna")
	sam := n.addUser("sam", store.RoleSupervisor)
	samCookie, status := n.login("sam", sam)
	require.Equal(t, http.StatusOK, status)
	addr := n.HTTPAddr()

	stop := make(chan struct{})
	var clients sync.WaitGroup
	var mu sync.Mutex
	var dropped, longest time.Duration
	var drops int
	var errs []error
	trickle := func(i int) error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%sources))}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer func() { _ = c.Close() }()
		opened := time.Now()
		if _, err := io.WriteString(c, "GET /api/v1/queues HTTP/1.1\r\nHost: hotline\r\nX-Slow: "); err != nil {
			return err
		}
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return nil
			case <-tick.C:
			}
			if _, err := c.Write([]byte("a")); err != nil {
				break // the node dropped it
			}
			if time.Since(opened) > 3*headerTimeout {
				return fmt.Errorf("a slow connection was kept %v, past read_header_timeout %v", time.Since(opened), headerTimeout)
			}
		}
		lived := time.Since(opened)
		mu.Lock()
		drops++
		dropped += lived
		longest = max(longest, lived)
		mu.Unlock()
		return nil
	}
	for i := range slow {
		clients.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := trickle(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	ln := n.httpLn.(*httpapi.Listener)
	require.Eventually(t, func() bool { return ln.Open() >= slow }, 10*time.Second, 20*time.Millisecond,
		"the slow connections are open: %d", ln.Open())

	// The attackers come back as fast as they are dropped.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return drops >= slow
	}, 5*headerTimeout, 20*time.Millisecond, "the node drops the slow connections at read_header_timeout")

	// The call, start to finish, under the attack.
	call := dialSupport(t, n, "")
	ring := waitMsg[softphone.Ring](t, anna, softphone.TypeRing)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, anna.Send(ctx, softphone.Accept{CallID: ring.CallID}))
	require.Equal(t, softphone.CallConnected, waitMsg[softphone.Call](t, anna, softphone.TypeCall).Status)
	anna.SetTone(1000)
	require.NoError(t, call.WaitTone(ctx, 1000, 200*time.Millisecond))
	go func() { _ = call.Say(ctx, media.Tone([]float64{600}, 3*time.Second, 0.3)) }()
	require.Eventually(t, func() bool { return anna.Heard(600, 200*time.Millisecond) > 0.01 },
		5*time.Second, 50*time.Millisecond, "the caller's tone never reached the agent")

	// A supervisor's view loads meanwhile.
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/queues", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", samCookie)
	res, err := clientFrom(t, "127.0.0.1").Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.NoError(t, anna.Send(ctx, softphone.Hangup{CallID: ring.CallID}))
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the caller never got BYE")
	}
	waitState(t, anna, softphone.StateWrapUp)
	require.NoError(t, anna.Send(ctx, softphone.WrapupDone{CallID: ring.CallID, Disposition: "resolved"}))
	waitState(t, anna, softphone.StateReady)
	d := n.waitEnded(call.CallID())
	require.Equal(t, "answered", d.Call.Outcome)
	require.Equal(t, "anna", d.Call.Agent)

	close(stop)
	clients.Wait()
	require.Empty(t, errs)
	t.Logf("%d slow connections dropped, after %v on average, %v at most", drops, dropped/time.Duration(drops), longest)
	require.Eventually(t, func() bool { return ln.Open() <= 2 }, 5*time.Second, 20*time.Millisecond,
		"only the agent's connections are left: %d open", ln.Open())
	require.NoError(t, anna.Err(), "the agent socket is still up")
}
