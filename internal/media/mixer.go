package media

import (
	"errors"
	"fmt"
	"sync"
)

// ErrMixerClosed is returned by a Mixer input's WriteFrame after Close.
var ErrMixerClosed = errors.New("media: mixer closed")

// mixerAhead is how many frames one input may hold while another input has
// none: at this many the mixer stops waiting for the silent input and emits.
const mixerAhead = 2

// Mixer sums the 20 ms frames of two or more inputs (call legs) into one
// output: a conference of a few parties, such as a supervisor listening to
// a caller and an agent. It has no goroutine and no clock of its own: it
// mixes on the writers' goroutines, and its output is meant to be a Relay,
// which paces it like every other leg (one frame per 20 ms).
//
// The mixer emits a frame as soon as every input has written one since the
// last emission (the sum of the oldest frame of each), or when one input
// has written two while another wrote none (the oldest frame of every input
// that has one): a silent or paused party never stalls the others, and a
// frame waits in the mixer at most one frame time. Between writes each
// input thus holds at most one frame; the mixer emits at most one frame per
// frame written, so its output rate is that of its fastest input.
//
// Samples are summed and clipped to int16. Frames are normally 160 samples;
// inputs of different lengths are mixed to the longest (the shorter padded
// with silence).
type Mixer struct {
	out FrameWriter

	mu     sync.Mutex // guards the fields below; held while writing to out
	inputs []mixerInput
	sum    [maxFramePayload]int32
	frame  [maxFramePayload]int16
	closed bool
	err    error // out failed: nothing more is written
}

// mixerInput is one input's queue of at most mixerAhead frames.
type mixerInput struct {
	m       *Mixer
	frames  [mixerAhead][maxFramePayload]int16
	lens    [mixerAhead]int
	head, n int
}

// NewMixer returns a mixer of n inputs writing to out (n ≥ 1; one input
// passes its frames through). out is called with the mixer's lock held,
// from the writers' goroutines: it must copy the frame and not block (a
// Relay does both).
func NewMixer(out FrameWriter, n int) *Mixer {
	if n < 1 {
		panic(fmt.Sprintf("media: a mixer needs an input, not %d", n))
	}
	m := &Mixer{out: out, inputs: make([]mixerInput, n)}
	for i := range m.inputs {
		m.inputs[i].m = m
	}
	return m
}

// Input returns input i (0 ≤ i < n) as a FrameWriter, for a sink. Its
// WriteFrame copies the frame, so the caller may reuse it; it returns
// ErrMixerClosed after Close.
func (m *Mixer) Input(i int) FrameWriter { return &m.inputs[i] }

// Err returns the output's error that stopped the mixer's writes, or nil.
func (m *Mixer) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Close stops the mixer: once it returns nothing more is written to out,
// and queued frames are dropped. It is idempotent and returns nil.
func (m *Mixer) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for i := range m.inputs {
		m.inputs[i].n = 0
	}
	return nil
}

// WriteFrame queues a copy of pcm on this input and emits a mixed frame when
// one is due.
func (in *mixerInput) WriteFrame(pcm []int16) error {
	if len(pcm) > maxFramePayload {
		return fmt.Errorf("media: mixer: frame of %d samples is longer than %d", len(pcm), maxFramePayload)
	}
	m := in.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrMixerClosed
	}
	if len(pcm) == 0 {
		return nil
	}
	// Between writes no input holds mixerAhead frames (the write that
	// reached it emitted), so there is always room here.
	i := (in.head + in.n) % mixerAhead
	in.lens[i] = copy(in.frames[i][:], pcm)
	in.n++
	if m.due() {
		m.emit()
	}
	return nil
}

// due reports whether a frame is to be emitted: every input has one, or one
// input is mixerAhead frames ahead of another; the caller holds mu.
func (m *Mixer) due() bool {
	all, ahead := true, false
	for i := range m.inputs {
		switch m.inputs[i].n {
		case 0:
			all = false
		case mixerAhead:
			ahead = true
		}
	}
	return all || ahead
}

// emit writes the sum of the oldest frame of every input that has one and
// takes those frames off; the caller holds mu.
func (m *Mixer) emit() {
	n := 0
	for i := range m.inputs {
		in := &m.inputs[i]
		if in.n == 0 {
			continue
		}
		f := in.frames[in.head][:in.lens[in.head]]
		n = max(n, len(f)) // sum is all zeros beyond the frames added so far
		for j, s := range f {
			m.sum[j] += int32(s)
		}
		in.head = (in.head + 1) % mixerAhead
		in.n--
	}
	for j, s := range m.sum[:n] {
		m.frame[j] = int16(min(max(s, -32768), 32767))
	}
	clear(m.sum[:n])
	if m.err != nil {
		return
	}
	if err := m.out.WriteFrame(m.frame[:n]); err != nil {
		m.err = err
	}
}
