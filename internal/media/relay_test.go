package media

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// relayKinds are the three ways a Relay is paced: on a running pacer's wheel,
// by its own ticker, and handed to a ticker by a closed pacer.
var relayKinds = []struct {
	name string
	new  func(ctx context.Context, dst FrameWriter, obs Observer) (*Relay, func())
}{
	{"pacer", func(ctx context.Context, dst FrameWriter, obs Observer) (*Relay, func()) {
		p := NewPacer(PacerConfig{})
		return p.Relay(ctx, dst, obs), func() { _ = p.Close() }
	}},
	{"ticker", func(ctx context.Context, dst FrameWriter, obs Observer) (*Relay, func()) {
		return NewRelay(ctx, dst, obs), func() {}
	}},
	{"closed-pacer", func(ctx context.Context, dst FrameWriter, obs Observer) (*Relay, func()) {
		p := NewPacer(PacerConfig{})
		r := p.Relay(ctx, dst, obs)
		_ = p.Close()
		return r, func() {}
	}},
}

// written returns the first sample of each frame written so far (0 for
// silence) and when each was written.
func written(rec *timedRecorder) ([]int16, []time.Time) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return values(rec.frames), slices.Clone(rec.at)
}

// frameOf returns a 20 ms frame whose samples are all v.
func frameOf(v int16) []int16 { return slices.Repeat([]int16{v}, FrameSamples) }

// values returns the first sample of each frame (0 for silence).
func values(frames [][]int16) []int16 {
	out := make([]int16, len(frames))
	for i, f := range frames {
		out[i] = f[0]
	}
	return out
}

// requireEvery20ms checks that writes came exactly one frame time apart.
func requireEvery20ms(t *testing.T, at []time.Time) {
	t.Helper()
	for i := 1; i < len(at); i++ {
		require.Equal(t, FrameDuration, at[i].Sub(at[i-1]), "gap before write %d", i)
	}
}

func TestRelayJitteryInputLeavesEvenly(t *testing.T) {
	// The source's frames come 20 ms apart on average but up to 15 ms late,
	// as a leg paced by another clock delivers them.
	jitter := []time.Duration{0, 15, 3, 9, 14, 1, 0, 12, 7, 15, 2, 11}
	for _, k := range relayKinds {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &timedRecorder{}
				obs := &countingObserver{}
				r, stop := k.new(context.Background(), rec, obs)
				defer stop()
				defer r.Close()
				start := time.Now()
				const n = 40
				for i := range n {
					time.Sleep(time.Until(start.Add(time.Duration(i)*FrameDuration + jitter[i%len(jitter)]*time.Millisecond)))
					require.NoError(t, r.WriteFrame(frameOf(int16(i+1))))
				}
				time.Sleep(200 * time.Millisecond)
				require.NoError(t, r.Close())
				synctest.Wait()

				vals, at := written(rec)
				want := make([]int16, n)
				for i := range want {
					want[i] = int16(i + 1)
				}
				require.Equal(t, want, vals, "every frame, in order")
				require.Zero(t, r.Dropped())
				// The first late frame leaves one standing in the queue;
				// from then on the writes are exactly 20 ms apart.
				late := 0
				for i := 1; i < len(at); i++ {
					if gap := at[i].Sub(at[i-1]); gap != FrameDuration {
						require.Equal(t, 2*FrameDuration, gap, "gap before write %d", i)
						late++
					}
				}
				require.LessOrEqual(t, late, 1)
				require.Len(t, obs.intervals, len(vals)-1)
			})
		})
	}
}

func TestRelayBurstLeavesEvenly(t *testing.T) {
	for _, k := range relayKinds {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &timedRecorder{}
				r, stop := k.new(context.Background(), rec, nil)
				defer stop()
				defer r.Close()
				for v := range int16(3) {
					require.NoError(t, r.WriteFrame(frameOf(v+1)))
				}
				start := time.Now()
				time.Sleep(time.Second)
				synctest.Wait()
				vals, at := written(rec)
				require.Equal(t, []int16{1, 2, 3}, vals,
					"three frames one per 20 ms, then nothing while the source is quiet")
				requireEvery20ms(t, at)
				require.LessOrEqual(t, at[0].Sub(start), FrameDuration, "the first frame waits at most one frame time")
				require.Zero(t, r.Dropped())

				// The source speaks again: the relay resumes.
				require.NoError(t, r.WriteFrame(frameOf(9)))
				time.Sleep(100 * time.Millisecond)
				vals, _ = written(rec)
				require.Equal(t, []int16{1, 2, 3, 9}, vals)
			})
		})
	}
}

func TestRelayOverflowDropsOldest(t *testing.T) {
	for _, k := range relayKinds {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &timedRecorder{}
				obs := &countingObserver{}
				r, stop := k.new(context.Background(), rec, obs)
				defer stop()
				defer r.Close()
				for v := range int16(5) {
					require.NoError(t, r.WriteFrame(frameOf(v+1)))
				}
				time.Sleep(200 * time.Millisecond)
				vals, _ := written(rec)
				require.Equal(t, []int16{3, 4, 5}, vals, "at most three frames wait; the oldest go")
				require.Equal(t, uint64(2), r.Dropped())
				require.Equal(t, 2, obs.drops(DropRelayOverflow))
			})
		})
	}
}

func TestRelayTrimsStandingQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(PacerConfig{})
		defer p.Close()
		rec := &timedRecorder{}
		r := p.Relay(context.Background(), rec, nil)
		defer r.Close()
		// Three frames at once, then one per frame time: two frames would
		// wait in the queue for the whole call.
		time.Sleep(5 * time.Millisecond) // between the relay's ticks
		require.NoError(t, r.WriteFrame(frameOf(1)))
		require.NoError(t, r.WriteFrame(frameOf(2)))
		const last = 120
		var wrote time.Time
		for v := int16(3); v <= last; v++ {
			require.NoError(t, r.WriteFrame(frameOf(v)))
			wrote = time.Now()
			time.Sleep(FrameDuration)
		}
		time.Sleep(100 * time.Millisecond)
		require.Equal(t, uint64(1), r.Dropped(), "one of the standing frames is dropped, once")
		vals, at := written(rec)
		requireEvery20ms(t, at)
		require.Len(t, vals, last-1)
		require.Equal(t, int16(last), vals[len(vals)-1])
		delay := at[len(at)-1].Sub(wrote)
		require.Greater(t, delay, FrameDuration, "one frame still stands to absorb jitter")
		require.LessOrEqual(t, delay, 2*FrameDuration, "no more than two frame times of delay")
	})
}

func TestRelayCloseStopsWrites(t *testing.T) {
	for _, k := range relayKinds {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &timedRecorder{}
				r, stop := k.new(context.Background(), rec, nil)
				defer stop()
				require.NoError(t, r.WriteFrame(frameOf(1)))
				require.NoError(t, r.WriteFrame(frameOf(2)))
				require.NoError(t, r.WriteFrame(frameOf(3)))
				time.Sleep(30 * time.Millisecond)
				require.NoError(t, r.Close())
				n := rec.count()
				require.Less(t, n, 3)
				time.Sleep(time.Second)
				require.Equal(t, n, rec.count(), "nothing is written after Close")
				require.ErrorIs(t, r.WriteFrame(frameOf(4)), ErrRelayClosed)
				require.NoError(t, r.Close(), "Close is idempotent")
			})
		})
	}
}

func TestRelayStopsWithContext(t *testing.T) {
	for _, k := range relayKinds {
		t.Run(k.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				rec := &timedRecorder{}
				r, stop := k.new(ctx, rec, nil)
				defer stop()
				cancel()
				synctest.Wait()
				require.ErrorIs(t, r.WriteFrame(frameOf(1)), ErrRelayClosed)
				time.Sleep(100 * time.Millisecond)
				require.Zero(t, rec.count())
				// synctest.Test fails if a relay's goroutine outlives it.
			})
		})
	}
}

func TestRelayWriterErrorStopsWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(PacerConfig{})
		defer p.Close()
		rec := &timedRecorder{err: ErrClosed}
		r := p.Relay(context.Background(), rec, nil)
		defer r.Close()
		require.NoError(t, r.WriteFrame(frameOf(1)))
		require.NoError(t, r.WriteFrame(frameOf(2)))
		time.Sleep(100 * time.Millisecond)
		require.Equal(t, 1, rec.count())
		require.ErrorIs(t, r.Err(), ErrClosed)
	})
}

func TestRelayCopiesFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &timedRecorder{}
		r := NewRelay(context.Background(), rec, nil)
		defer r.Close()
		buf := frameOf(7)
		require.NoError(t, r.WriteFrame(buf))
		clear(buf) // the source reuses its buffer at once
		time.Sleep(30 * time.Millisecond)
		vals, _ := written(rec)
		require.Equal(t, []int16{7}, vals)
		require.Error(t, r.WriteFrame(make([]int16, maxFramePayload+1)), "an oversized frame is refused")
	})
}

func TestPacerRelaysNeedNoGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(PacerConfig{})
		defer p.Close()
		before := runtime.NumGoroutine()
		var relays []*Relay
		for range 100 {
			relays = append(relays, p.Relay(context.Background(), &timedRecorder{}, nil))
		}
		require.Equal(t, before, runtime.NumGoroutine())
		for _, r := range relays {
			require.NoError(t, r.Close())
		}
	})
}

func TestEndpointRelayCarriesAudio(t *testing.T) {
	pacer := NewPacer(PacerConfig{})
	defer pacer.Close()
	a, b := pacedPair(t, pacer, Remote{Codec: PCMU}, Remote{Codec: PCMA})
	sink := make(chanSink, 64)
	obs := &countingObserver{}
	r := b.Relay(context.Background(), sink, obs)
	defer r.Close()
	b.SetSink(r)
	require.NoError(t, Play(context.Background(), a, Tone([]float64{425}, 200*time.Millisecond, 0.5), nil))
	got := slices.Concat(sink.frames(t, 10)...)
	require.Greater(t, Power(got, 425), 0.01, "the tone crosses the relay")
	require.NoError(t, r.Close())
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.GreaterOrEqual(t, len(obs.intervals), 9, "every relayed send is timed")
}

// A relay made on a context that is already done closes itself at once,
// without racing its own constructor.
func TestRelayOnDoneContext(t *testing.T) {
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := NewRelay(ctx, FrameWriterFunc(func([]int16) error { return nil }), nil)
		require.Eventually(t, func() bool { return errors.Is(r.WriteFrame(make([]int16, FrameSamples)), ErrRelayClosed) },
			time.Second, time.Millisecond)
		require.NoError(t, r.Close())
	}
}

// A writer that holds one relay's lock (the kernel descheduled it there)
// delays that relay only: the pacer serves the rest of the slot and comes
// back to it.
func TestPacerDoesNotWaitForAStuckWriter(t *testing.T) {
	// A pacer whose steps the test runs itself.
	p := &Pacer{epoch: time.Now(), log: slog.New(slog.DiscardHandler), obs: nopPacerObserver{},
		pollBufs: newPollBuffers(), done: make(chan struct{})}
	for i := range p.slots {
		p.slots[i].eps = make(map[*Endpoint]struct{})
	}
	stuckRec, onTimeRec := &timedRecorder{}, &timedRecorder{}
	stuck := newRelay(t.Context(), stuckRec, nil, p, 0) // the same slot, served first
	onTime := newRelay(t.Context(), onTimeRec, nil, p, 0)
	require.NoError(t, stuck.WriteFrame(frameOf(1)))
	require.NoError(t, onTime.WriteFrame(frameOf(2)))

	stuck.mu.Lock() // the writer stuck inside the relay's lock
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		p.step(0)
	}()
	require.Eventually(t, func() bool { v, _ := written(onTimeRec); return len(v) == 1 },
		5*time.Second, time.Millisecond, "the pacer waited for the stuck relay before serving the next")
	select {
	case <-stepped:
		t.Fatal("the step ended without serving the stuck relay")
	default:
	}
	stuck.mu.Unlock()
	<-stepped
	v, _ := written(stuckRec)
	require.Equal(t, []int16{1}, v, "the stuck relay is served once its writer lets go")
	require.NoError(t, stuck.Close())
	require.NoError(t, onTime.Close())
}
