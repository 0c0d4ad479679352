package media

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPowerFindsTone(t *testing.T) {
	p := Tone([]float64{1000}, 100*time.Millisecond, 1)
	require.InDelta(t, 0.5, Power(p.Samples, 1000), 0.01)
	require.Less(t, Power(p.Samples, 1500), 0.001)
	require.InDelta(t, 0.5, Energy(p.Samples), 0.01)
	require.Zero(t, Power(nil, 1000))
	require.Zero(t, Power(make([]int16, 160), 1000))
}

func TestToneSumsSinesWithoutClipping(t *testing.T) {
	p := Tone([]float64{440, 620}, time.Second, 1)
	require.Len(t, p.Samples, SampleRate)
	require.Greater(t, Power(p.Samples, 440), 0.1)
	require.Greater(t, Power(p.Samples, 620), 0.1)
	require.Less(t, Power(p.Samples, 1000), 0.001)
	require.Empty(t, Tone(nil, -time.Second, 1).Samples)
}

func TestDTMFToneUnknownKey(t *testing.T) {
	require.Nil(t, DTMFTone('x', time.Second))
	require.Equal(t, "dtmf-#", DTMFTone('#', time.Second).Name)
}

// detectAll feeds audio to a fresh detector in 20 ms frames and returns the
// keys it reported.
func detectAll(samples []int16) string {
	d := NewDTMFDetector()
	var keys []byte
	for off := 0; off < len(samples); off += FrameSamples {
		frame := samples[off:min(off+FrameSamples, len(samples))]
		if k, ok := d.Feed(frame); ok {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

// dialled returns the audio of keys pressed for on, with off silence after each.
func dialled(keys string, on, off time.Duration) []int16 {
	var out []int16
	for i := range len(keys) {
		out = append(out, DTMFTone(keys[i], on).Samples...)
		out = append(out, make([]int16, int(off*SampleRate/time.Second))...)
	}
	return out
}

func TestDTMFDetectorAllKeys(t *testing.T) {
	keys := "0123456789*#ABCD"
	require.Equal(t, keys, detectAll(dialled(keys, 100*time.Millisecond, 60*time.Millisecond)))
}

func TestDTMFDetectorRepeatedKeyNeedsGap(t *testing.T) {
	require.Equal(t, "55", detectAll(dialled("55", 80*time.Millisecond, 60*time.Millisecond)))
	// One long press is one digit.
	require.Equal(t, "5", detectAll(DTMFTone('5', 2*time.Second).Samples))
}

func TestDTMFDetectorThroughG711(t *testing.T) {
	audio := dialled("90#", 100*time.Millisecond, 80*time.Millisecond)
	for _, c := range []Codec{PCMU, PCMA} {
		through := DecodeFrame(c, EncodeFrame(c, audio, nil), nil)
		require.Equal(t, "90#", detectAll(through), c.String())
	}
}

func TestDTMFDetectorRejects(t *testing.T) {
	// Too short: a 20 ms blip is not a key press.
	require.Empty(t, detectAll(dialled("1", 20*time.Millisecond, 100*time.Millisecond)))
	// A single tone, a chord of non-DTMF tones, noise and silence.
	require.Empty(t, detectAll(Tone([]float64{1000}, time.Second, 0.8).Samples))
	require.Empty(t, detectAll(Tone([]float64{440, 1100}, time.Second, 0.8).Samples))
	require.Empty(t, detectAll(make([]int16, SampleRate)))
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, SampleRate)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 6000)
	}
	require.Empty(t, detectAll(noise))
	// Excessive twist: the column tone 20 dB below the row tone.
	twisted := Tone([]float64{770}, time.Second, 0.5).Samples
	weak := Tone([]float64{1336}, time.Second, 0.05).Samples
	for i := range twisted {
		twisted[i] += weak[i]
	}
	require.Empty(t, detectAll(twisted))
	// Quiet but clean tones are still found.
	quiet := Tone([]float64{852, 1477}, 200*time.Millisecond, 0.02).Samples
	require.Equal(t, "9", detectAll(quiet)) // each tone ≈ -40 dBFS
}

func BenchmarkDTMFDetectorFeed(b *testing.B) {
	frame := Tone([]float64{697, 1209}, FrameDuration, 0.5).Samples
	d := NewDTMFDetector()
	b.ReportAllocs()
	for b.Loop() {
		d.Feed(frame)
	}
}
