package media

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrRelayClosed is returned by WriteFrame on a closed Relay.
var ErrRelayClosed = errors.New("media: relay closed")

// DropRelayOverflow is the Observer.PacketDropped reason for a frame a Relay
// dropped because its queue was full or standing.
const DropRelayOverflow = "relay_overflow"

const (
	// relayDepth is how many frames a Relay holds: a burst beyond it drops
	// the oldest frame. Three frames absorb the jitter of a sender paced by
	// another clock (its frame arriving just before or just after our tick).
	relayDepth = 3
	// relayPause: after more than this many frame times without a frame the
	// source is pausing (silence suppression, a hold), and the gap up to its
	// next frame is no pacing error, so it is not reported.
	relayPause = 2
	// relayTrimFrames: when at least two frames stood in the queue after
	// every send over this many sends, the oldest is dropped, so that a queue
	// built by one burst does not delay the audio for the rest of the call.
	// One standing frame is kept: it absorbs a late frame without a gap.
	relayTrimFrames = 50
)

// Relay is a FrameWriter that re-paces audio forwarded from another call leg
// (a bridge): it copies each written frame into a small queue (at most three
// frames; the oldest is dropped and counted beyond that) and writes one frame
// per 20 ms to its destination, on the node's Pacer wheel, or on a ticker of
// its own when it has none.
//
// When the queue is empty the relay writes nothing: RTP needs no packets
// while the source is silent, and a late frame is better sent late (the
// receiver's jitter buffer hides the gap) than replaced by silence. The first
// late frame so leaves one frame standing in the queue, which absorbs later
// jitter; a queue that keeps two or more frames for a second loses its oldest,
// so the added delay settles at 40 ms or less and never exceeds three frame
// times.
//
// Each gap between consecutive writes is reported to Observer.SendInterval,
// except the gap across a pause of the source (no frame for over 40 ms).
// Frames must be 20 ms long (longer ones are sent as they are, one per tick).
type Relay struct {
	dst FrameWriter
	obs Observer

	mu      sync.Mutex // guards the queue and closed
	queue   [relayDepth][]int16
	head, n int
	closed  bool
	ticker  bool // a ticker goroutine serves the relay

	// wmu is held while writing to dst; Close takes it to wait for a write.
	wmu     sync.Mutex
	out     []int16   // the frame being written; owned by the writer under wmu
	last    time.Time // when the previous frame was written
	idle    int       // ticks without a frame since the last write
	sends   int       // sends in the current trim window
	minLeft int       // smallest queue left after a send in the window
	err     error     // dst failed: nothing more is written

	dropped   atomic.Uint64
	pacer     *Pacer // nil: own ticker
	slot      int
	stopCtx   func() bool
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Relay returns a Relay that writes to dst on p's wheel, in dst's slot when
// dst is an *Endpoint opened with p. It runs until ctx is done or Close; obs
// may be nil. It needs no goroutine of its own, unless p is closed: then it
// paces itself with a ticker, as Play does.
func (p *Pacer) Relay(ctx context.Context, dst FrameWriter, obs Observer) *Relay {
	slot := -1
	if ep, ok := dst.(*Endpoint); ok && ep.pacer == p {
		slot = ep.slot
	}
	return newRelay(ctx, dst, obs, p, slot)
}

// Relay returns a Relay that writes to dst on this endpoint's pacer, at the
// slot just after the endpoint's own (2 ms after its socket is drained), so
// audio received here and relayed on (the endpoint's sink) waits for no extra
// frame time. Without a pacer the relay paces itself with a ticker. It runs
// until ctx is done or Close; obs may be nil.
func (e *Endpoint) Relay(ctx context.Context, dst FrameWriter, obs Observer) *Relay {
	if e.pacer == nil {
		return newRelay(ctx, dst, obs, nil, 0)
	}
	return newRelay(ctx, dst, obs, e.pacer, (e.slot+1)%pacerSlots)
}

// NewRelay returns a Relay that writes to dst paced by a ticker of its own
// (one goroutine, stopped by Close or ctx). Nodes use Pacer.Relay or
// Endpoint.Relay instead. obs may be nil.
func NewRelay(ctx context.Context, dst FrameWriter, obs Observer) *Relay {
	return newRelay(ctx, dst, obs, nil, 0)
}

func newRelay(ctx context.Context, dst FrameWriter, obs Observer, p *Pacer, slot int) *Relay {
	if obs == nil {
		obs = nopObserver{}
	}
	r := &Relay{dst: dst, obs: obs, pacer: p, slot: slot, done: make(chan struct{}), minLeft: relayDepth}
	if p == nil || !p.addRelay(r, slot) {
		r.mu.Lock()
		r.startTicker()
		r.mu.Unlock()
	}
	stop := context.AfterFunc(ctx, func() { _ = r.Close() })
	r.mu.Lock() // ctx may already be done: Close may be running now
	r.stopCtx = stop
	r.mu.Unlock()
	return r
}

// WriteFrame queues a copy of pcm to be written at the relay's next free
// tick; the oldest queued frame is dropped when the queue is full. It returns
// ErrRelayClosed after Close.
func (r *Relay) WriteFrame(pcm []int16) error {
	if len(pcm) > maxFramePayload {
		return fmt.Errorf("media: relay: frame of %d samples is longer than %d", len(pcm), maxFramePayload)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrRelayClosed
	}
	if len(pcm) == 0 {
		return nil
	}
	if r.n == relayDepth {
		r.head = (r.head + 1) % relayDepth
		r.n--
		r.drop()
	}
	i := (r.head + r.n) % relayDepth
	r.queue[i] = append(r.queue[i][:0], pcm...)
	r.n++
	return nil
}

// Dropped returns how many frames the relay dropped (overflow or trimming).
func (r *Relay) Dropped() uint64 { return r.dropped.Load() }

// Err returns the destination's error that stopped the relay's writes, or
// nil.
func (r *Relay) Err() error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return r.err
}

// Close stops the relay: once it returns, nothing more is written to dst.
// Queued frames are discarded. Close is idempotent and returns nil.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		if r.stopCtx != nil {
			r.stopCtx()
		}
		r.closed = true
		r.n = 0
		r.mu.Unlock()
		close(r.done)
		if r.pacer != nil {
			r.pacer.removeRelay(r)
		}
		r.wg.Wait()
		r.wmu.Lock() // waits for a write in progress on the pacer
		r.wmu.Unlock()
	})
	return nil
}

// drop counts one dropped frame; the caller holds mu.
func (r *Relay) drop() {
	r.dropped.Add(1)
	r.obs.PacketDropped(DropRelayOverflow)
}

// startTicker serves the relay from a goroutine of its own; the caller holds
// mu.
func (r *Relay) startTicker() {
	if r.closed || r.ticker {
		return
	}
	r.ticker = true
	r.wg.Add(1)
	go r.runTicker()
}

// runTicker writes one frame per 20 ms until Close.
func (r *Relay) runTicker() {
	defer r.wg.Done()
	t := time.NewTicker(FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			r.tick()
		}
	}
}

// tick is one frame time: it writes the next queued frame, if any.
func (r *Relay) tick() {
	r.wmu.Lock()
	r.mu.Lock()
	r.send()
}

// tryTick is tick when neither of the relay's locks is held elsewhere, and
// false, having done nothing, when one is. The pacer, which serves every
// call, must not wait for a writer that the kernel descheduled while it held
// the queue's lock: it serves everyone else first and comes back to this
// relay (a rare case for TryLock that is right).
func (r *Relay) tryTick() bool {
	if !r.wmu.TryLock() {
		return false
	}
	if !r.mu.TryLock() {
		r.wmu.Unlock()
		return false
	}
	r.send()
	return true
}

// send writes the next queued frame, if any; the caller holds wmu and mu,
// and send releases both.
func (r *Relay) send() {
	defer r.wmu.Unlock()
	if r.err != nil || r.closed {
		r.mu.Unlock()
		return
	}
	if r.n == 0 {
		r.minLeft = 0 // an underrun: the queue stands no longer
		r.mu.Unlock()
		if r.idle++; r.idle > relayPause {
			r.last = time.Time{} // a pause of the source is not a pacing gap
		}
		return
	}
	r.out = append(r.out[:0], r.queue[r.head]...)
	r.head = (r.head + 1) % relayDepth
	r.n--
	r.trim()
	r.mu.Unlock()

	r.idle = 0
	now := time.Now()
	if !r.last.IsZero() {
		r.obs.SendInterval(now.Sub(r.last))
	}
	r.last = now
	if err := r.dst.WriteFrame(r.out); err != nil {
		r.err = err
	}
}

// trim tracks the queue left after each send and drops the oldest frame when
// two or more stood for a whole window; the caller holds mu.
func (r *Relay) trim() {
	r.minLeft = min(r.minLeft, r.n)
	r.sends++
	if r.sends < relayTrimFrames {
		return
	}
	if r.minLeft >= 2 {
		r.head = (r.head + 1) % relayDepth
		r.n--
		r.drop()
	}
	r.sends, r.minLeft = 0, relayDepth
}
