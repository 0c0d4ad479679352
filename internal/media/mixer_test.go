package media

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// constFrame is a frame of n samples, all v.
func constFrame(n int, v int16) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = v
	}
	return f
}

// Two inputs that each write a frame give one frame, their sum; the input
// that wrote first waits for the other.
func TestMixerSums(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 2)
	a, b := m.Input(0), m.Input(1)
	for k := range 3 {
		require.NoError(t, a.WriteFrame(constFrame(FrameSamples, 100)))
		require.Len(t, out.frames, k, "a frame waits for the other input")
		require.NoError(t, b.WriteFrame(constFrame(FrameSamples, -30)))
		require.Len(t, out.frames, k+1)
		require.Equal(t, constFrame(FrameSamples, 70), out.frames[k])
	}
	// The order of the writers does not matter.
	require.NoError(t, b.WriteFrame(constFrame(FrameSamples, 1)))
	require.NoError(t, a.WriteFrame(constFrame(FrameSamples, 2)))
	require.Equal(t, constFrame(FrameSamples, 3), out.frames[3])
}

// Sums beyond the range of int16 are clipped, both ways.
func TestMixerClips(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 3)
	for i := range 3 {
		require.NoError(t, m.Input(i).WriteFrame([]int16{30000, -30000, 20000, -1}))
	}
	require.Equal(t, [][]int16{{32767, -32768, 32767, -3}}, out.frames)
}

// An input that never writes stalls nobody: the other input's frames come
// out alone, one frame time late, one per frame written.
func TestMixerOneInputSilent(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 2)
	a := m.Input(0)
	require.NoError(t, a.WriteFrame(constFrame(FrameSamples, 1)))
	require.Empty(t, out.frames)
	for k := 2; k <= 10; k++ {
		require.NoError(t, a.WriteFrame(constFrame(FrameSamples, int16(k))))
		require.Len(t, out.frames, k-1, "one frame out per frame in")
		require.Equal(t, constFrame(FrameSamples, int16(k-1)), out.frames[k-2], "in order, unchanged")
	}
	// The silent input speaks up: its frame joins the one waiting.
	require.NoError(t, m.Input(1).WriteFrame(constFrame(FrameSamples, 100)))
	require.Equal(t, constFrame(FrameSamples, 110), out.frames[len(out.frames)-1])
}

// A burst on one input (a socket drained late) while the other keeps its
// pace: nothing is lost, every frame is mixed in order, and the mixer holds
// no more than a frame per input afterwards.
func TestMixerBursts(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 2)
	a, b := m.Input(0), m.Input(1)
	// a sends 1..4 at once, then b sends 10, 20, 30, 40 at its pace.
	for k := 1; k <= 4; k++ {
		require.NoError(t, a.WriteFrame(constFrame(4, int16(k))))
	}
	for k := 1; k <= 4; k++ {
		require.NoError(t, b.WriteFrame(constFrame(4, int16(10*k))))
	}
	var got []int16
	for _, f := range out.frames {
		got = append(got, f[0])
	}
	// a's burst comes out alone as it arrives (a runs ahead of a silent b),
	// a's last frame mixes with b's first, and b's next ones come out as b
	// runs ahead in turn: each sample once, in order.
	require.Equal(t, []int16{1, 2, 3, 4 + 10, 20, 30}, got)
	require.Equal(t, 40, pending(m), "b's last frame waits for a")
	for i := range m.inputs {
		require.LessOrEqual(t, m.inputs[i].n, 1, "input %d holds at most one frame", i)
	}
}

// pending is the sum of the first samples still queued in m.
func pending(m *Mixer) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := 0
	for i := range m.inputs {
		in := &m.inputs[i]
		for j := range in.n {
			s += int(in.frames[(in.head+j)%mixerAhead][0])
		}
	}
	return s
}

// Frames of different lengths mix to the longest; an empty frame is
// ignored; a frame too long is refused.
func TestMixerFrameLengths(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 2)
	require.NoError(t, m.Input(0).WriteFrame(nil))
	require.NoError(t, m.Input(0).WriteFrame([]int16{1, 1}))
	require.NoError(t, m.Input(1).WriteFrame([]int16{2, 2, 2, 2}))
	require.Equal(t, [][]int16{{3, 3, 2, 2}}, out.frames)
	require.Error(t, m.Input(0).WriteFrame(make([]int16, maxFramePayload+1)))
}

// The mixer copies: a writer may reuse its buffer at once.
func TestMixerCopiesFrames(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 2)
	buf := constFrame(8, 5)
	require.NoError(t, m.Input(0).WriteFrame(buf))
	clear(buf)
	require.NoError(t, m.Input(1).WriteFrame(constFrame(8, 1)))
	require.Equal(t, constFrame(8, 6), out.frames[0])
}

// Close stops the output at once, refuses later writes, and may be called
// again; an output error stops the writes too.
func TestMixerClose(t *testing.T) {
	out := &frameRecorder{}
	m := NewMixer(out, 2)
	require.NoError(t, m.Input(0).WriteFrame(constFrame(8, 1)))
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "idempotent")
	require.ErrorIs(t, m.Input(1).WriteFrame(constFrame(8, 1)), ErrMixerClosed)
	require.Empty(t, out.frames, "the queued frame is dropped")

	boom := errors.New("boom")
	bad := &frameRecorder{err: boom}
	m = NewMixer(bad, 1)
	require.NoError(t, m.Input(0).WriteFrame(constFrame(8, 1)))
	require.NoError(t, m.Input(0).WriteFrame(constFrame(8, 1)), "the writer does not see the output's error")
	require.Len(t, bad.frames, 1, "nothing more after the output failed")
	require.ErrorIs(t, m.Err(), boom)
}

// Writers on several goroutines (the pacer and the softphones' readers) and
// a Close racing them; the mixer starts no goroutine of its own.
func TestMixerConcurrentWritersNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	var mu sync.Mutex
	n := 0
	out := frameFunc(func(pcm []int16) error { mu.Lock(); n++; mu.Unlock(); return nil })
	m := NewMixer(out, 3)
	require.Equal(t, before, runtime.NumGoroutine(), "no goroutine of its own")
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			f := constFrame(FrameSamples, 1)
			for range 1000 {
				if err := m.Input(i).WriteFrame(f); err != nil {
					require.ErrorIs(t, err, ErrMixerClosed)
					return
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	require.GreaterOrEqual(t, n, 1000, "at least one frame out per frame of the fastest input")
	require.LessOrEqual(t, n, 3000)
	mu.Unlock()
	require.NoError(t, m.Close())
}

// frameFunc is a FrameWriter of a function.
type frameFunc func([]int16) error

func (f frameFunc) WriteFrame(pcm []int16) error { return f(pcm) }

// Behind a Relay, two legs paced by clocks of their own (one 20 ms, one a
// little slow and jittery) come out as one frame per 20 ms, each the sum of
// the two, with no frame lost in a second.
func TestMixerIntoRelayIsPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &timedRecorder{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := NewRelay(ctx, rec, nil)
		m := NewMixer(r, 2)
		var wg sync.WaitGroup
		for i, step := range []time.Duration{FrameDuration, FrameDuration + 100*time.Microsecond} {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 7 * time.Millisecond)
				f := constFrame(FrameSamples, int16(100*(i+1)))
				for k := range 50 {
					if err := m.Input(i).WriteFrame(f); err != nil {
						return
					}
					jitter := time.Duration(k%3) * time.Millisecond
					time.Sleep(step + jitter - time.Millisecond)
				}
			})
		}
		wg.Wait()
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, r.Close())
		require.NoError(t, m.Close())
		rec.mu.Lock()
		frames, at := rec.frames, rec.at
		rec.mu.Unlock()
		require.GreaterOrEqual(t, len(frames), 48, "about one frame per frame time")
		mixed := 0
		for _, f := range frames {
			if f[0] == 300 {
				mixed++
			}
		}
		require.GreaterOrEqual(t, mixed, 45, "the frames are sums of both legs")
		for i := 1; i < len(at); i++ {
			require.GreaterOrEqual(t, at[i].Sub(at[i-1]), FrameDuration, "paced: one frame per 20 ms")
		}
	})
}

// The mix path allocates nothing.
func BenchmarkMixer(b *testing.B) {
	m := NewMixer(frameFunc(func([]int16) error { return nil }), 2)
	x, y := m.Input(0), m.Input(1)
	f := constFrame(FrameSamples, 1000)
	b.ReportAllocs()
	for b.Loop() {
		_ = x.WriteFrame(f)
		_ = y.WriteFrame(f)
	}
	if n := testing.AllocsPerRun(100, func() { _ = x.WriteFrame(f); _ = y.WriteFrame(f) }); n != 0 {
		b.Fatalf("the mix path allocates %v times per frame", n)
	}
}
