// Package agentclient is a pure-Go agent desktop for tests and load runs: it
// speaks the agent protocol of package softphone over a real WebSocket and
// carries audio over a real pion PeerConnection (PCMU), like the browser
// page does. It sends a generated tone as its "microphone" (20 ms paced) and
// records what it hears, so tests can check audio both ways with
// media.Power.
package agentclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Header is sent with the WebSocket handshake (Cookie, Authorization,
	// Origin).
	Header http.Header
	// Logger receives the client's and pion's logs; nil discards them.
	Logger *slog.Logger
	// PingInterval is how often the client sends ping: 0 means 3 s, a
	// negative value never (a frozen browser, for heartbeat tests).
	PingInterval time.Duration
	// ToneAmplitude is the microphone tone's peak as a fraction of full
	// scale; 0 means 0.3.
	ToneAmplitude float64
}

// recordSamples is how much received audio the client keeps: 2 s.
const recordSamples = 2 * media.SampleRate

// maxInbox bounds the messages kept for Wait; the oldest go first.
const maxInbox = 1024

// ErrClosed is returned once the client or its socket closed.
var ErrClosed = errors.New("agentclient: closed")

// frameSamples is one 20 ms frame at 8 kHz.
const frameSamples = media.FrameSamples

// Client is one agent desktop. Its methods are safe for concurrent use.
type Client struct {
	opts Options
	log  *slog.Logger
	conn *websocket.Conn

	ctx    context.Context // the client's lifetime
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // reader, pinger, tone sender, track reader

	writeMu sync.Mutex // one socket write at a time

	inboxMu sync.Mutex
	inbox   []softphone.Message
	notify  chan struct{} // closed and replaced when a message arrives

	pcMu    sync.Mutex // guards pc, track, closing
	pc      *webrtc.PeerConnection
	track   *webrtc.TrackLocalStaticRTP
	closing bool

	toneHz  atomic.Uint64 // math.Float64bits of the tone frequency; 0: silence
	muted   atomic.Bool   // the microphone sends silence (Mute)
	sending atomic.Bool

	recMu    sync.Mutex
	rec      []int16 // ring of the last recordSamples received samples
	recPos   int
	recCount int64 // samples received in total
	stream   StreamStats
	last     rtp.Header // the previous packet's header, once stream.Packets > 0

	closeOnce sync.Once
}

// Dial opens the agent WebSocket at url (ws://host/api/v1/agent/ws) and
// starts reading messages and sending pings. Call Hello and Connect next.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: opts.Header})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("agentclient: dial %s: HTTP %d: %w", url, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("agentclient: dial %s: %w", url, err)
	}
	conn.SetReadLimit(softphone.MaxMessageBytes)
	cctx, cancel := context.WithCancelCause(context.Background())
	c := &Client{
		opts: opts, log: log, conn: conn, ctx: cctx, cancel: cancel,
		notify: make(chan struct{}),
		rec:    make([]int16, recordSamples),
	}
	c.wg.Go(c.readLoop)
	interval := opts.PingInterval
	if interval == 0 {
		interval = 3 * time.Second
	}
	if interval > 0 {
		c.wg.Go(func() { c.pingLoop(interval) })
	}
	return c, nil
}

// Done is closed when the client's socket has ended.
func (c *Client) Done() <-chan struct{} { return c.ctx.Done() }

// Err says why the socket ended (nil while it is open).
func (c *Client) Err() error {
	if c.ctx.Err() == nil {
		return nil
	}
	return context.Cause(c.ctx)
}

// Send writes one message.
func (c *Client) Send(ctx context.Context, m softphone.Message) error {
	b, err := softphone.Encode(m)
	if err != nil {
		return err
	}
	return c.SendRaw(ctx, b)
}

// SendRaw writes one text frame as is (for tests of bad input).
func (c *Client) SendRaw(ctx context.Context, b []byte) error {
	if c.ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrClosed, context.Cause(c.ctx))
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("agentclient: send: %w", err)
	}
	return nil
}

// Next returns the oldest received message not returned before, of any
// type, waiting for one if needed.
func (c *Client) Next(ctx context.Context) (softphone.Message, error) {
	return c.Wait(ctx, "")
}

// Wait returns the oldest received message of type typ not returned
// before, waiting for one if needed. Messages of other types stay for
// their own Wait. An empty typ matches any message.
func (c *Client) Wait(ctx context.Context, typ string) (softphone.Message, error) {
	for {
		c.inboxMu.Lock()
		for i, m := range c.inbox {
			if typ == "" || m.Type() == typ {
				c.inbox = append(c.inbox[:i], c.inbox[i+1:]...)
				c.inboxMu.Unlock()
				return m, nil
			}
		}
		ch := c.notify
		c.inboxMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("agentclient: waiting for %s: %w", typ, context.Cause(ctx))
		case <-c.ctx.Done():
			return nil, fmt.Errorf("agentclient: waiting for %s: %w: %w", typ, ErrClosed, context.Cause(c.ctx))
		}
	}
}

// Hello sends hello and returns the welcome.
func (c *Client) Hello(ctx context.Context) (softphone.Welcome, error) {
	if err := c.Send(ctx, softphone.Hello{}); err != nil {
		return softphone.Welcome{}, err
	}
	m, err := c.Wait(ctx, softphone.TypeWelcome)
	if err != nil {
		return softphone.Welcome{}, err
	}
	return m.(softphone.Welcome), nil
}

// readLoop files every message in the inbox until the socket ends.
func (c *Client) readLoop() {
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			c.cancel(fmt.Errorf("socket: %w", err))
			return
		}
		m, err := softphone.Decode(data)
		if err != nil {
			c.log.Warn("agentclient: bad message from server", "err", err)
			continue
		}
		c.inboxMu.Lock()
		if len(c.inbox) >= maxInbox {
			c.inbox = c.inbox[1:]
		}
		c.inbox = append(c.inbox, m)
		close(c.notify)
		c.notify = make(chan struct{})
		c.inboxMu.Unlock()
	}
}

// pingLoop sends ping every interval.
func (c *Client) pingLoop(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(c.ctx, interval)
			err := c.Send(ctx, softphone.Ping{T: now.UnixMilli()})
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// newAPI builds a pion API like a browser restricted to G.711, on
// loopback only.
func newAPI(log *slog.Logger) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: media.SampleRate},
		PayloadType:        webrtc.PayloadType(media.PCMU),
	}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: softphone.PionLoggerFactory(log)}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{})), nil
}

// Connect sets up the media: a new PeerConnection (closing the previous
// one), webrtc_offer, webrtc_answer, and waits until it is connected. The
// microphone then sends silence until SetTone.
func (c *Client) Connect(ctx context.Context) error {
	api, err := newAPI(c.log)
	if err != nil {
		return fmt.Errorf("agentclient: %w", err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("agentclient: peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: media.SampleRate}, "mic", "agentclient")
	if err != nil {
		_ = pc.Close()
		return fmt.Errorf("agentclient: track: %w", err)
	}
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if !c.ifOpen(func() { c.wg.Add(1) }) {
			return
		}
		defer c.wg.Done()
		c.readTrack(t)
	})
	if err := c.swapPC(pc, track); err != nil {
		_ = pc.Close()
		return err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("agentclient: add track: %w", err)
	}
	c.ifOpen(func() {
		c.wg.Go(func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Read(buf); err != nil {
					return
				}
			}
		})
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("agentclient: offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("agentclient: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("agentclient: gathering: %w", context.Cause(ctx))
	}
	if err := c.Send(ctx, softphone.WebRTCOffer{SDP: pc.LocalDescription().SDP}); err != nil {
		return err
	}
	m, err := c.Wait(ctx, softphone.TypeWebRTCAnswer)
	if err != nil {
		return err
	}
	answer := m.(softphone.WebRTCAnswer)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		return fmt.Errorf("agentclient: set answer: %w", err)
	}
	select {
	case <-connected:
	case <-ctx.Done():
		return fmt.Errorf("agentclient: waiting for the connection: %w", context.Cause(ctx))
	}
	if c.sending.CompareAndSwap(false, true) {
		c.ifOpen(func() { c.wg.Go(c.sendLoop) })
	}
	return nil
}

// CloseMedia closes the peer connection and keeps the socket open, as a
// page whose media connection failed would; Connect sets it up again.
func (c *Client) CloseMedia() error {
	c.pcMu.Lock()
	pc := c.pc
	c.pc = nil
	c.pcMu.Unlock()
	if pc == nil {
		return nil
	}
	return pc.GracefulClose()
}

// ifOpen runs f under pcMu unless the client is closing; it reports
// whether f ran.
func (c *Client) ifOpen(f func()) bool {
	c.pcMu.Lock()
	defer c.pcMu.Unlock()
	if c.closing {
		return false
	}
	f()
	return true
}

// swapPC installs a new peer connection and closes the previous one.
func (c *Client) swapPC(pc *webrtc.PeerConnection, track *webrtc.TrackLocalStaticRTP) error {
	c.pcMu.Lock()
	if c.closing {
		c.pcMu.Unlock()
		return ErrClosed
	}
	old := c.pc
	c.pc, c.track = pc, track
	c.pcMu.Unlock()
	if old != nil {
		_ = old.GracefulClose()
	}
	return nil
}

// SetTone makes the microphone send a sine at hz (0: silence), rounded to a
// whole number of hertz.
func (c *Client) SetTone(hz float64) { c.toneHz.Store(math.Float64bits(math.Round(hz))) }

// Mute silences the microphone (on) or turns it back on (off), and tells
// the server with a mute message for callID, as the page's mute button
// does. While muted the client sends silent frames, as a browser does for a
// disabled track.
func (c *Client) Mute(ctx context.Context, callID string, on bool) error {
	c.muted.Store(on)
	return c.Send(ctx, softphone.Mute{CallID: callID, On: on})
}

// Muted reports whether the microphone is muted.
func (c *Client) Muted() bool { return c.muted.Load() }

// PauseRecording asks the server to pause (on) or resume (off) the
// recording of callID (a PCI pause); the server answers with a call message
// carrying the new recording state, or an error.
func (c *Client) PauseRecording(ctx context.Context, callID string, on bool) error {
	return c.Send(ctx, softphone.PauseRecording{CallID: callID, On: on})
}

// toneSecond returns one second of a sine at a whole hz, PCMU-encoded: it
// repeats seamlessly, and one second is exactly 50 frames, so the send loop
// only slices it.
func toneSecond(hz, amp float64) []byte {
	pcm := make([]int16, media.SampleRate)
	for i := range pcm {
		pcm[i] = int16(amp * 32767 * math.Sin(2*math.Pi*hz*float64(i)/media.SampleRate))
	}
	return media.EncodeFrame(media.PCMU, pcm, nil)
}

// sendLoop sends one 20 ms PCMU packet per tick: the tone or silence.
func (c *Client) sendLoop() {
	amp := c.opts.ToneAmplitude
	if amp == 0 {
		amp = 0.3
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(media.PCMU), Marker: true}}
	var (
		hz    = math.NaN() // the tone sec holds; NaN: none yet
		sec   []byte       // one second of it, encoded
		frame int          // the next frame of sec to send
		quiet = media.EncodeFrame(media.PCMU, make([]int16, frameSamples), nil)
	)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if want := math.Float64frombits(c.toneHz.Load()); want != hz {
			hz, sec = want, toneSecond(want, amp)
		}
		pkt.Payload = sec[frame*frameSamples : (frame+1)*frameSamples]
		if c.muted.Load() {
			pkt.Payload = quiet
		}
		frame = (frame + 1) % (media.SampleRate / frameSamples)
		c.pcMu.Lock()
		track := c.track
		c.pcMu.Unlock()
		_ = track.WriteRTP(&pkt)
		pkt.Marker = false
		pkt.SequenceNumber++
		pkt.Timestamp += frameSamples
	}
}

// readTrack records the server's audio.
func (c *Client) readTrack(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	pcm := make([]int16, 0, 480)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil || len(pkt.Payload) > 480 {
			continue
		}
		pcm = media.DecodeFrame(media.PCMU, pkt.Payload, pcm[:0])
		c.recMu.Lock()
		c.stream.add(&c.last, &pkt.Header, len(pcm))
		for _, s := range pcm {
			c.rec[c.recPos] = s
			c.recPos = (c.recPos + 1) % len(c.rec)
		}
		c.recCount += int64(len(pcm))
		c.recMu.Unlock()
	}
}

// StreamStats describes the RTP stream the server sent this client, over
// every peer connection it had: a reconnect must continue the same stream.
type StreamStats struct {
	Packets int64 // packets received
	Lost    int64 // sequence numbers skipped (packets not received)
	// Misnumbered counts packets whose numbering breaks the stream: a
	// sequence number that went back, or a timestamp that did not move by
	// the samples of the packets in between (a marked packet, the start of
	// a talkspurt, may move it further).
	Misnumbered int64
	SSRCChanges int64 // the SSRC changed: each peer connection has its own
}

// add accounts for packet h of n samples after last, and makes it last.
func (s *StreamStats) add(last, h *rtp.Header, n int) {
	defer func() { *last = *h; last.CSRC, last.Extensions = nil, nil }()
	s.Packets++
	if s.Packets == 1 {
		return
	}
	if h.SSRC != last.SSRC {
		s.SSRCChanges++ // a new RTP session (peer connection); the numbering is still checked
	}
	gap := h.SequenceNumber - last.SequenceNumber // mod 2^16
	if gap == 0 || gap > 1<<15 {
		s.Misnumbered++
		return
	}
	s.Lost += int64(gap) - 1
	advance := h.Timestamp - last.Timestamp // mod 2^32
	want := uint32(gap) * uint32(n)
	if advance != want && !(h.Marker && advance > want && advance < 1<<31) {
		s.Misnumbered++
	}
}

// Stream returns what the client saw of the server's RTP stream so far.
func (c *Client) Stream() StreamStats {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	return c.stream
}

// Received returns how many samples of audio the client has heard so far.
func (c *Client) Received() int64 {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	return c.recCount
}

// Heard returns the power (media.Power) of hz in the last d of received
// audio (at most 2 s): about 0.5 × amplitude² for a tone at hz, near 0
// without it.
func (c *Client) Heard(hz float64, d time.Duration) float64 {
	n := int(d.Seconds() * media.SampleRate)
	n = min(max(n, 1), len(c.rec))
	samples := make([]int16, n)
	c.recMu.Lock()
	start := c.recPos - n
	for i := range samples {
		samples[i] = c.rec[(start+i+len(c.rec))%len(c.rec)]
	}
	c.recMu.Unlock()
	return media.Power(samples, hz)
}

// Close drops the socket without a close handshake (like a closed tab) and
// the peer connection, and waits for the client's goroutines. It is
// idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.cancel(ErrClosed)
		_ = c.conn.CloseNow()
		c.pcMu.Lock()
		c.closing = true
		pc := c.pc
		c.pcMu.Unlock()
		if pc != nil {
			_ = pc.GracefulClose()
		}
		c.wg.Wait()
	})
	return nil
}
