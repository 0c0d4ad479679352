package softphone

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline/hotline/internal/media"
)

// ErrLegClosed is returned by Leg.WriteFrame after the agent signed out or
// the Hub closed.
var ErrLegClosed = errors.New("softphone: agent leg closed")

// frameSamples is one 20 ms frame at 8 kHz.
const frameSamples = 160

// gapThreshold: a pause longer than this between two frames written to a
// Leg (between calls, a switch of source) moves the RTP timestamp on by the
// wall-clock time and sets the marker bit, as RFC 3550 §5.1 asks for the
// start of a talkspurt. Shorter irregularities (a late tick) do not.
const gapThreshold = 200 * time.Millisecond

// Leg is one agent's media: the audio sent to their browser and the audio
// of their microphone. It belongs to the agent, not to a connection: it
// survives page reloads (a new peer connection carries the same stream, with
// continuous sequence numbers and timestamps) and lives until the agent
// signs out.
//
// The switchboard bridges a caller to the agent by writing the caller's
// frames to WriteFrame and setting the caller's endpoint as the sink.
type Leg struct {
	agent string
	track *webrtc.TrackLocalStaticRTP

	sink      atomic.Pointer[sinkRef]
	connected atomic.Uint64 // id of the peer whose ICE is connected; 0: none

	mu     sync.Mutex // guards the fields below (the send path)
	closed bool
	clock  rtpClock
	pkt    rtp.Packet
	buf    []byte
}

// rtpClock numbers the packets of one continuous outgoing stream.
type rtpClock struct {
	seq  uint16
	ts   uint32
	last time.Time // when the previous frame was written; zero: none yet
	prev uint32    // samples in the previous frame
}

// next returns the sequence number, timestamp and marker bit of a frame of
// n samples written at now.
func (c *rtpClock) next(now time.Time, n int) (seq uint16, ts uint32, marker bool) {
	switch gap := now.Sub(c.last); {
	case c.last.IsZero():
		marker = true
	case gap > gapThreshold:
		// A pause: the timestamp follows the wall clock, rounded to whole frames.
		frames := (gap + 10*time.Millisecond) / (20 * time.Millisecond)
		c.ts += uint32(frames) * frameSamples
		marker = true
	default:
		c.ts += c.prev
	}
	c.last = now
	c.prev = uint32(n)
	c.seq++
	return c.seq, c.ts, marker
}

// sinkRef boxes a sink for atomic swaps.
type sinkRef struct {
	w media.FrameWriter
}

// newLeg creates the agent's leg with its outgoing PCMU track.
func newLeg(agent string) (*Leg, error) {
	track, err := webrtc.NewTrackLocalStaticRTP(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: media.SampleRate, Channels: 1},
		"audio", "hotline")
	if err != nil {
		return nil, err
	}
	return &Leg{
		agent: agent,
		track: track,
		clock: rtpClock{seq: uint16(rand.Uint32()), ts: rand.Uint32()},
		buf:   make([]byte, 0, 2*frameSamples),
		pkt:   rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(media.PCMU)}},
	}, nil
}

// Agent returns the id of the agent this leg belongs to.
func (l *Leg) Agent() string { return l.agent }

// Connected reports whether a browser peer connection is up right now
// (ICE and DTLS connected), so audio written now is heard.
func (l *Leg) Connected() bool { return l.connected.Load() != 0 }

// WriteFrame sends 20 ms of 8 kHz PCM to the agent's browser as PCMU. It
// implements media.FrameWriter. With no browser attached (during a page
// reload) the frame is dropped and the stream's clock still advances. It
// returns ErrLegClosed once the agent signed out; nothing else is an error.
func (l *Leg) WriteFrame(pcm []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrLegClosed
	}
	if len(pcm) == 0 {
		return nil
	}
	l.pkt.SequenceNumber, l.pkt.Timestamp, l.pkt.Marker = l.clock.next(time.Now(), len(pcm))
	l.buf = media.EncodeFrame(media.PCMU, pcm, l.buf[:0])
	l.pkt.Payload = l.buf
	// A write error means one peer connection is going away (pion keeps
	// sending to the others); the leg itself is fine.
	_ = l.track.WriteRTP(&l.pkt)
	return nil
}

// SetSink sets where the agent's microphone audio goes, as 20 ms frames of
// 8 kHz PCM; nil drops it. The sink is called from the receiving goroutine
// and must not block.
func (l *Leg) SetSink(w media.FrameWriter) {
	if w == nil {
		l.sink.Store(nil)
		return
	}
	l.sink.Store(&sinkRef{w: w})
}

// DropSink drops the sink if it is still w, and reports whether it was: a
// call letting go of the leg leaves alone a sink another call has set since.
func (l *Leg) DropSink(w media.FrameWriter) bool {
	for {
		s := l.sink.Load()
		if s == nil || s.w != w {
			return false
		}
		if l.sink.CompareAndSwap(s, nil) {
			return true
		}
	}
}

// deliver hands one received frame to the current sink.
func (l *Leg) deliver(pcm []int16) {
	if s := l.sink.Load(); s != nil {
		_ = s.w.WriteFrame(pcm)
	}
}

// close ends the leg: WriteFrame fails from now on and the sink is dropped.
func (l *Leg) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.sink.Store(nil)
}
