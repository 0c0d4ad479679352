package sip

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/sip/siptest"
	"github.com/stretchr/testify/require"
)

// toneHz is what the test handler plays to every caller.
const toneHz = 440.0

// testHandler plays a 440 Hz tone, forwards every digit it gets (INFO and
// media) and reports each call it runs.
type testHandler struct {
	calls  chan *Call
	digits chan media.Digit
}

func newTestHandler() *testHandler {
	return &testHandler{calls: make(chan *Call, 16), digits: make(chan media.Digit, 64)}
}

func (h *testHandler) HandleCall(ctx context.Context, c *Call) {
	h.calls <- c
	if c.To() == "hangup" {
		c.Hangup("test-hangup")
		return
	}
	c.OnDigit(func(d media.Digit) {
		select {
		case h.digits <- d:
		default:
			panic("test handler: digits not read")
		}
	})
	defer c.OnDigit(nil)
	_ = media.Play(ctx, c.Media(), media.Tone([]float64{toneHz}, time.Minute, 0.5), nil)
	<-ctx.Done()
}

type countObserver struct {
	mu        sync.Mutex
	requests  map[string]int
	responses map[int]int
	dropped   map[string]int
}

func newCountObserver() *countObserver {
	return &countObserver{requests: map[string]int{}, responses: map[int]int{}, dropped: map[string]int{}}
}

func (o *countObserver) Request(m string) { o.mu.Lock(); o.requests[m]++; o.mu.Unlock() }
func (o *countObserver) Response(c int)   { o.mu.Lock(); o.responses[c]++; o.mu.Unlock() }
func (o *countObserver) Dropped(r string) { o.mu.Lock(); o.dropped[r]++; o.mu.Unlock() }

func (o *countObserver) droppedN(r string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped[r]
}

type fixture struct {
	srv *Server
	h   *testHandler
	obs *countObserver
	uri string
}

func startServer(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	return startServerMedia(t, edit, 5*time.Second)
}

func startServerMedia(t *testing.T, edit func(*Config), mediaTimeout time.Duration) *fixture {
	t.Helper()
	ports, err := media.NewPorts(media.PortsConfig{IP: netip.MustParseAddr("127.0.0.1"), Quarantine: -1})
	require.NoError(t, err)
	return startServerWith(t, edit, Options{Ports: ports, MediaTimeout: mediaTimeout, Logger: testLogger(t)})
}

// startServerWith starts a server with opt (Observer is set to a fresh countObserver).
func startServerWith(t *testing.T, edit func(*Config), opt Options) *fixture {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.AckTimeout = 2 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	h, obs := newTestHandler(), newCountObserver()
	opt.Observer = obs
	srv, err := NewServer(cfg, h, opt)
	require.NoError(t, err)
	require.NoError(t, srv.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Close(ctx))
	})
	return &fixture{srv: srv, h: h, obs: obs, uri: "sip:100@" + srv.Addr().String()}
}

func newPhone(t *testing.T, opt siptest.PhoneOptions) *siptest.Phone {
	t.Helper()
	p, err := siptest.NewPhone(opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func (f *fixture) nextCall(t *testing.T) *Call {
	t.Helper()
	select {
	case c := <-f.h.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("handler was not called")
		return nil
	}
}

func waitDone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestAnswerChoosesCallersPreferredCodec(t *testing.T) {
	f := startServer(t, nil)
	for _, tc := range []struct {
		transport string
		codecs    []media.Codec
		want      media.Codec
	}{
		{"udp", []media.Codec{media.PCMU, media.PCMA}, media.PCMU},
		{"tcp", []media.Codec{media.PCMA, media.PCMU}, media.PCMA},
	} {
		t.Run(tc.transport+"-"+tc.want.String(), func(t *testing.T) {
			ph := newPhone(t, siptest.PhoneOptions{Transport: tc.transport, Codecs: tc.codecs, DTMFType: 101})
			call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.want, call.Codec())
			c := f.nextCall(t)
			require.Equal(t, "100", c.To())
			require.NotZero(t, c.AnsweredAt())
			require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond), "caller hears the prompt")
			require.NoError(t, call.Hangup(t.Context()))
			waitDone(t, c.Done(), "server call end")
			side, cause := c.End()
			require.Equal(t, SideCaller, side)
			require.Equal(t, CauseBye, cause)
		})
	}
}

func TestLateOffer(t *testing.T) {
	f := startServer(t, nil)
	ph := newPhone(t, siptest.PhoneOptions{Codecs: []media.Codec{media.PCMA}, DTMFType: 101})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{NoSDP: true})
	require.NoError(t, err)
	require.Equal(t, media.PCMA, call.Codec())
	f.nextCall(t)
	require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond))
	require.NoError(t, call.Hangup(t.Context()))
}

func TestServerHangsUp(t *testing.T) {
	f := startServer(t, nil)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ph := newPhone(t, siptest.PhoneOptions{Transport: transport})
			call, err := ph.Dial(t.Context(), "sip:hangup@"+f.srv.Addr().String(), siptest.DialOptions{})
			require.NoError(t, err)
			c := f.nextCall(t)
			waitDone(t, call.Done(), "BYE at the phone")
			waitDone(t, c.Done(), "server call end")
			side, cause := c.End()
			require.Equal(t, SideHotline, side)
			require.Equal(t, "test-hangup", cause)
			require.Eventually(t, func() bool { return f.srv.ActiveCalls() == 0 }, 5*time.Second, 10*time.Millisecond)
		})
	}
}

func TestDigitsAllThreeWays(t *testing.T) {
	f := startServer(t, nil)
	ph := newPhone(t, siptest.PhoneOptions{DTMFType: 101})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err)
	f.nextCall(t)
	got := func(n int) (keys string, src media.DigitSource) {
		for range n {
			select {
			case d := <-f.h.digits:
				keys += string(d.Key)
				src = d.Source
			case <-time.After(5 * time.Second):
				t.Fatalf("only got digits %q", keys)
			}
		}
		return keys, src
	}
	require.NoError(t, call.SendDigits(t.Context(), "12#", media.SourceINFO))
	keys, src := got(3)
	require.Equal(t, "12#", keys)
	require.Equal(t, media.SourceINFO, src)

	require.NoError(t, call.SendINFO(t.Context(), "application/dtmf", "7"))
	keys, _ = got(1)
	require.Equal(t, "7", keys)

	require.NoError(t, call.SendDigits(t.Context(), "59", media.SourceRFC4733))
	keys, src = got(2)
	require.Equal(t, "59", keys)
	require.Equal(t, media.SourceRFC4733, src)

	err = call.SendINFO(t.Context(), "text/plain", "hello")
	var re *siptest.ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 415, re.Code)
	require.NoError(t, call.Hangup(t.Context()))
}

func TestInbandDigitsWhenNoTelephoneEvent(t *testing.T) {
	f := startServer(t, nil)
	ph := newPhone(t, siptest.PhoneOptions{}) // no telephone-event: trunk "auto" turns in-band on
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err)
	f.nextCall(t)
	require.NoError(t, call.SendDigits(t.Context(), "38", media.SourceInband))
	var keys string
	for len(keys) < 2 {
		select {
		case d := <-f.h.digits:
			require.Equal(t, media.SourceInband, d.Source)
			keys += string(d.Key)
		case <-time.After(5 * time.Second):
			t.Fatalf("only got in-band digits %q", keys)
		}
	}
	require.Equal(t, "38", keys)
	require.NoError(t, call.Hangup(t.Context()))
}

func TestHoldKeepsTheCall(t *testing.T) {
	f := startServer(t, nil)
	ph := newPhone(t, siptest.PhoneOptions{Transport: "tcp"})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err)
	c := f.nextCall(t)
	require.NoError(t, call.Hold(t.Context(), true))
	require.NoError(t, call.Hold(t.Context(), false))
	select {
	case <-c.Done():
		t.Fatal("re-INVITE ended the call")
	default:
	}
	require.NoError(t, call.WaitTone(t.Context(), toneHz, 200*time.Millisecond), "audio still flows after unhold")
	require.NoError(t, call.Hangup(t.Context()))
}

func TestReInviteNewMediaAddress(t *testing.T) {
	f := startServer(t, nil)
	ph := newPhone(t, siptest.PhoneOptions{})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err)
	c := f.nextCall(t)
	// A second socket that now claims to be the phone's media address.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	addr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	require.NoError(t, call.ReInvite(t.Context(), addr, "sendrecv"))
	// The endpoint is pointed at the new address (symmetric RTP may latch back
	// to where the phone really sends from, which is the media package's job).
	require.Equal(t, addr, c.currentRemote().Addr)
	require.False(t, c.currentRemote().Paused)
	require.NoError(t, call.ReInvite(t.Context(), addr, "inactive"))
	require.True(t, c.currentRemote().Paused, "no media timeout while the caller holds with a=inactive")
	select {
	case <-c.Done():
		t.Fatal("re-INVITE ended the call")
	default:
	}
	require.NoError(t, call.Hangup(t.Context()))
}

func TestCancelWhileRinging(t *testing.T) {
	f := startServer(t, func(c *Config) { c.RingTime = 10 * time.Second })
	ph := newPhone(t, siptest.PhoneOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := ph.Dial(ctx, f.uri, siptest.DialOptions{})
	require.Error(t, err)
	require.Eventually(t, func() bool { return f.srv.ActiveCalls() == 0 }, 5*time.Second, 10*time.Millisecond)
	select {
	case <-f.h.calls:
		t.Fatal("handler ran for a cancelled call")
	default:
	}
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	require.Equal(t, 1, f.obs.responses[487], "the INVITE was answered 487")
	require.Equal(t, 1, f.obs.responses[180])
}

func TestRefusals(t *testing.T) {
	t.Run("403 source not allowed", func(t *testing.T) {
		f := startServer(t, func(c *Config) { c.Trunks = []TrunkConfig{{Name: "lan", Allow: []string{"10.0.0.0/8"}}} })
		_, err := newPhone(t, siptest.PhoneOptions{}).Dial(t.Context(), f.uri, siptest.DialOptions{})
		requireCode(t, err, 403)
		require.Equal(t, 1, f.obs.droppedN(DropACL))
	})
	t.Run("503 over max calls", func(t *testing.T) {
		f := startServer(t, func(c *Config) { c.MaxCalls = 1 })
		ph := newPhone(t, siptest.PhoneOptions{})
		call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
		require.NoError(t, err)
		_, err = ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
		requireCode(t, err, 503)
		require.Equal(t, 1, f.obs.droppedN(DropMaxCalls))
		require.NoError(t, call.Hangup(t.Context()))
	})
	t.Run("503 draining with Retry-After", func(t *testing.T) {
		f := startServer(t, func(c *Config) { c.RetryAfter = 42 * time.Second })
		f.srv.Drain()
		res := rawUDP(t, f.srv.Addr(), invite(t, "sip:100@x", offerSDP("0")))
		require.Equal(t, 503, res.code)
		require.Equal(t, "42", res.headers["retry-after"])
		require.Equal(t, 1, f.obs.droppedN(DropDraining))
	})
	t.Run("503 rate limit", func(t *testing.T) {
		f := startServer(t, func(c *Config) { c.InviteRate = 0.001; c.InviteBurst = 1 })
		res := rawUDP(t, f.srv.Addr(), invite(t, "sip:100@x", offerSDP("18"))) // takes the one token (488)
		require.Equal(t, 488, res.code)
		res = rawUDP(t, f.srv.Addr(), invite(t, "sip:100@x", offerSDP("0")))
		require.Equal(t, 503, res.code)
		require.Equal(t, 1, f.obs.droppedN(DropRateLimit))
	})
}

func requireCode(t *testing.T, err error, code int) {
	t.Helper()
	var re *siptest.ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, code, re.Code)
}

func TestRawRequests(t *testing.T) {
	f := startServer(t, nil)
	a := f.srv.Addr()
	t.Run("488 no common codec", func(t *testing.T) {
		res := rawUDP(t, a, invite(t, "sip:100@x", offerSDP("18 9")))
		require.Equal(t, 488, res.code)
		require.Contains(t, res.reason, "no common codec")
	})
	t.Run("400 broken sdp says why", func(t *testing.T) {
		res := rawUDP(t, a, invite(t, "sip:100@x", "v=0\r\nthis is not sdp\r\n"))
		require.Equal(t, 400, res.code)
		require.Contains(t, res.reason, "Bad SDP")
		body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
		res = rawUDP(t, a, invite(t, "sip:100@x", body))
		require.Equal(t, 400, res.code)
		require.Contains(t, res.reason, "no connection address")
	})
	t.Run("400 INVITE without From", func(t *testing.T) {
		msg := invite(t, "sip:100@x", offerSDP("0"))
		msg = strings.Replace(msg, "From: <sip:caller@127.0.0.1>;tag=abc\r\n", "", 1)
		res := rawUDP(t, a, msg)
		require.Equal(t, 400, res.code)
	})
	t.Run("OPTIONS 200", func(t *testing.T) {
		res := rawUDP(t, a, request("OPTIONS", 70, "", ""))
		require.Equal(t, 200, res.code)
		require.Contains(t, res.headers["allow"], "INVITE")
	})
	t.Run("405 known method", func(t *testing.T) {
		res := rawUDP(t, a, request("REGISTER", 70, "", ""))
		require.Equal(t, 405, res.code)
		require.Contains(t, res.headers["allow"], "INFO")
	})
	t.Run("501 unknown method", func(t *testing.T) {
		res := rawUDP(t, a, request("FROBNICATE", 70, "", ""))
		require.Equal(t, 501, res.code)
		require.Contains(t, res.headers["allow"], "BYE")
	})
	t.Run("483 Max-Forwards 0", func(t *testing.T) {
		res := rawUDP(t, a, request("OPTIONS", 0, "", ""))
		require.Equal(t, 483, res.code)
	})
	t.Run("garbage is counted and does not break the next call", func(t *testing.T) {
		c, err := net.Dial("udp", a.String())
		require.NoError(t, err)
		defer c.Close()
		for _, g := range []string{"\x00\x01\x02garbage", "INVITE\r\n\r\n", "SIP/2.0 999\r\nVia: ???\r\n\r\n", strings.Repeat("A", 1400)} {
			_, err := c.Write([]byte(g))
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool { return f.obs.droppedN(DropMalformed) >= 2 }, 5*time.Second, 10*time.Millisecond)
		call, err := newPhone(t, siptest.PhoneOptions{}).Dial(t.Context(), f.uri, siptest.DialOptions{})
		require.NoError(t, err)
		require.NoError(t, call.Hangup(t.Context()))
	})
}

func TestAckTimeoutSendsBye(t *testing.T) {
	f := startServer(t, func(c *Config) { c.AckTimeout = 700 * time.Millisecond })
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	to, err := net.ResolveUDPAddr("udp", f.srv.Addr().String())
	require.NoError(t, err)
	local := conn.LocalAddr().String()
	msg := strings.ReplaceAll(invite(t, "sip:100@x", offerSDP("0")), "LOCAL", local)
	_, err = conn.WriteTo([]byte(msg), to)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	buf := make([]byte, 4096)
	var sawOK bool
	for {
		n, _, err := conn.ReadFrom(buf)
		require.NoError(t, err, "expected BYE after the ACK timeout")
		m := string(buf[:n])
		if strings.HasPrefix(m, "SIP/2.0 200") {
			sawOK = true
		}
		if strings.HasPrefix(m, "BYE ") {
			answerBye(t, conn, to, m)
			break
		}
	}
	require.True(t, sawOK)
	require.Eventually(t, func() bool { return f.srv.ActiveCalls() == 0 }, 5*time.Second, 10*time.Millisecond)
	select {
	case <-f.h.calls:
		t.Fatal("handler ran for an unconfirmed call")
	default:
	}
}

func TestMediaTimeoutHangsUp(t *testing.T) {
	f := startServerMedia(t, nil, 300*time.Millisecond)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	to := net.UDPAddrFromAddrPort(f.srv.Addr())
	local := conn.LocalAddr().String()
	inv := strings.ReplaceAll(invite(t, "sip:100@x", offerSDP("0")), "LOCAL", local)
	_, err = conn.WriteTo([]byte(inv), to)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	buf := make([]byte, 4096)
	acked := false
	for {
		n, _, err := conn.ReadFrom(buf)
		require.NoError(t, err, "expected 200 then BYE")
		m := string(buf[:n])
		if strings.HasPrefix(m, "SIP/2.0 200") && !acked {
			// ACK the 200 (same Call-ID, From, the To with the server's tag), then send no RTP at all.
			ack := "ACK sip:hotline@" + f.srv.Addr().String() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-ack-" + uuid.NewString() + "\r\nMax-Forwards: 70\r\n"
			for line := range strings.Lines(m) {
				if strings.HasPrefix(line, "From:") || strings.HasPrefix(line, "To:") || strings.HasPrefix(line, "Call-ID:") {
					ack += line
				}
			}
			ack += "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
			_, err = conn.WriteTo([]byte(ack), to)
			require.NoError(t, err)
			acked = true
		}
		if strings.HasPrefix(m, "BYE ") {
			answerBye(t, conn, to, m)
			break
		}
	}
	c := f.nextCall(t)
	waitDone(t, c.Done(), "call end")
	side, cause := c.End()
	require.Equal(t, SideHotline, side)
	require.Equal(t, CauseMediaTimeout, cause)
}

func TestCloseHangsUpLiveCalls(t *testing.T) {
	f := startServer(t, nil)
	ph := newPhone(t, siptest.PhoneOptions{})
	call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
	require.NoError(t, err)
	c := f.nextCall(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.srv.Close(ctx))
	require.NoError(t, f.srv.Close(ctx), "Close is idempotent")
	waitDone(t, call.Done(), "BYE at the phone")
	side, cause := c.End()
	require.Equal(t, SideHotline, side)
	require.Equal(t, CauseShutdown, cause)
}

// --- raw SIP over UDP ---

// answerBye sends 200 OK for the BYE request bye.
func answerBye(t *testing.T, conn net.PacketConn, to net.Addr, bye string) {
	t.Helper()
	ok := "SIP/2.0 200 OK\r\n"
	for line := range strings.Lines(bye) {
		for _, h := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
			if strings.HasPrefix(line, h) {
				ok += line
			}
		}
	}
	_, err := conn.WriteTo([]byte(ok+"Content-Length: 0\r\n\r\n"), to)
	require.NoError(t, err)
}

type rawResponse struct {
	code    int
	reason  string
	headers map[string]string
}

func offerSDP(formats string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP " + formats + "\r\n"
}

func invite(t *testing.T, uri, body string) string {
	t.Helper()
	return request("INVITE", 70, "application/sdp", body)
}

func request(method string, maxFwd int, ctype, body string) string {
	seq := uuid.NewString()
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:100@127.0.0.1 SIP/2.0\r\n", method)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-%s\r\n", seq)
	fmt.Fprintf(&b, "Max-Forwards: %d\r\n", maxFwd)
	b.WriteString("From: <sip:caller@127.0.0.1>;tag=abc\r\nTo: <sip:100@127.0.0.1>\r\n")
	fmt.Fprintf(&b, "Call-ID: raw-%s\r\nCSeq: 1 %s\r\nContact: <sip:caller@LOCAL>\r\n", seq, method)
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// rawUDP sends msg and returns the first final response.
func rawUDP(t *testing.T, to netip.AddrPort, msg string) rawResponse {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	msg = strings.ReplaceAll(msg, "LOCAL", conn.LocalAddr().String())
	_, err = conn.WriteTo([]byte(msg), net.UDPAddrFromAddrPort(to))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 4096)
	for {
		n, _, err := conn.ReadFrom(buf)
		require.NoError(t, err, "no final response")
		r := parseRaw(t, string(buf[:n]))
		if r.code >= 200 {
			return r
		}
	}
}

func parseRaw(t *testing.T, m string) rawResponse {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(m))
	require.True(t, sc.Scan())
	parts := strings.SplitN(sc.Text(), " ", 3)
	require.Len(t, parts, 3, "status line %q", sc.Text())
	code, err := strconv.Atoi(parts[1])
	require.NoError(t, err)
	r := rawResponse{code: code, reason: parts[2], headers: map[string]string{}}
	for sc.Scan() && sc.Text() != "" {
		k, v, _ := strings.Cut(sc.Text(), ":")
		r.headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return r
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestNoGoroutinesLeftAfterClose(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) { noGoroutinesLeft(t, tr) })
	}
}

func noGoroutinesLeft(t *testing.T, transport string) {
	before := runtime.NumGoroutine()
	func() {
		f := startServer(t, nil)
		ph, err := siptest.NewPhone(siptest.PhoneOptions{Transport: transport})
		require.NoError(t, err)
		call, err := ph.Dial(t.Context(), f.uri, siptest.DialOptions{})
		require.NoError(t, err)
		f.nextCall(t)
		require.NoError(t, call.Hangup(t.Context()))
		require.NoError(t, ph.Close())
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		require.NoError(t, f.srv.Close(ctx))
	}()
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+1 }, 5*time.Second, 20*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}
