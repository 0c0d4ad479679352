package media

import (
	"math"
	"time"
)

// dtmfRows and dtmfCols are the DTMF frequency grid (ITU-T Q.23).
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfGrid lists the keys by row then column.
const dtmfGrid = "123A456B789C*0#D"

// Tone returns a prompt of duration d holding the sum of sines at freqs. The
// amplitude (0-1, a fraction of full scale) is the peak of the sum: each sine
// gets amplitude/len(freqs), so the result never clips.
func Tone(freqs []float64, d time.Duration, amplitude float64) *Prompt {
	n := int(d * SampleRate / time.Second)
	if n < 0 {
		n = 0
	}
	amplitude = min(max(amplitude, 0), 1)
	p := &Prompt{Name: "tone", Samples: make([]int16, n)}
	if len(freqs) == 0 {
		return p
	}
	each := amplitude * 32767 / float64(len(freqs))
	for i := range p.Samples {
		t := float64(i) / SampleRate
		var v float64
		for _, f := range freqs {
			v += math.Sin(2 * math.Pi * f * t)
		}
		p.Samples[i] = int16(math.Round(v * each))
	}
	return p
}

// DTMFTone returns a prompt of duration d holding the dual tone of key
// ('0'-'9', '*', '#', 'A'-'D'), or nil when key is not a DTMF key.
func DTMFTone(key byte, d time.Duration) *Prompt {
	row, col, ok := dtmfFreqs(key)
	if !ok {
		return nil
	}
	p := Tone([]float64{row, col}, d, 0.5)
	p.Name = "dtmf-" + string(rune(key))
	return p
}

// dtmfFreqs returns the row and column frequencies of key.
func dtmfFreqs(key byte) (row, col float64, ok bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i := range len(dtmfGrid) {
		if dtmfGrid[i] == key {
			return dtmfRows[i/4], dtmfCols[i%4], true
		}
	}
	return 0, 0, false
}
