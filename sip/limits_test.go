package sip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/sip/siptest"
	"github.com/stretchr/testify/require"
)

// logBuffer is a goroutine-safe log sink for tests that look at log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for l := range strings.Lines(b.buf.String()) {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// portRange returns a range of n even ports starting at a port the OS just
// had free (Ports skips any taken since).
func portRange(t *testing.T, n int) (lo, hi int) {
	t.Helper()
	for range 20 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		_ = c.Close()
		if p+2*n < 65535 {
			return p, p + 2*(n-1)
		}
	}
	t.Fatal("no port range")
	return 0, 0
}

// floodResult counts the final answers to a flood, one per Call-ID.
type floodResult struct {
	ok, busy, other int
	retryAfter      string
}

// inviteFlood sends n INVITEs from a raw UDP socket on src, never ACKs, and
// returns once every one has its final answer (or after 10 s).
func inviteFlood(t *testing.T, src string, to netip.AddrPort, n int) floodResult {
	t.Helper()
	conn, err := net.ListenPacket("udp", src+":0")
	require.NoError(t, err)
	defer conn.Close()
	local := conn.LocalAddr().String()
	dst := net.UDPAddrFromAddrPort(to)
	var (
		mu    sync.Mutex
		res   floodResult
		final = map[string]int{}
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		buf := make([]byte, 4096)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			mu.Lock()
			all := len(final) == n
			mu.Unlock()
			if all {
				return
			}
			k, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			m := string(buf[:k])
			if !strings.HasPrefix(m, "SIP/2.0 ") {
				continue // BYEs after the ACK timeout: left unanswered
			}
			r := parseRaw(t, m)
			if r.code < 200 {
				continue
			}
			mu.Lock()
			if _, seen := final[r.headers["call-id"]]; !seen {
				final[r.headers["call-id"]] = r.code
				switch r.code {
				case 200:
					res.ok++
				case 503:
					res.busy++
					res.retryAfter = r.headers["retry-after"]
				default:
					res.other++
				}
			}
			mu.Unlock()
		}
	})
	for range n {
		msg := strings.ReplaceAll(invite(t, "sip:100@x", offerSDP("0")), "LOCAL", local)
		_, err := conn.WriteTo([]byte(msg), dst)
		require.NoError(t, err)
		time.Sleep(time.Millisecond) // ~1,000/s: faster than the 190/s
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return res
}

// An un-ACKed INVITE flood from one source must neither exhaust the RTP
// ports nor keep a second source's call out, and the ports it held come back
// at the ACK timeout without quarantine.
func TestUnackedInviteFloodDoesNotStarveOthers(t *testing.T) {
	const nPorts = 24 // the default cap (20) plus room for real calls
	lo, hi := portRange(t, nPorts)
	ports, err := media.NewPorts(media.PortsConfig{IP: netip.MustParseAddr("127.0.0.1"), Lo: lo, Hi: hi, Quarantine: 30 * time.Second})
	require.NoError(t, err)
	var logs logBuffer
	f := startServerWith(t, func(c *Config) {
		c.AckTimeout = 3 * time.Second
		c.InviteRate, c.InviteBurst = 1000, 1000 // the rate limit is not what saves us here
	}, Options{Ports: ports, MediaTimeout: 5 * time.Second, Logger: logs.logger()})

	start := time.Now()
	res := inviteFlood(t, "127.0.0.2", f.srv.Addr(), 200)
	inUse := ports.InUse()
	t.Logf("flood of 200 un-ACKed INVITEs: %d × 200 OK, %d × 503, %d other, in %s; ports in use %d/%d",
		res.ok, res.busy, res.other, time.Since(start).Round(time.Millisecond), inUse, nPorts)
	require.Equal(t, res.ok, inUse, "the flood's unconfirmed calls still hold their ports")
	require.Equal(t, DefaultConfig().MaxUnconfirmedPerSource, res.ok, "the source gets its cap of unconfirmed calls")
	require.Equal(t, 200-res.ok, res.busy)
	require.Equal(t, "30", res.retryAfter)
	require.Equal(t, res.busy, f.obs.droppedN(DropUnconfirmed))
	refusals := logs.lines("too many unconfirmed calls from source")
	require.Len(t, refusals, 1, "logged once per interval, not once per INVITE")
	require.Contains(t, refusals[0], "source=127.0.0.2:")

	// A caller from another source still gets through, with audio.
	ph := newPhone(t, siptest.PhoneOptions{})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err, "a second source's call connects during the flood")
	f.nextCall(t)
	require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond))

	// At the ACK timeout the flood's ports are free again at once: no quarantine.
	require.Eventually(t, func() bool { return ports.InUse() == 1 }, 5*time.Second, 20*time.Millisecond,
		"only the live call's port stays in use (in use: %d)", ports.InUse())
	t.Logf("flood ports free again %s after the flood began", time.Since(start).Round(time.Millisecond))
	res = inviteFlood(t, "127.0.0.3", f.srv.Addr(), 20)
	require.Equal(t, 20, res.ok, "the flood's ports were reusable at once: %+v", res)
	require.NoError(t, call.Hangup(t.Context()))
}

func TestUnconfirmedTableAndThrottle(t *testing.T) {
	u := newUnconfirmedTable(2)
	a, b := sourceKey(netip.MustParseAddr("2001:db8::1")), sourceKey(netip.MustParseAddr("2001:db8::2"))
	require.Equal(t, a, b, "one IPv6 /64 is one source")
	v4 := sourceKey(netip.MustParseAddr("::ffff:192.0.2.1"))
	require.Equal(t, "192.0.2.1/32", v4.String())
	for range 2 {
		_, ok := u.acquire(a)
		require.True(t, ok)
	}
	held, ok := u.acquire(b)
	require.False(t, ok)
	require.Equal(t, 2, held)
	_, ok = u.acquire(v4)
	require.True(t, ok, "other sources are not affected")
	u.release(a)
	_, ok = u.acquire(b)
	require.True(t, ok)
	u.release(a)
	u.release(a)
	u.release(v4)
	require.Empty(t, u.n)

	th := newLogThrottle(10 * time.Second)
	now := time.Unix(1000, 0)
	ok, _ = th.allow(a, now)
	require.True(t, ok)
	for range 5 {
		ok, _ = th.allow(a, now.Add(time.Second))
		require.False(t, ok)
	}
	ok, _ = th.allow(v4, now.Add(time.Second))
	require.True(t, ok, "per source")
	ok, held = th.allow(a, now.Add(11*time.Second))
	require.True(t, ok)
	require.Equal(t, 5, held, "the next line says how many were held back")
}

// A request line with another SIP version gets 505, in SIP/2.0.
func TestSIPVersionNotSupported(t *testing.T) {
	f := startServer(t, nil)
	for _, method := range []string{"OPTIONS", "INVITE"} {
		t.Run(method, func(t *testing.T) {
			msg := request(method, 70, "", "")
			if method == "INVITE" {
				msg = invite(t, "sip:100@x", offerSDP("0"))
			}
			msg = strings.Replace(msg, " SIP/2.0\r\n", " SIP/7.0\r\n", 1)
			conn, err := net.ListenPacket("udp", "127.0.0.1:0")
			require.NoError(t, err)
			defer conn.Close()
			msg = strings.ReplaceAll(msg, "LOCAL", conn.LocalAddr().String())
			_, err = conn.WriteTo([]byte(msg), net.UDPAddrFromAddrPort(f.srv.Addr()))
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			buf := make([]byte, 4096)
			n, _, err := conn.ReadFrom(buf)
			require.NoError(t, err, "an answer")
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			require.Equal(t, "SIP/2.0 505 Version Not Supported", line)
		})
	}
	require.Equal(t, 2, f.obs.droppedN(DropVersion))
	require.Zero(t, f.srv.ActiveCalls())
	select {
	case <-f.h.calls:
		t.Fatal("a SIP/7.0 INVITE was answered")
	default:
	}
}

// tcpOf returns the server's limiting TCP listener.
func tcpOf(f *fixture) *tcpListener { return f.srv.tcp.(*tcpListener) }

// Half-open and idle SIP TCP connections are closed within their timeouts,
// while a real call over TCP connects and keeps its connection.
func TestHalfOpenTCPFlood(t *testing.T) {
	n := 2000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*n+500) {
		lim.Cur = min(lim.Max, uint64(2*n+500))
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		if lim.Cur < uint64(2*n+500) {
			n = 500
		}
	}
	t.Logf("flood: %d connections (RLIMIT_NOFILE %d)", n, lim.Cur)
	const (
		idle    = 2 * time.Second
		message = 1 * time.Second
		slack   = 1500 * time.Millisecond
		sources = 20
	)
	perSource := n / sources
	f := startServer(t, func(c *Config) {
		c.TCPIdleTimeout, c.TCPMessageTimeout = idle, message
		c.MaxTCPConnsPerSource, c.MaxTCPConns = perSource, n+50
	})
	tl := tcpOf(f)

	partial := strings.SplitAfter(invite(t, "sip:100@x", offerSDP("0")), "Max-Forwards: 70\r\n")[0]
	conns := make([]net.Conn, 0, n)
	opened := make([]time.Time, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	start := time.Now()
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%sources))}}
		c, err := d.DialContext(t.Context(), "tcp", f.srv.Addr().String())
		require.NoError(t, err)
		conns, opened = append(conns, c), append(opened, time.Now())
		if i%2 == 0 {
			_, err = c.Write([]byte(strings.ReplaceAll(partial, "LOCAL", c.LocalAddr().String())))
			require.NoError(t, err)
		}
	}
	t.Logf("%d connections open in %s (half with half an INVITE, half silent)", n, time.Since(start).Round(time.Millisecond))
	require.Eventually(t, func() bool { return tl.openNow() == n }, 5*time.Second, 10*time.Millisecond,
		"all accepted (%d open)", tl.openNow())

	// Over the per-source cap: closed at once.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, 1)}}
	extra, err := d.DialContext(t.Context(), "tcp", f.srv.Addr().String())
	require.NoError(t, err)
	defer extra.Close()
	requireClosedBy(t, extra, time.Now().Add(time.Second))
	require.Equal(t, 1, f.obs.droppedN(DropTCPSource))

	// A real call over TCP connects meanwhile.
	ph := newPhone(t, siptest.PhoneOptions{Transport: "tcp"})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err, "a TCP call connects during the flood")
	c := f.nextCall(t)
	require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond))
	callUp := time.Now()

	// Every flood connection is closed within its timeout (+ slack).
	closedAt := make([]time.Time, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		limit := idle
		if i%2 == 0 {
			limit = message
		}
		wg.Go(func() { closedAt[i], errs[i] = closedBy(c, opened[i].Add(limit+slack)) })
	}
	wg.Wait()
	var worst time.Duration
	for i := range conns {
		require.NoError(t, errs[i], "connection %d", i)
		limit := idle
		if i%2 == 0 {
			limit = message
		}
		worst = max(worst, closedAt[i].Sub(opened[i])-limit)
	}
	t.Logf("all %d closed by the server; the latest %s after its timeout (idle %s, message %s)", n, worst.Round(time.Millisecond), idle, message)
	require.Eventually(t, func() bool { return tl.openNow() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, n/2, f.obs.droppedN(DropTCPSlow))
	require.Equal(t, n-n/2, f.obs.droppedN(DropTCPIdle))

	// The call's own connection outlives the idle timeout while the call is up.
	time.Sleep(time.Until(callUp.Add(idle + slack)))
	require.Equal(t, 1, tl.openNow(), "a live call keeps its TCP connection")
	require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond))
	c.Hangup("test")
	waitDone(t, call.Done(), "BYE at the phone, over the same connection")
	require.Equal(t, 1, tl.openNow(), "the BYE went over the call's connection")
	// With the call gone, the connection is idle and goes too.
	require.Eventually(t, func() bool { return tl.openNow() == 0 }, idle+2*slack, 20*time.Millisecond)
}

// requireClosedBy requires the server to close c (EOF or reset) before deadline.
func requireClosedBy(t *testing.T, c net.Conn, deadline time.Time) {
	t.Helper()
	_, err := closedBy(c, deadline)
	require.NoError(t, err)
}

// closedBy waits for the server to close c (EOF or reset) and says when, or
// fails at deadline.
func closedBy(c net.Conn, deadline time.Time) (time.Time, error) {
	if err := c.SetReadDeadline(deadline); err != nil {
		return time.Time{}, err
	}
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // a pong or a response: keep reading
		}
		at := time.Now()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return at, fmt.Errorf("connection %s still open at its deadline", c.LocalAddr())
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			return at, nil
		}
		return at, fmt.Errorf("connection %s: %w", c.LocalAddr(), err)
	}
}

func TestTCPTotalCap(t *testing.T) {
	f := startServer(t, func(c *Config) { c.MaxTCPConnsPerSource, c.MaxTCPConns = 3, 4 })
	tl := tcpOf(f)
	dial := func(ip byte) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 2, ip)}}
		c, err := d.DialContext(t.Context(), "tcp", f.srv.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a := []net.Conn{dial(1), dial(1), dial(1)}
	requireClosedBy(t, dial(1), time.Now().Add(time.Second))
	dial(2)
	requireClosedBy(t, dial(2), time.Now().Add(time.Second))
	require.Equal(t, 1, f.obs.droppedN(DropTCPSource))
	require.Equal(t, 1, f.obs.droppedN(DropTCPTotal))
	require.Eventually(t, func() bool { return tl.openNow() == 4 }, 2*time.Second, 10*time.Millisecond)
	require.NoError(t, a[0].Close())
	require.Eventually(t, func() bool { return tl.openNow() == 3 }, 2*time.Second, 10*time.Millisecond, "a closed connection frees its slot")
	dial(2)
	require.Eventually(t, func() bool { return tl.openNow() == 4 }, 2*time.Second, 10*time.Millisecond)
}

// fakeListener fails Accept with errs, then hands out conns, then reports closed.
type fakeListener struct {
	net.Listener
	mu    sync.Mutex
	errs  []error
	conns []net.Conn
}

func (l *fakeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	if len(l.conns) > 0 {
		c := l.conns[0]
		l.conns = l.conns[1:]
		return c, nil
	}
	return nil, net.ErrClosed
}

func (l *fakeListener) Close() error { return nil }

type fakeConn struct{ net.Conn }

func (fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060} }
func (fakeConn) Close() error         { return nil }

// At the file limit the log says so, and TCP keeps accepting afterwards
// (sipgo alone stops serving TCP on the first accept error).
func TestTCPAcceptErrorsAreLoggedAndSurvived(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	fl := &fakeListener{errs: []error{emfile, emfile, emfile}, conns: []net.Conn{fakeConn{}}}
	var logs logBuffer
	obs := newCountObserver()
	l := newTCPListener(fl, tcpLimits{idle: time.Second, message: time.Second, perSource: 1, total: 1},
		func(string) bool { return false }, logs.logger(), obs)
	c, err := l.Accept()
	require.NoError(t, err, "accept errors are retried")
	require.NotNil(t, c)
	require.Equal(t, 3, obs.droppedN(DropTCPAccept))
	lines := logs.lines("sip tcp accept failed")
	require.Len(t, lines, 1, "rate-limited")
	require.Contains(t, lines[0], "too many open files")
	_, err = l.Accept()
	require.ErrorIs(t, err, net.ErrClosed)
	require.NoError(t, c.Close())
	require.Zero(t, l.openNow())
}

func TestFramerFollowsMessages(t *testing.T) {
	body := offerSDP("0 8 101")
	inv := fmt.Sprintf("INVITE sip:100@x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK-%s\r\nContent-Type: application/sdp\r\ncontent-length:  %d \r\n\r\n%s",
		uuid.NewString(), len(body), body)
	ack := "ACK sip:100@x SIP/2.0\r\nl: 0\r\n\r\n"
	noLen := "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"
	stream := "\r\n\r\n" + inv + "\r\n\r\n" + ack + noLen
	// Every split of the stream into two reads gives the same events.
	for cut := 0; cut <= len(stream); cut++ {
		var fr framer
		var events []frameEvent
		for _, part := range []string{stream[:cut], stream[cut:]} {
			p := []byte(part)
			for len(p) > 0 {
				var ev frameEvent
				p, ev = fr.feed(p)
				if ev != frameNone {
					events = append(events, ev)
				}
			}
		}
		require.Equal(t, []frameEvent{frameStarted, frameDone, frameStarted, frameDone, frameStarted, frameDone}, events, "cut at %d", cut)
		require.Equal(t, frameBetween, fr.state)
	}
	var fr framer
	var events []frameEvent
	for p := []byte(inv[:len(inv)-5]); len(p) > 0; {
		var ev frameEvent
		if p, ev = fr.feed(p); ev != frameNone {
			events = append(events, ev)
		}
	}
	require.Equal(t, []frameEvent{frameStarted}, events)
	require.Equal(t, frameBody, fr.state, "inside the body")
	require.Equal(t, 5, fr.body)
}
