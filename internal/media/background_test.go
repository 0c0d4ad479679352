package media

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// level returns a prompt of n frames all at value v.
func level(name string, frames int, v int16) *Prompt {
	s := make([]int16, frames*FrameSamples)
	for i := range s {
		s[i] = v
	}
	return &Prompt{Name: name, Samples: s}
}

// kind names a received frame by the prompt level it carries (µ-law is
// lossy, so by range): a ≈ 1000, b ≈ -2000, c ≈ 3000.
func kind(frame []int16) byte {
	switch v := frame[0]; {
	case v > 500 && v < 1500:
		return 'a'
	case v < -1000:
		return 'b'
	case v > 2000:
		return 'c'
	}
	return '?'
}

// pacedNode starts a pacer that closes with the test.
func pacedNode(t *testing.T) *Pacer {
	pacer := NewPacer(PacerConfig{})
	t.Cleanup(func() { require.NoError(t, pacer.Close()) })
	return pacer
}

func TestBackgroundPlaysOnceThenLoopsOnThePacer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pacedPair(t, pacedNode(t), Remote{Codec: PCMU}, Remote{Codec: PCMU})
		got := &timedRecorder{}
		b.SetSink(got)

		bg := PlayBackground(a, []*Prompt{level("a", 3, 1000), level("b", 2, -2000)}, level("c", 4, 3000), nil)
		time.Sleep(17 * FrameDuration)
		bg.Stop()
		bg.Stop() // idempotent
		time.Sleep(5 * FrameDuration)
		n := got.count()
		time.Sleep(10 * FrameDuration)
		require.Equal(t, n, got.count(), "nothing is written after Stop")

		got.mu.Lock()
		defer got.mu.Unlock()
		var seq []byte
		for _, f := range got.frames {
			seq = append(seq, kind(f))
		}
		require.GreaterOrEqual(t, len(seq), 15)
		require.Equal(t, "aaabbccccccccc", string(seq[:14]), "the prompts once in order, then the loop")
		for i := 1; i < len(got.at); i++ {
			require.Equal(t, FrameDuration, got.at[i].Sub(got.at[i-1]), "no gap between prompts (frame %d)", i)
		}
	})
}

func TestBackgroundOnAPlainWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &timedRecorder{}
		bg := PlayBackground(rec, []*Prompt{level("a", 2, 1000)}, level("c", 1, 3000), nil)
		time.Sleep(5*FrameDuration + FrameDuration/2)
		bg.Stop() // waits for its goroutine: synctest fails the test on a leak
		n := rec.count()
		time.Sleep(5 * FrameDuration)
		require.Equal(t, n, rec.count(), "nothing is written after Stop")
		require.GreaterOrEqual(t, n, 5)
		require.Equal(t, []byte{'a', 'a', 'c', 'c', 'c'}, []byte{kind(rec.frames[0]), kind(rec.frames[1]), kind(rec.frames[2]), kind(rec.frames[3]), kind(rec.frames[4])})
	})
}

func TestBackgroundWithNothingToPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &timedRecorder{}
		bg := PlayBackground(rec, nil, nil, nil)
		time.Sleep(3 * FrameDuration)
		bg.Stop()
		require.Zero(t, rec.count())
	})
}

func TestBackgroundReportsTheEndOfItsPrompts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _ := pacedPair(t, pacedNode(t), Remote{Codec: PCMU}, Remote{Codec: PCMU})
		start := time.Now()
		bg := PlayBackground(a, []*Prompt{level("a", 3, 1000), level("b", 2, -2000)}, nil, nil)
		require.NoError(t, <-bg.Done())
		took := time.Since(start)
		require.GreaterOrEqual(t, took, 4*FrameDuration, "not done before the fifth frame")
		require.LessOrEqual(t, took, 5*FrameDuration, "done as the fifth frame goes out")
		bg.Stop()

		// A closed endpoint ends a playback with its error.
		bg = PlayBackground(a, nil, level("c", 4, 3000), nil)
		time.Sleep(2 * FrameDuration)
		require.NoError(t, a.Close())
		require.ErrorIs(t, <-bg.Done(), ErrClosed)
		bg.Stop()

		rec := &timedRecorder{}
		empty := PlayBackground(rec, nil, nil, nil)
		require.NoError(t, <-empty.Done(), "nothing to play is done at once")
		empty.Stop()
	})
}
