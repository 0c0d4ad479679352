package baresiptest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
)

// eventPT is the telephone-event payload type the test peer answers with;
// baresip offers 101, and a different number here shows it follows the answer.
const eventPT = 96

// peerBehaviour says how the test peer treats the INVITE.
type peerBehaviour struct {
	reject int    // answer with this final status instead of 200
	hangUp bool   // send BYE as soon as the ACK arrives
	onAck  func() // called when the ACK arrives
}

// peer is a minimal SIP UAS (sipgo) that answers with an SDP pointing at a
// UDP socket it reads, so the test sees exactly the RTP baresip sends.
type peer struct {
	t      *testing.T
	sipURI string
	behave peerBehaviour

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	dialog *sipgo.DialogServerCache
	rtp    net.PacketConn
	wg     sync.WaitGroup

	mu       sync.Mutex
	callID   string
	byeIn    bool  // baresip sent BYE
	byeOut   error // result of the peer's own BYE
	audio    []int16
	events   []byte // RFC 4733 keys, one per distinct event timestamp
	seen     map[uint32]bool
	eventPTs map[uint8]bool
}

// requireBaresip fails the test when baresip is not installed.
func requireBaresip(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("baresip")
	require.NoError(t, err, "baresip is needed for this test: apt-get install -y baresip")
	_, err = os.Stat(filepath.Join(DefaultModulePath, "ctrl_tcp.so"))
	require.NoError(t, err, "baresip modules missing: apt-get install -y baresip")
}

// startPeer runs a test peer on free loopback ports until the test ends.
func startPeer(t *testing.T, b peerBehaviour) *peer {
	t.Helper()
	p := &peer{t: t, behave: b, seen: map[uint32]bool{}, eventPTs: map[uint8]bool{}}
	sipConn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	p.rtp, err = net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := sipConn.LocalAddr().(*net.UDPAddr).Port
	p.sipURI = fmt.Sprintf("sip:support@127.0.0.1:%d", port)

	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("baresiptest-peer"))
	require.NoError(t, err)
	p.srv, err = sipgo.NewServer(p.ua)
	require.NoError(t, err)
	client, err := sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	require.NoError(t, err)
	p.dialog = sipgo.NewDialogServerCache(client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "support", Host: "127.0.0.1", Port: port},
	})
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)

	p.wg.Go(func() { _ = p.srv.ServeUDP(sipConn) })
	p.wg.Go(p.readRTP)
	t.Cleanup(func() {
		_ = p.srv.Close()
		_ = p.ua.Close()
		_ = sipConn.Close()
		_ = p.rtp.Close()
		p.wg.Wait()
	})
	return p
}

// answerSDP is the peer's SDP answer: PCMU and telephone-event on its socket.
func (p *peer) answerSDP() []byte {
	port := p.rtp.LocalAddr().(*net.UDPAddr).Port
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 %d\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:%d telephone-event/8000\r\n"+
		"a=fmtp:%d 0-15\r\na=ptime:20\r\na=sendrecv\r\n", port, eventPT, eventPT, eventPT)
}

func (p *peer) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	dlg, err := p.dialog.ReadInvite(req, tx)
	if err != nil {
		p.t.Errorf("peer: read INVITE: %v", err)
		return
	}
	defer dlg.Close()
	p.mu.Lock()
	p.callID = req.CallID().Value()
	p.mu.Unlock()
	if p.behave.reject != 0 {
		_ = dlg.Respond(p.behave.reject, "Busy Here", nil)
		return
	}
	if err := dlg.RespondSDP(p.answerSDP()); err != nil {
		p.t.Errorf("peer: answer: %v", err)
		return
	}
	<-dlg.Context().Done()
}

func (p *peer) onAck(req *sip.Request, tx sip.ServerTransaction) {
	_ = p.dialog.ReadAck(req, tx)
	if p.behave.onAck != nil {
		p.behave.onAck()
	}
	if !p.behave.hangUp {
		return
	}
	dlg, err := p.dialog.MatchDialogRequest(req)
	if err != nil {
		p.t.Errorf("peer: no dialog for ACK: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = dlg.Bye(ctx)
	p.mu.Lock()
	p.byeOut = err
	p.mu.Unlock()
}

func (p *peer) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := p.dialog.ReadBye(req, tx); err != nil {
		p.t.Errorf("peer: BYE: %v", err)
	}
	p.mu.Lock()
	p.byeIn = true
	p.mu.Unlock()
}

// readRTP collects decoded PCMU audio and RFC 4733 events until the socket
// closes.
func (p *peer) readRTP() {
	buf := make([]byte, 1500)
	for {
		n, _, err := p.rtp.ReadFrom(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		switch pkt.PayloadType {
		case 0:
			p.audio = media.DecodeFrame(media.PCMU, pkt.Payload, p.audio)
		default:
			p.eventPTs[pkt.PayloadType] = true
			ev, err := media.ParseDTMFEvent(pkt.Payload)
			if err == nil && !p.seen[pkt.Timestamp] {
				if key, ok := media.EventKey(ev.Event); ok {
					p.seen[pkt.Timestamp] = true
					p.events = append(p.events, key)
				}
			}
		}
		p.mu.Unlock()
	}
}

// heard returns what the peer received so far.
func (p *peer) heard() (audio []int16, digits string, pts map[uint8]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.audio...), string(p.events), p.eventPTs
}

// testLogger logs to the test output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// writeToneWAV writes a 1 kHz tone of d as a WAV file and returns its path.
func writeToneWAV(t *testing.T, d time.Duration) string {
	path := filepath.Join(t.TempDir(), "tone.wav")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, media.WriteWAV(f, media.Tone([]float64{1000}, d, 0.5).Samples))
	require.NoError(t, f.Close())
	return path
}

func TestCallSendsAudioAndDigitsThenHangsUp(t *testing.T) {
	requireBaresip(t)
	p := startPeer(t, peerBehaviour{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	res, err := Call(ctx, Options{
		Target:   p.sipURI,
		Digits:   "11#",
		DigitGap: 300 * time.Millisecond,
		Hold:     500 * time.Millisecond,
		AudioIn:  writeToneWAV(t, 3*time.Second),
		Logger:   testLogger(t),
	})
	require.NoError(t, err, res.Log)
	require.True(t, res.Established, res.Log)
	require.Equal(t, "11#", res.Sent)
	require.NotEmpty(t, res.Closed, "baresip reports why the call closed")

	p.mu.Lock()
	require.True(t, p.byeIn, "baresip hangs up with BYE")
	require.Equal(t, p.callID, res.CallID, "Result.CallID is the SIP Call-ID")
	p.mu.Unlock()

	audio, digits, pts := p.heard()
	require.Equal(t, "11#", digits, "the peer gets each digit as one RFC 4733 event")
	require.Equal(t, map[uint8]bool{eventPT: true}, pts, "events use the negotiated telephone-event type")
	require.Greater(t, len(audio), media.SampleRate/2, "baresip streams PCMU for the whole call")
	require.Greater(t, media.Power(audio, 1000), 0.05, "the peer hears the AudioIn tone")
	require.Less(t, media.Power(audio, 1700), 0.001)
}

func TestCallWithoutAudioInSendsSilence(t *testing.T) {
	requireBaresip(t)
	p := startPeer(t, peerBehaviour{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	res, err := Call(ctx, Options{Target: p.sipURI, Hold: 500 * time.Millisecond, Caller: "alice"})
	require.NoError(t, err, res.Log)
	require.True(t, res.Established, res.Log)
	require.Empty(t, res.Sent)

	audio, digits, _ := p.heard()
	require.Empty(t, digits)
	require.NotEmpty(t, audio, "baresip sends RTP even with nothing to say")
	require.Less(t, media.Energy(audio), 1e-4, "and it is silence")
}

func TestCallEndsWhenPeerHangsUp(t *testing.T) {
	requireBaresip(t)
	p := startPeer(t, peerBehaviour{hangUp: true})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	// Hold outlasts ctx: only the peer's BYE can end the call in time.
	res, err := Call(ctx, Options{Target: p.sipURI, Hold: time.Minute})
	require.NoError(t, err, res.Log)
	require.True(t, res.Established, res.Log)
	require.NotEmpty(t, res.Closed, res.Log)

	p.mu.Lock()
	defer p.mu.Unlock()
	require.NoError(t, p.byeOut, "baresip answers the peer's BYE")
	require.False(t, p.byeIn, "baresip does not send its own BYE after the peer's")
}

func TestCallRejected(t *testing.T) {
	requireBaresip(t)
	p := startPeer(t, peerBehaviour{reject: 486})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	res, err := Call(ctx, Options{Target: p.sipURI, Digits: "1"})
	require.NoError(t, err, res.Log)
	require.False(t, res.Established)
	require.Contains(t, res.Closed, "486")
	require.Empty(t, res.Sent)
}

func TestCallStopsWhenContextEnds(t *testing.T) {
	requireBaresip(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	p := startPeer(t, peerBehaviour{onAck: cancel})

	// The call is answered; ctx ends when the ACK arrives, possibly before
	// baresip reports the call established.
	var logs bytes.Buffer
	res, err := Call(ctx, Options{Target: p.sipURI, Hold: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.ErrorIs(t, err, context.Canceled, res.Log)

	m := regexp.MustCompile(`baresip_pid=(\d+)`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, logs.String())
	pid, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "baresip is gone when Call returns")

	p.mu.Lock()
	defer p.mu.Unlock()
	require.True(t, p.byeIn, "the call is hung up, not abandoned, when ctx ends")
}

func TestCallRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"no target":      {},
		"not sip":        {Target: "http://127.0.0.1/"},
		"space":          {Target: "sip:a b@127.0.0.1"},
		"bad digit":      {Target: "sip:a@127.0.0.1", Digits: "1x"},
		"negative gap":   {Target: "sip:a@127.0.0.1", DigitGap: -time.Second},
		"bad caller":     {Target: "sip:a@127.0.0.1", Caller: "a@b"},
		"too long":       {Target: "sip:a@127.0.0.1", Hold: time.Hour},
		"missing module": {Target: "sip:a@127.0.0.1", Binary: "true", ModulePath: "/nonexistent"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Call(t.Context(), o)
			require.Error(t, err)
		})
	}
}

func TestCallNamesTheMissingBinary(t *testing.T) {
	_, err := Call(t.Context(), Options{Target: "sip:a@127.0.0.1", Binary: "/nonexistent/baresip"})
	require.ErrorIs(t, err, ErrNotInstalled)
	require.ErrorContains(t, err, "apt-get install -y baresip")
}

func TestCallRefusesUnreadableAudioIn(t *testing.T) {
	requireBaresip(t)
	bad := filepath.Join(t.TempDir(), "bad.wav")
	require.NoError(t, os.WriteFile(bad, []byte("not a wav"), 0o600))
	_, err := Call(t.Context(), Options{Target: "sip:a@127.0.0.1", AudioIn: bad})
	require.ErrorContains(t, err, bad)
}
