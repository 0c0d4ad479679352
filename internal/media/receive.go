package media

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// receiver is the state owned by an endpoint's reader goroutine (or, for a
// polled endpoint, used under rxMu); every buffer is reused from packet to
// packet.
type receiver struct {
	pkt      rtp.Packet
	jitter   jitterBuffer
	pcm      []int16
	ssrc     uint32
	haveSSRC bool
	events   eventDedupe
	detector *DTMFDetector
	lastRFC  time.Time // last RFC 4733 packet, to mute in-band detection
}

// newReceiver returns an empty receive state. Its audio buffers are made
// when audio is first listened to: a call in the IVR or the queue, which
// only takes digits, never needs them.
func newReceiver() *receiver {
	return &receiver{}
}

// readLoop receives datagrams until the socket is closed, then closes the
// digit channel.
func (e *Endpoint) readLoop() {
	defer e.wg.Done()
	defer close(e.digits)
	rx := newReceiver()
	buf := make([]byte, maxDatagram)
	for {
		n, src, err := e.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-e.done:
				return
			default:
			}
			e.log.Debug("rtp read failed", "err", err)
			continue
		}
		e.receive(rx, buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	}
}

// poll hands every datagram queued on the raw socket to receive, without
// blocking; the pacer's poll loop calls it once per tick.
func (e *Endpoint) poll(b *pollBuffers) {
	e.rxMu.Lock()
	defer e.rxMu.Unlock()
	if e.rxDone {
		return
	}
	// A bounded number of batches, so a flooded socket cannot stall the others.
	for range 4 {
		n, err := e.raw.readBatch(b)
		if err != nil {
			e.log.Debug("rtp read failed", "err", err)
			return
		}
		for i := range n {
			data, src := b.datagram(i)
			e.receive(e.rx, data, src)
		}
		if n < pollBatch {
			return
		}
	}
}

// receive handles one datagram.
func (e *Endpoint) receive(rx *receiver, b []byte, src netip.AddrPort) {
	if len(b) < 12 || b[0]>>6 != 2 {
		e.obs.PacketDropped(DropMalformed)
		return
	}
	if pt := b[1] & 0x7F; pt >= 72 && pt <= 76 { // RTCP SR..APP with rtcp-mux
		e.obs.PacketDropped(DropRTCP)
		return
	}
	if srx := e.srtpRx.Load(); srx != nil {
		var ok bool
		if b, ok = srx.unprotect(b); !ok {
			e.obs.PacketDropped(DropSRTP)
			return
		}
	}
	if err := rx.pkt.Unmarshal(b); err != nil {
		e.obs.PacketDropped(DropMalformed)
		return
	}
	now := time.Now()
	e.lastRecv.Store(now.UnixNano())
	e.obs.PacketReceived()

	e.mu.Lock()
	r, have, sendAddr, sink, said := e.remote, e.haveRemote, e.sendAddr, e.sink, e.said
	latched, firstLatch := false, false
	if have && src != sendAddr && src.Port() != 0 && acceptsPT(r, rx.pkt.PayloadType) {
		// Symmetric RTP: answer where the peer's packets really come from.
		e.sendAddr, latched = src, true
		firstLatch, e.latchLogged = !e.latchLogged, true
	}
	e.mu.Unlock()
	if !have {
		e.obs.PacketDropped(DropNoRemote)
		return
	}
	pt := rx.pkt.PayloadType
	if !acceptsPT(r, pt) {
		e.obs.PacketDropped(DropUnknownPT)
		return
	}
	if latched {
		level := slog.LevelDebug
		if firstLatch {
			level = slog.LevelInfo
		}
		e.log.Log(context.Background(), level, "rtp latched to source", "previous", sendAddr.String(), "source", src.String())
	}
	if !rx.haveSSRC || rx.pkt.SSRC != rx.ssrc {
		if rx.haveSSRC {
			e.log.Debug("rtp ssrc changed", "old", rx.ssrc, "new", rx.pkt.SSRC)
		}
		rx.ssrc, rx.haveSSRC = rx.pkt.SSRC, true
		rx.jitter.reset()
	}

	if r.DTMFType != 0 && pt == r.DTMFType {
		e.receiveEvent(rx, now)
		return
	}
	if len(rx.pkt.Payload) > maxFramePayload {
		e.obs.PacketDropped(DropOversize)
		return
	}
	if sink == nil && said == nil && !r.InbandDTMF {
		// Nobody listens to the audio (IVR, queue): skip reordering and
		// decoding, and start the jitter buffer afresh when someone does.
		if rx.jitter.started {
			rx.jitter.reset()
		}
		return
	}
	if reason := rx.jitter.push(rx.pkt.SequenceNumber, Codec(pt), rx.pkt.Payload); reason != "" {
		e.obs.PacketDropped(reason)
		return
	}
	if !r.InbandDTMF {
		rx.detector = nil
	} else if rx.detector == nil {
		rx.detector = NewDTMFDetector()
	}
	if rx.pcm == nil {
		rx.pcm = make([]int16, 0, maxFramePayload)
	}
	for {
		codec, payload, ok := rx.jitter.pop()
		if !ok {
			break
		}
		rx.pcm = DecodeFrame(codec, payload, rx.pcm[:0])
		e.deliver(rx, sink, said, now)
	}
}

// acceptsPT reports whether pt is audio we decode or the negotiated
// telephone-event type.
func acceptsPT(r Remote, pt uint8) bool {
	return pt == uint8(PCMU) || pt == uint8(PCMA) || (r.DTMFType != 0 && pt == r.DTMFType)
}

// deliver passes decoded audio in 20 ms pieces to the recorder's tap, the
// sink and the in-band detector.
func (e *Endpoint) deliver(rx *receiver, sink, said FrameWriter, now time.Time) {
	for pcm := rx.pcm; len(pcm) > 0; {
		frame := pcm[:min(FrameSamples, len(pcm))]
		pcm = pcm[len(frame):]
		if said != nil {
			_ = said.WriteFrame(frame)
		}
		if sink != nil {
			if err := sink.WriteFrame(frame); err != nil {
				e.log.Debug("rtp sink failed", "err", err)
			}
		}
		if rx.detector == nil {
			continue
		}
		if key, ok := rx.detector.Feed(frame); ok {
			if !rx.lastRFC.IsZero() && now.Sub(rx.lastRFC) < inbandHoldOff {
				continue
			}
			e.emitDigit(Digit{Key: key, Source: SourceInband, At: now})
		}
	}
}

// receiveEvent handles an RFC 4733 packet: a digit is taken from the first
// packet of each event, whatever its duration.
func (e *Endpoint) receiveEvent(rx *receiver, now time.Time) {
	ev, err := ParseDTMFEvent(rx.pkt.Payload)
	if err != nil {
		e.obs.PacketDropped(DropMalformed)
		return
	}
	rx.lastRFC = now
	key, ok := EventKey(ev.Event)
	if !ok {
		return // flash or another named event we do not use
	}
	if rx.events.isNew(rx.pkt.SSRC, rx.pkt.Timestamp, ev.Event, ev.End, rx.pkt.Marker, now) {
		e.emitDigit(Digit{Key: key, Source: SourceRFC4733, At: now})
	}
}

// emitDigit hands a digit to OnDigit, or queues it without ever blocking
// the reader.
func (e *Endpoint) emitDigit(d Digit) {
	if e.onDigit != nil {
		e.log.Debug("dtmf digit", "key", string(rune(d.Key)), "source", string(d.Source))
		e.onDigit(d)
		return
	}
	select {
	case e.digits <- d:
		e.log.Debug("dtmf digit", "key", string(rune(d.Key)), "source", string(d.Source))
	default:
		e.log.Warn("dtmf digit dropped: nobody is reading digits", "key", string(rune(d.Key)))
	}
}

// eventHistory is how many recent RFC 4733 events are remembered, so a
// reordered packet of an older event is not taken for a new press.
const eventHistory = 4

// eventReplayGap: the same event (same SSRC and timestamp) seen again this
// long after its end is a new press (a pcap replayed twice for "11").
const eventReplayGap = 100 * time.Millisecond

// eventKey identifies one RFC 4733 event.
type eventKey struct {
	ssrc, ts uint32
	event    uint8
}

// eventDedupe turns the stream of event packets into one digit per event.
type eventDedupe struct {
	recent [eventHistory]eventKey
	n      int // entries used in recent; recent[0] is the latest
	ended  bool
	endAt  time.Time
}

// isNew reports whether a packet starts a new key press.
func (d *eventDedupe) isNew(ssrc, ts uint32, event uint8, end, marker bool, now time.Time) bool {
	k := eventKey{ssrc, ts, event}
	if d.n > 0 && d.recent[0] == k {
		if end {
			if !d.ended {
				d.ended, d.endAt = true, now
			}
			return false
		}
		if d.ended && (marker || now.Sub(d.endAt) >= eventReplayGap) {
			d.ended = false
			return true
		}
		return false
	}
	for i := 1; i < d.n; i++ {
		if d.recent[i] == k {
			return false // a late packet of an older event
		}
	}
	copy(d.recent[1:], d.recent[:eventHistory-1])
	d.recent[0] = k
	d.n = min(d.n+1, eventHistory)
	d.ended, d.endAt = end, now
	return true
}

// Jitter buffer geometry: packets are reordered within jitterSlots sequence
// numbers, and a gap is given up on once jitterDepth later packets wait.
const (
	jitterSlots = 8
	jitterDepth = 3
	// jitterLateWindow: a packet up to this far behind is late; further
	// behind, the peer has restarted its sequence numbers.
	jitterLateWindow = 64
)

// jitterSlot describes one buffered payload; its bytes are in the
// buffer's data.
type jitterSlot struct {
	used  bool
	seq   uint16
	codec Codec
	n     int
}

// jitterBuffer reorders audio packets by sequence number with a small fixed
// depth. In-order packets pass straight through; a missing packet holds later
// ones back until jitterDepth of them wait, then it is skipped.
type jitterBuffer struct {
	slots [jitterSlots]jitterSlot
	// data holds slot i's payload at [i×maxFramePayload, (i+1)×maxFramePayload);
	// the first push makes it.
	data    []byte
	next    uint16
	started bool
	pending int
}

// slotData is the room for slot i's payload.
func (j *jitterBuffer) slotData(i int) []byte {
	return j.data[i*maxFramePayload : (i+1)*maxFramePayload]
}

// reset forgets all state, e.g. when the SSRC changes.
func (j *jitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].used = false
	}
	j.started, j.pending = false, 0
}

// push stores a payload; it returns a drop reason, or "" when stored.
func (j *jitterBuffer) push(seq uint16, codec Codec, payload []byte) string {
	if !j.started {
		j.next, j.started = seq, true
	}
	d := int16(seq - j.next)
	switch {
	case d < 0 && d >= -jitterLateWindow:
		return DropLate
	case d < 0 || d >= jitterSlots:
		// A jump (the peer restarted or lost many packets): start again here.
		j.reset()
		j.next, j.started = seq, true
	}
	i := int(seq % jitterSlots)
	s := &j.slots[i]
	if s.used {
		return DropDuplicate
	}
	if j.data == nil {
		j.data = make([]byte, jitterSlots*maxFramePayload)
	}
	s.used, s.seq, s.codec = true, seq, codec
	s.n = copy(j.slotData(i), payload)
	j.pending++
	return ""
}

// pop returns the next payload in sequence order, if one is ready. The
// payload is valid until the next push.
func (j *jitterBuffer) pop() (Codec, []byte, bool) {
	if j.pending == 0 {
		return 0, nil, false
	}
	i := int(j.next % jitterSlots)
	if !j.slots[i].used {
		if j.pending < jitterDepth {
			return 0, nil, false
		}
		// Give up on the gap: move to the oldest buffered packet.
		best := -1
		for k := range j.slots {
			if !j.slots[k].used {
				continue
			}
			if best < 0 || int16(j.slots[k].seq-j.slots[best].seq) < 0 {
				best = k
			}
		}
		i = best
		j.next = j.slots[i].seq
	}
	s := &j.slots[i]
	s.used = false
	j.pending--
	j.next++
	return s.codec, j.slotData(i)[:s.n], true
}
