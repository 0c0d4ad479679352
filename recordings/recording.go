package recordings

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hotline/hotline/internal/store"
)

// Channels of a recording.
const (
	left  = 0 // the caller
	right = 1 // what the caller hears: the agent (prompts and music in from_queue and whole)
)

// Timing of a recording's two channels. Each channel keeps a cursor: the
// next frame it writes goes to the cursor's place and moves it on, so a
// channel whose frames arrive a little early or late, or in bursts of up to
// maxLag frames, is written without gaps. When a channel's cursor falls more
// than maxLag frames behind the wall clock, its source paused (a gap in the
// packets, silence suppression, a hold) and the cursor jumps to now: the gap
// is silence, and the two channels never shift against each other. A channel
// that runs more than maxLead frames ahead (a clock faster than ours) drops
// frames until the wall clock catches up.
const (
	frameDuration = 20 * time.Millisecond
	maxLag        = 4
	maxLead       = 4
	// flushMargin: the writer flushes frames this far behind the wall clock,
	// beyond anything a channel may still write.
	flushMargin = maxLag + 4
	// ringFrames is how much audio a recording holds in memory: the flush
	// interval plus the margin plus room for a slow disk write.
	ringFrames = 80
)

// Marker kinds, and which channels each silences.
const (
	MarkHold = "hold" // the caller is on hold: both channels
	MarkPCI  = "pci"  // the agent paused the recording (card numbers): both channels
	MarkMute = "mute" // the agent muted their microphone: the agent's channel
)

// FrameWriter is how the media path hands a recording its audio: 20 ms
// frames of 8 kHz 16-bit samples. Channel writers never block and never fail.
type FrameWriter interface {
	WriteFrame(pcm []int16) error
}

// Recording is one call's recording in progress. Its channel writers are
// called from the media goroutines; the other methods from the call's
// goroutine; the Service's writer goroutine moves the audio to disk. All
// methods are safe for concurrent use, and every method of a nil *Recording
// does nothing, so a call that is not recorded needs no special case.
type Recording struct {
	svc   *Service
	log   *slog.Logger
	start time.Time // the wall-clock time of frame 0

	mu      sync.Mutex
	row     store.Recording // segments, markers, state; saved on changes
	ring    []int16         // ringFrames stereo frames, interleaved
	flushed int64           // frames before this one have left the ring
	cursor  [2]int64        // next frame of each channel
	silence [2]int          // open markers silencing each channel
	closed  bool            // no more audio; end is set
	end     int64           // frame index of the end
	failed  bool
	lost    int64 // frames dropped because the writer fell behind

	retention time.Duration // kept this long after the end; 0: until deleted

	// The writer side, under fmu: one flush or the finish at a time.
	fmu        sync.Mutex
	sink       sink
	out        []byte
	written    int64 // audio bytes handed to the sink
	dataOffset int64 // header length: where the audio starts in the file
}

// sink is where a recording's bytes go: a plain .part file, or sealed frames.
type sink interface {
	// write appends audio bytes (the first call carries the header).
	write(p []byte) error
	// finish completes the file: the header's sizes for dataLen audio bytes,
	// flushed to disk, renamed to its final name. It returns the final path.
	finish(dataOffset, dataLen int64) (string, error)
	// abort closes the file after a failure that finish cannot mend.
	abort()
	// rewind drops the audio written so far, keeping the header (of
	// header bytes).
	rewind(header int64) error
}

// channelWriter writes one channel of a recording.
type channelWriter struct {
	r    *Recording
	side int
}

// WriteFrame places pcm on the channel at the current time.
func (c channelWriter) WriteFrame(pcm []int16) error {
	c.r.write(c.side, pcm)
	return nil
}

// Caller is the left channel: what the caller says.
func (r *Recording) Caller() FrameWriter {
	if r == nil {
		return nopWriter{}
	}
	return channelWriter{r, left}
}

// Heard is the right channel: what the caller hears (the agent).
func (r *Recording) Heard() FrameWriter {
	if r == nil {
		return nopWriter{}
	}
	return channelWriter{r, right}
}

type nopWriter struct{}

func (nopWriter) WriteFrame([]int16) error { return nil }

// ID returns the recording's id ("" for nil).
func (r *Recording) ID() string {
	if r == nil {
		return ""
	}
	return r.row.ID
}

// frameAt returns the frame index of a wall-clock time.
func (r *Recording) frameAt(t time.Time) int64 {
	return int64(t.Sub(r.start) / frameDuration)
}

// msAt returns the offset of a wall-clock time in the file, in milliseconds.
func (r *Recording) msAt(t time.Time) int64 { return r.frameAt(t) * 20 }

func (r *Recording) write(side int, pcm []int16) {
	now := r.svc.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.failed {
		return
	}
	w := r.frameAt(now)
	for len(pcm) > 0 {
		frame := pcm[:min(len(pcm), FrameSamples)]
		pcm = pcm[len(frame):]
		c := &r.cursor[side]
		if *c < w-maxLag {
			*c = w
		}
		*c = max(*c, r.flushed)
		if *c > w+maxLead {
			return // ahead of the clock: drop until it catches up
		}
		if *c >= r.flushed+ringFrames {
			r.lost++
			return
		}
		if r.silence[side] == 0 {
			base := int(*c%ringFrames) * FrameSamples * Channels
			for i, v := range frame {
				r.ring[base+i*Channels+side] = v
			}
		}
		*c++
	}
}

// Mark begins a span of deliberate silence of the given kind (MarkHold,
// MarkPCI, MarkMute), caused by by; the span lasts until Unmark. Marking a
// kind that is already open does nothing.
func (r *Recording) Mark(kind, by string) {
	if r == nil {
		return
	}
	now := r.svc.now()
	r.mu.Lock()
	for _, m := range r.row.Markers {
		if m.Kind == kind && m.EndMS == 0 {
			r.mu.Unlock()
			return
		}
	}
	r.row.Markers = append(r.row.Markers, store.RecordingMarker{Kind: kind, StartMS: r.msAt(now), By: by})
	r.silenceLocked(kind, 1)
	row := r.snapshotLocked()
	r.mu.Unlock()
	r.svc.save(row)
}

// Unmark ends the open span of the kind, if any.
func (r *Recording) Unmark(kind string) {
	if r == nil {
		return
	}
	now := r.svc.now()
	r.mu.Lock()
	changed := false
	for i := range r.row.Markers {
		if m := &r.row.Markers[i]; m.Kind == kind && m.EndMS == 0 {
			m.EndMS = max(r.msAt(now), m.StartMS+1)
			r.silenceLocked(kind, -1)
			changed = true
		}
	}
	row := r.snapshotLocked()
	r.mu.Unlock()
	if changed {
		r.svc.save(row)
	}
}

// Paused reports whether a PCI pause is open.
func (r *Recording) Paused() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.row.Markers {
		if m.Kind == MarkPCI && m.EndMS == 0 {
			return true
		}
	}
	return false
}

// silenceLocked opens (+1) or closes (−1) the silence of a marker kind on
// its channels. Audio already placed ahead of the clock in a silenced
// channel is cleared, so silence starts now.
func (r *Recording) silenceLocked(kind string, d int) {
	sides := []int{left, right}
	if kind == MarkMute {
		sides = []int{right}
	}
	for _, s := range sides {
		r.silence[s] += d
		if d > 0 && r.silence[s] == 1 {
			now := r.frameAt(r.svc.now())
			for k := max(now, r.flushed); k < r.cursor[s]; k++ {
				base := int(k%ringFrames) * FrameSamples * Channels
				for i := 0; i < FrameSamples; i++ {
					r.ring[base+i*Channels+s] = 0
				}
			}
		}
	}
}

// Segment starts agent's segment now, ending the one before it.
func (r *Recording) Segment(agent string) {
	if r == nil {
		return
	}
	now := r.svc.now()
	r.mu.Lock()
	r.endSegmentLocked(now)
	r.row.Segments = append(r.row.Segments, store.RecordingSegment{Agent: agent, StartMS: r.msAt(now)})
	row := r.snapshotLocked()
	r.mu.Unlock()
	r.svc.save(row)
}

// EndSegment ends the current agent's segment now (the agent left: a
// transfer, a hang-up).
func (r *Recording) EndSegment() {
	if r == nil {
		return
	}
	now := r.svc.now()
	r.mu.Lock()
	changed := r.endSegmentLocked(now)
	row := r.snapshotLocked()
	r.mu.Unlock()
	if changed {
		r.svc.save(row)
	}
}

func (r *Recording) endSegmentLocked(now time.Time) bool {
	if n := len(r.row.Segments); n > 0 && r.row.Segments[n-1].EndMS == 0 {
		s := &r.row.Segments[n-1]
		s.EndMS = max(r.msAt(now), s.StartMS+1)
		return true
	}
	return false
}

// snapshotLocked is the row to save, with copies of its slices.
func (r *Recording) snapshotLocked() store.Recording {
	row := r.row
	row.Segments = slices.Clone(row.Segments)
	row.Markers = slices.Clone(row.Markers)
	row.UpdatedAt = r.svc.now()
	return row
}

// Close ends the recording now: no more audio is taken, and the Service
// finishes the file in the background (the tail flushed, the header
// written, the file renamed, its digest taken, the row completed).
// Idempotent; safe on nil.
func (r *Recording) Close() {
	if r == nil {
		return
	}
	now := r.svc.now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.end = max(r.frameAt(now), r.flushed)
	r.endSegmentLocked(now)
	for i := range r.row.Markers {
		if m := &r.row.Markers[i]; m.EndMS == 0 {
			m.EndMS = max(r.msAt(now), m.StartMS+1)
		}
	}
	r.mu.Unlock()
	r.svc.finish(r)
}

// Discard ends the recording and removes its file and row: the call's
// queue does not record (a call recorded from the start for a queue that
// records "whole" went to another queue). Idempotent; safe on nil.
func (r *Recording) Discard() {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.svc.discard(r)
}

// Restart drops what was recorded so far and records on from now in the
// same file and row, for queue and its retention: a call recorded from its
// answer (some queue records the IVR) reached a queue that records from
// queue entry. Segments and markers start afresh. It waits for a write in
// progress; safe on nil.
func (r *Recording) Restart(queue string, retention time.Duration) {
	if r == nil {
		return
	}
	r.fmu.Lock()
	defer r.fmu.Unlock()
	now := r.svc.now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	clear(r.ring)
	r.start, r.flushed, r.cursor, r.lost = now, 0, [2]int64{}, 0
	r.row.Segments, r.row.Markers, r.row.StartedAt = nil, nil, now
	r.row.Queue, r.retention, r.row.RetainUntil = queue, retention, nil
	if retention > 0 {
		t := now.Add(retention)
		r.row.RetainUntil = &t
	}
	r.mu.Unlock()
	if r.sink != nil && !r.isFailed() {
		if err := r.sink.rewind(r.dataOffset); err != nil {
			r.fail(FailWrite, err)
		}
		r.written = 0
	}
	r.mu.Lock()
	row := r.snapshotLocked()
	r.mu.Unlock()
	r.svc.save(row)
}

// take moves the frames before target from the ring into r.out as file
// bytes; the caller holds fmu.
func (r *Recording) take(target int64) (n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		target = min(target, r.end)
	}
	target = min(target, r.flushed+ringFrames)
	r.out = r.out[:0]
	for k := r.flushed; k < target; k++ {
		base := int(k%ringFrames) * FrameSamples * Channels
		frame := r.ring[base : base+FrameSamples*Channels]
		for _, v := range frame {
			r.out = append(r.out, byte(v), byte(uint16(v)>>8))
		}
		clear(frame)
		n++
	}
	r.flushed = max(r.flushed, target)
	return n
}

// fail marks the recording failed: no more audio is taken, and the row
// says why once the Service has saved what it could of the file. The caller
// holds fmu.
func (r *Recording) fail(reason string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed {
		return
	}
	r.failed = true
	r.row.State = store.RecordingFailed
	r.row.Reason = reason
	if err != nil {
		r.row.Reason += ": " + err.Error()
	}
	r.log.Error("recording failed; the call goes on unrecorded", "recording_id", r.row.ID, "reason", r.row.Reason)
	r.svc.metrics.RecordingFailed(reason)
}

// isFailed reports whether fail was called.
func (r *Recording) isFailed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// SetQueue names the queue whose settings apply to the recording (a call
// recorded from its start reaches its queue after the IVR): its row's
// queue and its retention.
func (r *Recording) SetQueue(queue string, retention time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.row.Queue, r.retention = queue, retention
	r.row.RetainUntil = nil
	if retention > 0 {
		t := r.row.StartedAt.Add(retention)
		r.row.RetainUntil = &t
	}
	row := r.snapshotLocked()
	r.mu.Unlock()
	r.svc.save(row)
}
