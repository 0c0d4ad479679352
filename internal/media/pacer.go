package media

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// The pacer's wheel: each 20 ms frame time is cut into pacerSlots slots, and
// every call (endpoint) belongs to one slot. The pacer wakes once per slot and
// serves only that slot's calls, so the work (and the packets) are spread
// evenly over the frame time instead of all calls sending in one burst.
const (
	pacerSlots   = 10
	slotDuration = FrameDuration / pacerSlots
)

// idlePollFrames: a polled endpoint whose received audio nobody uses (no
// sink, no in-band detection: the IVR and the queue) is drained only every
// this many frame times, a few packets per system call; the RFC 4733 digits
// and the media timeout do not need more.
const idlePollFrames = 3

// maxCatchUp bounds how many missed frames one stream sends in a burst when
// its pacing woke late; frames further behind are skipped.
const maxCatchUp = 25

// errPacerClosed tells a stream's Play that the pacer stopped under it.
var errPacerClosed = errors.New("media: pacer closed")

// pacerPriority is the SCHED_FIFO priority of a Realtime pacer's thread: above
// every ordinary process, below the kernel's own real-time threads (50).
const pacerPriority = 10

// PacerConfig configures a Pacer. The zero value is ready to use.
type PacerConfig struct {
	Logger *slog.Logger // nil discards
	// Realtime runs the pacer on a thread of its own that waits for each
	// slot in the kernel and has real-time priority (Linux SCHED_FIFO), so
	// busy neighbours on the machine do not delay the frames. Raising the
	// priority needs CAP_SYS_NICE or an RLIMIT_RTPRIO (systemd LimitRTPRIO=)
	// of at least 10; without it a warning is logged and the thread keeps
	// ordinary priority. Elsewhere than Linux it is ignored.
	Realtime bool
	// Observer, when set, hears of every wake-up of the pacer: how late it
	// woke and how long its work took. Late wake-ups are what delay frames.
	Observer PacerObserver
}

// PacerObserver watches a Pacer's clock. It is called from the pacer's
// goroutine once per wake-up (every 2 ms) and must not block.
type PacerObserver interface {
	// PacerWake reports one wake-up: late is how long after the slot was
	// due the pacer woke, work how long serving the due slots took.
	PacerWake(late, work time.Duration)
}

type nopPacerObserver struct{}

func (nopPacerObserver) PacerWake(late, work time.Duration) {}

// Pacer is one node's media clock. Instead of a ticker, a goroutine and a
// wake-up per call and per packet, one goroutine serves every call: it wakes
// every 2 ms and, for the tenth of the calls whose slot that is,
//
//   - writes the next frame of every playing prompt. Frame k of a stream is
//     due k×20 ms after it started; a late wake-up sends the missed frames at
//     once, so nothing is dropped and the RTP timestamps keep pace with wall
//     time;
//   - drains the sockets of the endpoints opened with the pacer (on Linux,
//     IPv4): one recvmmsg per socket, no goroutine per endpoint and no thread
//     wake-up per packet. Received audio reaches sinks and digit channels from
//     this goroutine at most 20 ms after it arrived, or 60 ms when nobody
//     listens to the audio (no sink, no in-band detection).
//
// Its owner (the node) creates it with NewPacer, hands it to the endpoints via
// PortsConfig.Pacer, and closes it after closing those endpoints (endpoints
// still open then receive nothing more). Play uses it for every *Endpoint
// opened with it. Writers and sinks it drives must not block.
type Pacer struct {
	epoch    time.Time
	log      *slog.Logger
	realtime bool
	obs      PacerObserver

	mu       sync.Mutex // guards the fields below
	slots    [pacerSlots]pacerSlot
	sub      int64 // the slot tick being processed, or the last one
	nextSlot int   // round robin for new endpoints and other writers
	closed   bool

	// The pacer goroutine's snapshots and buffers.
	frame    [FrameSamples]int16 // a prompt's last, padded frame
	batch    []*stream
	relays   []*Relay
	polled   []*Endpoint
	pollBufs *pollBuffers

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// pacerSlot is what the pacer serves at one slot of the frame time.
type pacerSlot struct {
	streams []*stream
	eps     map[*Endpoint]struct{} // raw endpoints to poll
	relays  []*Relay               // served first, once per frame time
}

// stream is one Play in progress on a Pacer.
type stream struct {
	mu      sync.Mutex // held while writing; Play takes it to stop the stream
	w       FrameWriter
	p       *Prompt
	then    []*Prompt // played after p, in order (a background playback)
	loop    *Prompt   // then repeated until stopped; nil: the stream ends
	obs     Observer
	slot    int
	off     int        // next sample of p to send
	next    int64      // slot tick the next frame is due at
	last    time.Time  // when the previous frame went out
	stopped bool       // no more writes; result holds the outcome
	result  chan error // buffered; receives the outcome once
}

// NewPacer starts a pacer; Close stops it.
func NewPacer(cfg PacerConfig) *Pacer {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopPacerObserver{}
	}
	p := &Pacer{
		epoch: time.Now(), log: log, realtime: cfg.Realtime, obs: obs,
		pollBufs: newPollBuffers(), done: make(chan struct{}),
	}
	for i := range p.slots {
		p.slots[i].eps = make(map[*Endpoint]struct{})
	}
	p.wg.Add(1)
	go p.run()
	return p
}

// Close stops the pacer and waits for its goroutine. Prompts still playing
// carry on, each with its own ticker. Close is idempotent and returns nil.
func (p *Pacer) Close() error {
	p.closeOnce.Do(func() { close(p.done) })
	p.wg.Wait()
	return nil
}

// Play plays pr to w like the package-level Play, paced by p: the first
// frame goes out within 20 ms and Play returns just after the last frame was
// sent, so a prompt played next on the same endpoint continues 20 ms later.
func (p *Pacer) Play(ctx context.Context, w FrameWriter, pr *Prompt, obs Observer) error {
	if pr == nil {
		return errors.New("media: play: nil prompt")
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(pr.Samples) == 0 {
		return nil
	}
	slot := -1
	if ep, ok := w.(*Endpoint); ok && ep.pacer == p {
		slot = ep.slot
	}
	s := &stream{w: w, p: pr, obs: obs, result: make(chan error, 1)}
	if !p.add(s, slot) {
		return playTicker(ctx, w, pr, obs, 0)
	}
	var err error
	select {
	case err = <-s.result:
	case <-ctx.Done():
		s.mu.Lock()
		finished := s.stopped
		s.stopped = true
		s.mu.Unlock()
		if !finished {
			return ctx.Err()
		}
		err = <-s.result
	}
	if errors.Is(err, errPacerClosed) {
		return playTicker(ctx, w, pr, obs, s.off) // s is no longer shared
	}
	return err
}

// assignSlot gives a new endpoint its place on the wheel.
func (p *Pacer) assignSlot() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.roundRobin()
}

// roundRobin returns the next slot; the caller holds mu.
func (p *Pacer) roundRobin() int {
	s := p.nextSlot
	p.nextSlot = (p.nextSlot + 1) % pacerSlots
	return s
}

// add registers s in slot (−1: any) to start at the slot's next tick; false
// if the pacer is closed.
func (p *Pacer) add(s *stream, slot int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if slot < 0 {
		slot = p.roundRobin()
	}
	s.slot = slot
	first := p.sub + 1
	s.next = first + (int64(slot)-first%pacerSlots+pacerSlots)%pacerSlots
	p.slots[slot].streams = append(p.slots[slot].streams, s)
	return true
}

// addEndpoint puts e's raw socket on its slot's poll list.
func (p *Pacer) addEndpoint(e *Endpoint) {
	p.mu.Lock()
	p.slots[e.slot].eps[e] = struct{}{}
	p.mu.Unlock()
}

// removeEndpoint takes e off the poll list.
func (p *Pacer) removeEndpoint(e *Endpoint) {
	p.mu.Lock()
	delete(p.slots[e.slot].eps, e)
	p.mu.Unlock()
}

// addRelay puts r on slot (−1: any); false if the pacer is closed.
func (p *Pacer) addRelay(r *Relay, slot int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if slot < 0 {
		slot = p.roundRobin()
	}
	r.slot = slot
	p.slots[slot].relays = append(p.slots[slot].relays, r)
	return true
}

// removeRelay takes r off its slot.
func (p *Pacer) removeRelay(r *Relay) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sl := &p.slots[r.slot]
	for i, x := range sl.relays {
		if x == r {
			last := len(sl.relays) - 1
			sl.relays[i] = sl.relays[last]
			sl.relays[last] = nil
			sl.relays = sl.relays[:last]
			return
		}
	}
}

// run wakes at every slot tick until Close, then hands the streams back to
// their Play calls.
func (p *Pacer) run() {
	defer p.wg.Done()
	var clock pacerClock = newTimerClock(p.done)
	if p.realtime {
		clock = newThreadClock(p.done, p.log)
	}
	defer clock.stop()
	for next := int64(1); ; {
		due := p.epoch.Add(time.Duration(next) * slotDuration)
		if !clock.wait(time.Until(due)) {
			p.stop()
			return
		}
		woke := time.Now()
		// The tick due now; past next when this wake-up was late. Serve every
		// slot that was missed, each once.
		now := max(int64(woke.Sub(p.epoch)/slotDuration), next)
		for sub := max(next, now-pacerSlots+1); sub <= now; sub++ {
			p.step(sub)
		}
		p.obs.PacerWake(max(woke.Sub(due), 0), time.Since(woke))
		next = now + 1
	}
}

// pacerClock is how the pacer's goroutine waits for the next slot.
type pacerClock interface {
	// wait waits d (nothing if d ≤ 0); false when the pacer is closing.
	wait(d time.Duration) bool
	stop()
}

// timerClock waits on a Go timer, like any goroutine.
type timerClock struct {
	timer *time.Timer
	done  <-chan struct{}
}

func newTimerClock(done <-chan struct{}) *timerClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerClock{timer: t, done: done}
}

func (c *timerClock) wait(d time.Duration) bool {
	c.timer.Reset(max(d, 0))
	select {
	case <-c.done:
		return false
	case <-c.timer.C:
		return true
	}
}

func (c *timerClock) stop() { c.timer.Stop() }

// step serves slot tick sub: writes the relays' next frames and every
// prompt frame due, forgets finished streams, then drains the slot's sockets.
// Sends come first so that their timing does not depend on how much the
// sockets held.
func (p *Pacer) step(sub int64) {
	sl := &p.slots[sub%pacerSlots]
	p.mu.Lock()
	p.sub = sub
	p.batch = append(p.batch[:0], sl.streams...)
	p.relays = append(p.relays[:0], sl.relays...)
	for e := range sl.eps {
		p.polled = append(p.polled, e)
	}
	p.mu.Unlock()

	// A relay whose lock a writer holds right now is served after everyone
	// else in the slot, so that one descheduled writer delays one call, not
	// the slot.
	contended := p.relays[:0] // reuses the snapshot's front as it is consumed
	for _, r := range p.relays {
		if !r.tryTick() {
			contended = append(contended, r)
		}
	}

	finished := 0
	for _, s := range p.batch {
		if s.send(sub, &p.frame) {
			finished++
		}
	}
	clear(p.batch)
	for _, r := range contended {
		r.tick()
	}
	clear(p.relays)
	if finished > 0 {
		p.mu.Lock()
		live := sl.streams[:0]
		for _, s := range sl.streams {
			s.mu.Lock()
			stopped := s.stopped
			s.mu.Unlock()
			if !stopped {
				live = append(live, s)
			}
		}
		clear(sl.streams[len(live):])
		sl.streams = live
		p.mu.Unlock()
	}

	idleTurn := (sub/pacerSlots)%idlePollFrames == 0
	now := time.Now().UnixNano()
	expired := p.polled[:0] // reuses the snapshot's front as it is consumed
	for _, e := range p.polled {
		if idleTurn || e.listening.Load() {
			e.poll(p.pollBufs)
		}
		if e.mediaTimedOut(now) {
			expired = append(expired, e)
		}
	}
	for _, e := range expired {
		e.expire(time.Duration(now - e.lastRecv.Load()))
	}
	clear(p.polled)
	p.polled = p.polled[:0]
}

// stop ends every stream with errPacerClosed so their Play calls go on alone,
// and hands every relay to a ticker of its own.
func (p *Pacer) stop() {
	p.mu.Lock()
	p.closed = true
	var streams []*stream
	var relays []*Relay
	for i := range p.slots {
		streams = append(streams, p.slots[i].streams...)
		p.slots[i].streams = nil
		relays = append(relays, p.slots[i].relays...)
		p.slots[i].relays = nil
	}
	p.mu.Unlock()
	for _, r := range relays {
		r.mu.Lock()
		r.startTicker()
		r.mu.Unlock()
	}
	for _, s := range streams {
		s.mu.Lock()
		if !s.stopped {
			s.finish(errPacerClosed)
		}
		s.mu.Unlock()
	}
}

// send writes the stream's frames due by slot tick sub; it reports whether
// the stream is over (finished, failed or stopped by its Play). A whole frame
// is written straight from the prompt's samples, which every call shares; a
// prompt's last, partial frame is padded with silence in the pacer's pad.
func (s *stream) send(sub int64, pad *[FrameSamples]int16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return true
	}
	if behind := (sub - s.next) / pacerSlots; behind >= maxCatchUp {
		// Too far behind to catch up audibly: skip the oldest frames.
		skip := behind - maxCatchUp + 1
		s.off += int(skip) * FrameSamples
		s.next += skip * pacerSlots
	}
	for ; s.next <= sub; s.next += pacerSlots {
		if s.off >= len(s.p.Samples) && !s.advance() {
			break
		}
		frame := s.p.Samples[s.off:min(s.off+FrameSamples, len(s.p.Samples))]
		if len(frame) < FrameSamples {
			clear(pad[copy(pad[:], frame):])
			frame = pad[:]
		}
		s.off += FrameSamples
		now := time.Now()
		if !s.last.IsZero() {
			s.obs.SendInterval(now.Sub(s.last))
		}
		s.last = now
		if err := s.w.WriteFrame(frame); err != nil {
			s.finish(err)
			return true
		}
	}
	if s.off >= len(s.p.Samples) && !s.advance() {
		s.finish(nil)
		return true
	}
	return false
}

// advance moves a background stream to its next prompt, with no gap in the
// pacing; it reports false when there is none. The caller holds s.mu.
func (s *stream) advance() bool {
	for len(s.then) > 0 {
		s.p, s.then, s.off = s.then[0], s.then[1:], 0
		if len(s.p.Samples) > 0 {
			return true
		}
	}
	if s.loop == nil || len(s.loop.Samples) == 0 {
		return false
	}
	s.p, s.off = s.loop, 0
	return true
}

// finish stops the stream with its outcome; the caller holds s.mu.
func (s *stream) finish(err error) {
	s.stopped = true
	s.result <- err
}
