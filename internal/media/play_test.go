package media

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// frameRecorder is a FrameWriter that keeps copies of the frames.
type frameRecorder struct {
	frames [][]int16
	err    error
}

func (r *frameRecorder) WriteFrame(pcm []int16) error {
	r.frames = append(r.frames, slices.Clone(pcm))
	return r.err
}

// countingObserver records what an endpoint or Play reports.
type countingObserver struct {
	mu        sync.Mutex
	received  int
	sent      int
	dropped   map[string]int
	intervals []time.Duration
}

func (o *countingObserver) PacketReceived() { o.mu.Lock(); o.received++; o.mu.Unlock() }
func (o *countingObserver) PacketSent()     { o.mu.Lock(); o.sent++; o.mu.Unlock() }
func (o *countingObserver) PacketDropped(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dropped == nil {
		o.dropped = make(map[string]int)
	}
	o.dropped[reason]++
}
func (o *countingObserver) SendInterval(d time.Duration) {
	o.mu.Lock()
	o.intervals = append(o.intervals, d)
	o.mu.Unlock()
}
func (o *countingObserver) drops(reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped[reason]
}

func TestPlayFramesAndPadding(t *testing.T) {
	samples := make([]int16, 6*FrameSamples+50)
	for i := range samples {
		samples[i] = int16(i%100 + 1)
	}
	rec := &frameRecorder{}
	obs := &countingObserver{}
	require.NoError(t, Play(context.Background(), rec, &Prompt{Name: "p", Samples: samples}, obs))
	require.Len(t, rec.frames, 7)
	for _, f := range rec.frames {
		require.Len(t, f, FrameSamples)
	}
	last := rec.frames[6]
	require.Equal(t, samples[6*FrameSamples:], last[:50])
	require.Equal(t, make([]int16, FrameSamples-50), last[50:])
	require.Equal(t, samples, slices.Concat(rec.frames...)[:len(samples)])
	require.Len(t, obs.intervals, 6)
	for _, d := range obs.intervals {
		require.Positive(t, d)
	}
}

func TestPlayCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rec := &cancellingWriter{after: 3, cancel: cancel}
	err := Play(ctx, rec, Tone([]float64{440}, 10*time.Second, 0.5), nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 3, rec.n)
}

func TestPlayWriterError(t *testing.T) {
	boom := errors.New("boom")
	rec := &frameRecorder{err: boom}
	require.ErrorIs(t, Play(context.Background(), rec, Tone([]float64{440}, time.Second, 0.5), nil), boom)
	require.Len(t, rec.frames, 1)
	require.Error(t, Play(context.Background(), rec, nil, nil))
}

// cancellingWriter cancels its context after a number of frames.
type cancellingWriter struct {
	n, after int
	cancel   context.CancelFunc
}

func (w *cancellingWriter) WriteFrame([]int16) error {
	w.n++
	if w.n == w.after {
		w.cancel()
	}
	return nil
}
