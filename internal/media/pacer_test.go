package media

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// timedRecorder keeps a copy of every frame and when it was written; stall
// blocks the writer (and so the pacer) for a while at one frame.
type timedRecorder struct {
	mu       sync.Mutex
	frames   [][]int16
	at       []time.Time
	stallAt  int
	stallFor time.Duration
	err      error
}

func (r *timedRecorder) WriteFrame(pcm []int16) error {
	r.mu.Lock()
	r.frames = append(r.frames, slices.Clone(pcm))
	r.at = append(r.at, time.Now())
	n := len(r.frames)
	r.mu.Unlock()
	if r.stallFor > 0 && n == r.stallAt {
		time.Sleep(r.stallFor)
	}
	return r.err
}

func (r *timedRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

// numbered returns a prompt of n samples valued 1, 2, 3, … (mod 30000).
func numbered(n int) *Prompt {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i%30000 + 1)
	}
	return &Prompt{Name: "numbered", Samples: s}
}

// requireSamples checks that frames hold p's samples in order, then silence.
func requireSamples(t *testing.T, p *Prompt, frames [][]int16) {
	t.Helper()
	want := (len(p.Samples) + FrameSamples - 1) / FrameSamples
	require.Len(t, frames, want, "one frame per 20 ms of prompt, none dropped or repeated")
	all := slices.Concat(frames...)
	require.Equal(t, p.Samples, all[:len(p.Samples)])
	require.Equal(t, make([]int16, len(all)-len(p.Samples)), all[len(p.Samples):])
}

func TestPacerPlaysEveryFrameEvery20ms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pacer := NewPacer(PacerConfig{})
		defer pacer.Close()
		rec := &timedRecorder{}
		obs := &countingObserver{}
		p := numbered(50*FrameSamples + 37)
		start := time.Now()
		require.NoError(t, pacer.Play(context.Background(), rec, p, obs))
		requireSamples(t, p, rec.frames)
		require.LessOrEqual(t, rec.at[0].Sub(start), FrameDuration, "the first frame goes out within a frame time")
		for i := 1; i < len(rec.at); i++ {
			require.Equal(t, FrameDuration, rec.at[i].Sub(rec.at[i-1]), "gap before frame %d", i)
		}
		require.Equal(t, rec.at[len(rec.at)-1], time.Now(), "Play returns as the last frame is sent")
		require.Len(t, obs.intervals, len(rec.frames)-1)
		for _, d := range obs.intervals {
			require.Equal(t, FrameDuration, d)
		}
	})
}

func TestPacerCatchesUpAfterStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pacer := NewPacer(PacerConfig{})
		defer pacer.Close()
		// The writer holds the pacer for 75 ms at frame 5: frames 6-8 are late
		// and must go out at once, not be dropped, and the rest stays on time.
		rec := &timedRecorder{stallAt: 5, stallFor: 75 * time.Millisecond}
		p := numbered(20 * FrameSamples)
		require.NoError(t, pacer.Play(context.Background(), rec, p, nil))
		requireSamples(t, p, rec.frames)
		require.Equal(t, 19*FrameDuration, rec.at[19].Sub(rec.at[0]), "the prompt ends on time")
		require.Equal(t, rec.at[5], rec.at[6], "missed frames are sent in one burst")
	})
}

func TestPacerBackToBackOnEndpointKeepsCadence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pacedPair(t, pacedNode(t), Remote{Codec: PCMU}, Remote{Codec: PCMU})
		got := &timedRecorder{}
		b.SetSink(got)
		for range 3 {
			require.NoError(t, Play(context.Background(), a, numbered(10*FrameSamples), nil))
		}
		time.Sleep(3 * FrameDuration) // the last frames reach b at its next poll
		require.Equal(t, 30, got.count(), "every frame of three prompts arrived")
		// b is polled every 20 ms, so each poll delivers one frame: the
		// prompts follow each other without a gap or a burst.
		for i := 1; i < len(got.at); i++ {
			require.Equal(t, FrameDuration, got.at[i].Sub(got.at[i-1]), "frame %d", i)
		}
	})
}

func TestPacerCancelStopsWriting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pacer := NewPacer(PacerConfig{})
		defer pacer.Close()
		ctx, cancel := context.WithCancel(context.Background())
		rec := &cancellingWriter{after: 3, cancel: cancel}
		err := pacer.Play(ctx, rec, Tone([]float64{440}, 10*time.Second, 0.5), nil)
		require.ErrorIs(t, err, context.Canceled)
		time.Sleep(time.Second)
		require.Equal(t, 3, rec.n, "nothing is written after Play returned")
	})
}

func TestPacerWriterErrorEndsPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pacer := NewPacer(PacerConfig{})
		defer pacer.Close()
		boom := errors.New("boom")
		rec := &timedRecorder{err: boom}
		require.ErrorIs(t, pacer.Play(context.Background(), rec, numbered(5*FrameSamples), nil), boom)
		require.Equal(t, 1, rec.count())
		require.Error(t, pacer.Play(context.Background(), rec, nil, nil))
		require.NoError(t, pacer.Play(context.Background(), rec, &Prompt{}, nil), "an empty prompt plays at once")
	})
}

func TestPacerCloseHandsPlayBackToTicker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pacer := NewPacer(PacerConfig{})
		rec := &timedRecorder{}
		p := numbered(50 * FrameSamples)
		done := make(chan error, 1)
		go func() { done <- pacer.Play(context.Background(), rec, p, nil) }()
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, pacer.Close())
		require.NoError(t, pacer.Close(), "Close is idempotent")
		require.NoError(t, <-done)
		requireSamples(t, p, rec.frames)
		// A closed pacer still plays, with a ticker of its own.
		rec2 := &timedRecorder{}
		require.NoError(t, pacer.Play(context.Background(), rec2, p, nil))
		requireSamples(t, p, rec2.frames)
	})
}

func TestPlayTickerCatchesUpAfterStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &timedRecorder{stallAt: 4, stallFor: 90 * time.Millisecond}
		p := numbered(20 * FrameSamples)
		start := time.Now()
		require.NoError(t, Play(context.Background(), rec, p, nil))
		requireSamples(t, p, rec.frames)
		require.Equal(t, 20*FrameDuration, time.Since(start), "the prompt and its last frame time, not a tick more")
		require.Equal(t, 19*FrameDuration, rec.at[19].Sub(rec.at[0]), "late frames are caught up, none dropped")
	})
}

// pacedPair opens two endpoints on a pacer, pointed at each other.
func pacedPair(t *testing.T, pacer *Pacer, a, b Remote) (*Endpoint, *Endpoint) {
	t.Helper()
	ports, err := NewPorts(PortsConfig{IP: loopback, Pacer: pacer})
	require.NoError(t, err)
	ea, err := ports.Open(EndpointConfig{})
	require.NoError(t, err)
	eb, err := ports.Open(EndpointConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ea.Close()); require.NoError(t, eb.Close()) })
	require.Equal(t, rawSockets, ea.raw != nil, "on Linux the pacer polls the sockets")
	a.Addr, b.Addr = eb.LocalAddr(), ea.LocalAddr()
	ea.SetRemote(a)
	eb.SetRemote(b)
	return ea, eb
}

func TestPolledEndpointsCarryAudioAndDigits(t *testing.T) {
	pacer := NewPacer(PacerConfig{})
	t.Cleanup(func() { require.NoError(t, pacer.Close()) })
	a, b := pacedPair(t, pacer, Remote{Codec: PCMU, DTMFType: 101}, Remote{Codec: PCMU, DTMFType: 101})
	sink := make(chanSink, 100)
	b.SetSink(sink)
	p := Tone([]float64{1000}, 200*time.Millisecond, 0.5)
	require.NoError(t, Play(context.Background(), a, p, nil))
	frames := sink.frames(t, 10)
	for _, f := range frames {
		require.Greater(t, Power(f, 1000), 0.1, "the tone arrived")
	}
	require.NoError(t, a.SendDigit(context.Background(), '7', 60*time.Millisecond))
	require.Equal(t, "7", keys(digits(t, b, 1)))

	// In-band digits are detected on the polled path too.
	c, d := pacedPair(t, pacer, Remote{Codec: PCMA}, Remote{Codec: PCMA, InbandDTMF: true})
	require.NoError(t, Play(context.Background(), c, &Prompt{Samples: dialled("5#", 80*time.Millisecond, 80*time.Millisecond)}, nil))
	require.Equal(t, "5#", keys(digits(t, d, 2)))
}

func TestPolledEndpointLatchesAndCloses(t *testing.T) {
	pacer := NewPacer(PacerConfig{})
	t.Cleanup(func() { require.NoError(t, pacer.Close()) })
	ports, err := NewPorts(PortsConfig{IP: loopback, Pacer: pacer})
	require.NoError(t, err)
	obs := &countingObserver{}
	e, err := ports.Open(EndpointConfig{Observer: obs, MediaTimeout: time.Hour})
	require.NoError(t, err)
	peer := newRawPeer(t)
	other := newRawPeer(t)
	// SDP said one address; the peer's packets come from another.
	e.SetRemote(Remote{Addr: other.addr(), Codec: PCMU, DTMFType: 101})
	peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 0, SequenceNumber: 1, SSRC: 9}, make([]byte, 160))
	require.Eventually(t, func() bool { obs.mu.Lock(); defer obs.mu.Unlock(); return obs.received == 1 },
		waitLimit, time.Millisecond)
	require.NoError(t, e.WriteFrame(make([]int16, FrameSamples)))
	got := peer.recv(t)
	require.Equal(t, uint8(0), got.PayloadType, "sent back to where the packets came from")

	// SIPp's digit pcaps: a new SSRC for the digit, first packet duration 0.
	sippDigit(t, peer, e.LocalAddr(), 77, 500, 1234, 3)
	require.Equal(t, "3", keys(digits(t, e, 1)))

	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")
	_, open := <-e.Digits()
	require.False(t, open, "the digit channel is closed with the endpoint")
	require.ErrorIs(t, e.WriteFrame(make([]int16, FrameSamples)), ErrClosed)
}

func TestPolledEndpointMediaTimeout(t *testing.T) {
	pacer := NewPacer(PacerConfig{})
	t.Cleanup(func() { require.NoError(t, pacer.Close()) })
	ports, err := NewPorts(PortsConfig{IP: loopback, Pacer: pacer})
	require.NoError(t, err)
	e, err := ports.Open(EndpointConfig{MediaTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	e.SetRemote(Remote{Addr: newRawPeer(t).addr(), Codec: PCMU})
	select {
	case <-e.Done():
	case <-time.After(waitLimit):
		require.FailNow(t, "the media timeout did not end the endpoint")
	}
	require.ErrorIs(t, e.Err(), ErrMediaTimeout)
}

func TestRealtimePacerPlaysOverTheNetwork(t *testing.T) {
	// Real time, not synctest: the realtime clock waits in the kernel. The
	// priority is raised when the test may (root); either way it must play.
	pacer := NewPacer(PacerConfig{Realtime: true})
	a, b := pacedPair(t, pacer, Remote{Codec: PCMU}, Remote{Codec: PCMU})
	sink := make(chanSink, 100)
	b.SetSink(sink)
	p := numbered(15 * FrameSamples)
	for i := range p.Samples {
		p.Samples[i] = int16(i%2*2000 - 1000) // survives µ-law well enough to compare signs
	}
	require.NoError(t, Play(context.Background(), a, p, nil))
	frames := sink.frames(t, 15)
	for i, f := range frames {
		for j, v := range f {
			require.Equal(t, p.Samples[i*FrameSamples+j] > 0, v > 0, "frame %d sample %d", i, j)
		}
	}
	require.NoError(t, pacer.Close())
	require.NoError(t, pacer.Close())
}

// wakeLog records a pacer's wake-ups.
type wakeLog struct {
	mu         sync.Mutex
	late, work []time.Duration
}

func (w *wakeLog) PacerWake(late, work time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.late = append(w.late, late)
	w.work = append(w.work, work)
}

// The observer hears every wake-up, and a writer that holds the pacer shows
// as work, then as lateness of the next wake-up.
func TestPacerObserverSeesWorkAndLateness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &wakeLog{}
		pacer := NewPacer(PacerConfig{Observer: obs})
		defer pacer.Close()
		rec := &timedRecorder{stallAt: 5, stallFor: 75 * time.Millisecond}
		require.NoError(t, pacer.Play(context.Background(), rec, numbered(10*FrameSamples), nil))
		obs.mu.Lock()
		defer obs.mu.Unlock()
		require.Greater(t, len(obs.late), 50, "a wake-up every 2 ms over the prompt's 200 ms")
		require.Contains(t, obs.work, 75*time.Millisecond, "the stalled write is the work of its wake-up")
		require.Contains(t, obs.late, 75*time.Millisecond-slotDuration, "the next wake-up comes late by the stall")
		for _, l := range obs.late {
			require.GreaterOrEqual(t, l, time.Duration(0))
		}
	})
}
