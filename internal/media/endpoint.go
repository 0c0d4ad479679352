package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Errors an Endpoint reports.
var (
	// ErrMediaTimeout ends an endpoint that received no RTP for
	// EndpointConfig.MediaTimeout after its remote was set.
	ErrMediaTimeout = errors.New("media: no RTP received (media timeout)")
	// ErrClosed is returned by operations on a closed endpoint.
	ErrClosed = errors.New("media: endpoint closed")
	// ErrNoTelephoneEvent is returned by SendDigit when RFC 4733 was not
	// negotiated.
	ErrNoTelephoneEvent = errors.New("media: telephone-event not negotiated")
)

// Observer receives the endpoint's counters; the metrics package implements
// it. Methods are called from the endpoint's goroutines and must be cheap.
type Observer interface {
	PacketReceived()
	PacketSent()
	PacketDropped(reason string)  // "malformed", "unknown_pt", "late", ...
	SendInterval(d time.Duration) // gap between consecutive paced sends (Play)
}

// Reasons passed to Observer.PacketDropped.
const (
	DropMalformed = "malformed"  // not RTP, or a broken RTP or RFC 4733 payload
	DropUnknownPT = "unknown_pt" // a payload type that was not negotiated
	DropLate      = "late"       // arrived after the jitter buffer moved past it
	DropDuplicate = "duplicate"  // a sequence number already buffered
	DropNoRemote  = "no_remote"  // arrived before SetRemote
	DropRTCP      = "rtcp"       // RTCP multiplexed on the RTP port (ignored)
	DropOversize  = "oversize"   // audio payload longer than 80 ms
)

// nopObserver is used when no Observer is configured.
type nopObserver struct{}

func (nopObserver) PacketReceived()            {}
func (nopObserver) PacketSent()                {}
func (nopObserver) PacketDropped(string)       {}
func (nopObserver) SendInterval(time.Duration) {}

// EndpointConfig configures one call's RTP endpoint.
type EndpointConfig struct {
	Logger *slog.Logger // carries the call id; nil discards
	// MediaTimeout ends the endpoint with ErrMediaTimeout when no RTP arrives
	// for this long after SetRemote; 0 turns it off.
	MediaTimeout time.Duration
	Observer     Observer // may be nil
	// OnClose, when set, is called once as the endpoint closes, with
	// ErrMediaTimeout when the media timed out (else nil): the owner learns
	// of the end without a goroutine waiting on Done. It runs on the
	// goroutine that closes the endpoint (the pacer's, for a timeout) and
	// must not block.
	OnClose func(err error)
	// OnDigit, when set, takes every received digit instead of the Digits
	// channel (which then only closes). It runs on the goroutine that
	// received the packet (the pacer's) and must not block.
	OnDigit func(Digit)
}

// Remote is what SDP negotiation decided about the far end.
type Remote struct {
	// Addr is where to send until symmetric-RTP latching learns the real
	// source of the peer's packets.
	Addr       netip.AddrPort
	Codec      Codec
	DTMFType   uint8 // RFC 4733 payload type, 0 = not negotiated
	InbandDTMF bool  // run the Goertzel detector on received audio
	// Paused suspends the media timeout while the peer has said it will not
	// send (a=inactive or a=recvonly, e.g. on hold).
	Paused bool
}

// Size limits of the endpoint's reused buffers.
const (
	maxDatagram     = 1500
	rtpHeaderLen    = 12  // the RTP header we send: no CSRC, no extension
	srtpTagRoom     = 16  // the longest SRTP authentication tag (AEAD_AES_256_GCM)
	maxFramePayload = 640 // 80 ms of G.711
	digitQueue      = 32
	// inbandHoldOff ignores in-band detections this long after an RFC 4733
	// packet, so a peer sending both gives one digit.
	inbandHoldOff = 500 * time.Millisecond
)

// Endpoint is one call's RTP socket: it sends 20 ms G.711 frames, receives,
// reorders and decodes the peer's audio, and reports DTMF digits. Without a
// Pacer a goroutine of its own reads the socket; opened with one (Linux,
// IPv4), the pacer's goroutine polls it. All methods are safe for concurrent
// use.
type Endpoint struct {
	sock    packetSocket // what WriteFrame and SendDigit send on
	conn    *net.UDPConn // read by readLoop; nil when the pacer polls raw
	raw     *rawSocket   // polled by the pacer every tick; nil with conn
	local   netip.AddrPort
	log     *slog.Logger
	obs     Observer
	timeout time.Duration
	onClose func(error)
	onDigit func(Digit)
	release func(port int)
	pacer   *Pacer // paces Play on this endpoint; nil = a ticker per Play
	slot    int    // the endpoint's place on the pacer's wheel

	mu          sync.Mutex // guards the fields below
	remote      Remote
	haveRemote  bool
	sendAddr    netip.AddrPort // r.Addr, or the latched source
	latchLogged bool           // the first latch since SetRemote was logged
	sink        FrameWriter
	said, heard FrameWriter // the recorder's taps (SetTaps); nil when not recorded

	wmu         sync.Mutex // guards the send state below
	ssrc        uint32
	seq         uint16
	ts          uint32
	marker      bool // next audio packet starts a talk spurt
	digitActive bool // SendDigit owns the stream: audio is muted
	// sendBuf holds one packet we send: a plain 12-byte RTP header (no
	// CSRC, no extension), a 20 ms G.711 payload and room for an SRTP
	// authentication tag. A longer frame (rare: we send 20 ms) gets a
	// buffer of its own.
	sendBuf [rtpHeaderLen + FrameSamples + srtpTagRoom]byte

	srtpTx atomic.Pointer[srtpTx] // set by SetSRTP: send protects; nil = plain RTP
	srtpRx atomic.Pointer[srtpRx] // set by SetSRTP: receive unprotects

	digitSem chan struct{} // one SendDigit at a time
	lastRecv atomic.Int64  // unix nanoseconds of the last RTP packet
	armed    atomic.Bool   // remote set: the media timeout runs
	paused   atomic.Bool   // Remote.Paused
	closed   atomic.Bool   // done is closed (cheaper to test per frame)
	// listening: received audio is used (a sink or in-band detection), so a
	// pacer polls the socket every frame time, not every idlePollFrames.
	listening atomic.Bool

	// rxMu is held while the pacer's poll loop feeds raw's datagrams to rx;
	// shutdown takes it to know no poll is running any more.
	rxMu   sync.Mutex
	rx     *receiver // the polled endpoint's receive state
	rxDone bool      // no more polls: digits is closed

	digits    chan Digit
	done      chan struct{}
	closeOnce sync.Once
	errMu     sync.Mutex
	err       error
	wg        sync.WaitGroup
}

// newEndpoint wraps a bound socket, conn or raw, and starts reading it: a
// goroutine reads conn; the pacer polls raw.
func newEndpoint(conn *net.UDPConn, raw *rawSocket, local netip.AddrPort, cfg EndpointConfig, pacer *Pacer, release func(int)) *Endpoint {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	e := &Endpoint{
		conn:     conn,
		raw:      raw,
		local:    local,
		log:      log.With("rtp_local", local.String()),
		obs:      obs,
		timeout:  cfg.MediaTimeout,
		onClose:  cfg.OnClose,
		onDigit:  cfg.OnDigit,
		release:  release,
		pacer:    pacer,
		ssrc:     rand.Uint32(),
		seq:      uint16(rand.Uint32()),
		ts:       rand.Uint32(),
		marker:   true,
		digitSem: make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if e.onDigit != nil {
		e.digits = make(chan Digit) // never sent on: OnDigit takes the digits
	} else {
		e.digits = make(chan Digit, digitQueue)
	}
	if pacer != nil {
		e.slot = pacer.assignSlot()
	}
	if raw != nil {
		e.sock = raw
		e.rx = newReceiver()
		pacer.addEndpoint(e)
	} else {
		e.sock = connSocket{conn}
		e.wg.Add(1)
		go e.readLoop()
	}
	if e.timeout > 0 && raw == nil {
		e.wg.Add(1)
		go e.watchdog()
	}
	return e
}

// LocalAddr returns the address the endpoint's socket is bound to.
func (e *Endpoint) LocalAddr() netip.AddrPort { return e.local }

// SetRemote sets (or, on a re-INVITE, changes) the negotiated far end. A new
// address resets symmetric-RTP latching; the same address keeps a latched
// source.
func (e *Endpoint) SetRemote(r Remote) {
	e.mu.Lock()
	if !e.haveRemote || r.Addr != e.remote.Addr {
		e.sendAddr, e.latchLogged = r.Addr, false
	}
	e.remote, e.haveRemote = r, true
	e.listening.Store(e.listensLocked())
	e.mu.Unlock()
	e.paused.Store(r.Paused)
	e.lastRecv.Store(time.Now().UnixNano()) // the timeout counts from here
	e.armed.Store(true)
	e.log.Debug("rtp remote set", "remote", r.Addr.String(), "codec", r.Codec.String(),
		"dtmf_pt", r.DTMFType, "inband", r.InbandDTMF, "paused", r.Paused)
}

// SetSink sets where decoded, reordered received frames go (nil for none).
// The sink is called from the endpoint's reader goroutine (or the pacer's,
// shared by every call); it must not keep the frame, block, or call Close.
func (e *Endpoint) SetSink(s FrameWriter) {
	e.mu.Lock()
	e.sink = s
	e.listening.Store(e.listensLocked())
	e.mu.Unlock()
}

// SetTaps sets where a recorder hears the call (nil, nil for nowhere): said
// gets every decoded frame received from the peer, heard every frame sent
// to it (prompts, music, a bridged agent), each as it passes. Like a sink,
// a tap is called from the media goroutines and must copy, never block.
func (e *Endpoint) SetTaps(said, heard FrameWriter) {
	e.mu.Lock()
	e.said, e.heard = said, heard
	e.listening.Store(e.listensLocked())
	e.mu.Unlock()
}

// listensLocked reports whether received audio is used; the caller holds mu.
func (e *Endpoint) listensLocked() bool {
	return e.sink != nil || e.said != nil || e.remote.InbandDTMF
}

// Digits returns the DTMF digits received by RFC 4733 or in-band detection,
// one per key press, unless EndpointConfig.OnDigit takes them. The channel
// is closed once the endpoint has stopped.
func (e *Endpoint) Digits() <-chan Digit { return e.digits }

// Done is closed when the endpoint is closed or its media timed out.
func (e *Endpoint) Done() <-chan struct{} { return e.done }

// Err returns ErrMediaTimeout if the media timed out, otherwise nil.
func (e *Endpoint) Err() error {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	return e.err
}

// Close stops the endpoint, waits for its goroutines and puts its port into
// quarantine. It is idempotent and always returns nil.
func (e *Endpoint) Close() error {
	e.shutdown(nil)
	e.wg.Wait()
	return nil
}

// shutdown ends the endpoint once, recording why.
func (e *Endpoint) shutdown(cause error) {
	e.closeOnce.Do(func() {
		e.errMu.Lock()
		e.err = cause
		e.errMu.Unlock()
		e.closed.Store(true)
		close(e.done)
		e.sock.close()
		if e.raw != nil {
			e.pacer.removeEndpoint(e)
			e.rxMu.Lock()
			e.rxDone = true
			close(e.digits)
			e.rxMu.Unlock()
		}
		if e.release != nil {
			e.release(int(e.local.Port()))
		}
		if e.onClose != nil {
			e.onClose(cause)
		}
	})
}

// watchdog ends the endpoint when no RTP arrived for the media timeout; a
// polled endpoint has none: its pacer calls mediaTimedOut instead.
func (e *Endpoint) watchdog() {
	defer e.wg.Done()
	timer := time.NewTimer(e.timeout)
	defer timer.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-timer.C:
		}
		if !e.armed.Load() || e.paused.Load() {
			timer.Reset(e.timeout)
			continue
		}
		since := time.Since(time.Unix(0, e.lastRecv.Load()))
		if since < e.timeout {
			timer.Reset(e.timeout - since)
			continue
		}
		e.expire(since)
		return
	}
}

// mediaTimedOut reports whether the media timeout has passed at now.
func (e *Endpoint) mediaTimedOut(now int64) bool {
	return e.timeout > 0 && e.armed.Load() && !e.paused.Load() &&
		time.Duration(now-e.lastRecv.Load()) >= e.timeout && !e.closed.Load()
}

// expire ends the endpoint with ErrMediaTimeout, nothing received for since.
func (e *Endpoint) expire(since time.Duration) {
	e.mu.Lock()
	remote := e.sendAddr
	e.mu.Unlock()
	e.log.Warn("rtp media timeout: ending call", "cause", fmt.Sprintf("no RTP received for %s", since.Round(time.Millisecond)),
		"remote", remote.String(), "timeout", e.timeout)
	e.shutdown(ErrMediaTimeout)
}

// WriteFrame encodes one frame (normally 160 samples) with the negotiated
// codec and sends it at once. It does nothing while no remote is known or
// while SendDigit is sending an event. Send errors other than ErrClosed are
// logged, not returned, so a transient socket error does not end a prompt.
func (e *Endpoint) WriteFrame(pcm []int16) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if len(pcm) > maxFramePayload {
		return fmt.Errorf("media: frame of %d samples is longer than %d", len(pcm), maxFramePayload)
	}
	e.mu.Lock()
	codec, addr, ok, heard := e.remote.Codec, e.sendAddr, e.haveRemote, e.heard
	e.mu.Unlock()
	if !ok || !addr.IsValid() {
		return nil
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if e.digitActive {
		return nil
	}
	if heard != nil {
		_ = heard.WriteFrame(pcm)
	}
	h := rtp.Header{
		Version:        2,
		Marker:         e.marker,
		PayloadType:    uint8(codec),
		SequenceNumber: e.seq,
		Timestamp:      e.ts,
		SSRC:           e.ssrc,
	}
	buf := e.sendBuf[:]
	if len(pcm) > FrameSamples {
		buf = make([]byte, rtpHeaderLen+len(pcm)+srtpTagRoom)
	}
	n, err := h.MarshalTo(buf)
	if err != nil {
		return fmt.Errorf("media: marshal RTP header: %w", err)
	}
	payload := EncodeFrame(codec, pcm, buf[n:n])
	e.marker = false
	e.seq++
	e.ts += uint32(len(pcm))
	return e.send(buf[:n+len(payload)], addr)
}

// send writes one datagram; the caller holds wmu.
func (e *Endpoint) send(b []byte, addr netip.AddrPort) error {
	if tx := e.srtpTx.Load(); tx != nil {
		var err error
		if b, err = tx.protect(b); err != nil {
			e.log.Debug("srtp protect failed", "err", err)
			return nil
		}
	}
	if err := e.sock.writeTo(b, addr); err != nil {
		if errors.Is(err, ErrClosed) {
			return ErrClosed
		}
		e.log.Debug("rtp send failed", "remote", addr.String(), "err", err)
		return nil
	}
	e.obs.PacketSent()
	return nil
}

// SendDigit sends key as RFC 4733 events lasting d (100 ms if d ≤ 0): a start
// packet with the marker bit, an update every 20 ms and three end packets.
// Audio written meanwhile is muted. If ctx is cancelled the event is ended
// early and ctx.Err() returned.
func (e *Endpoint) SendDigit(ctx context.Context, key byte, d time.Duration) error {
	event, ok := KeyEvent(key)
	if !ok {
		return fmt.Errorf("media: %q is not a DTMF key", key)
	}
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	total := min(max(int(d*SampleRate/time.Second), FrameSamples), 0xFFFF)
	select {
	case <-e.done:
		return ErrClosed
	default:
	}
	select {
	case e.digitSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return ErrClosed
	}
	defer func() { <-e.digitSem }()
	e.mu.Lock()
	pt, have := e.remote.DTMFType, e.haveRemote
	e.mu.Unlock()
	if !have || pt == 0 {
		return ErrNoTelephoneEvent
	}

	e.wmu.Lock()
	e.digitActive = true
	start := e.ts
	e.wmu.Unlock()

	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	var stopErr error
	dur := FrameSamples
	for first := true; ; first = false {
		ev := DTMFEvent{Event: event, Volume: 10, Duration: uint16(dur)}
		if err := e.sendEvent(pt, start, ev, first, true); err != nil {
			stopErr = err
			break
		}
		if dur >= total {
			break
		}
		select {
		case <-ctx.Done():
			stopErr = ctx.Err()
		case <-e.done:
			stopErr = ErrClosed
		case <-ticker.C:
			dur = min(dur+FrameSamples, total)
			continue
		}
		break
	}
	end := DTMFEvent{Event: event, End: true, Volume: 10, Duration: uint16(dur)}
	for i := range 3 {
		// RFC 4733 §2.5.1.4: the end packet is sent three times with the
		// same sequence number.
		if err := e.sendEvent(pt, start, end, false, i == 2); err != nil && stopErr == nil {
			stopErr = err
		}
	}

	e.wmu.Lock()
	e.ts = start + uint32((dur+FrameSamples-1)/FrameSamples*FrameSamples)
	e.marker = true
	e.digitActive = false
	e.wmu.Unlock()
	return stopErr
}

// sendEvent sends one RFC 4733 packet stamped with the event's start time;
// advance moves the sequence number on afterwards.
func (e *Endpoint) sendEvent(pt uint8, ts uint32, ev DTMFEvent, marker, advance bool) error {
	e.mu.Lock()
	addr := e.sendAddr
	e.mu.Unlock()
	e.wmu.Lock()
	defer e.wmu.Unlock()
	h := rtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    pt,
		SequenceNumber: e.seq,
		Timestamp:      ts,
		SSRC:           e.ssrc,
	}
	n, err := h.MarshalTo(e.sendBuf[:])
	if err != nil {
		return fmt.Errorf("media: marshal RTP header: %w", err)
	}
	b := ev.AppendTo(e.sendBuf[n:n])
	if advance {
		e.seq++
	}
	return e.send(e.sendBuf[:n+len(b)], addr)
}
