package media

import "math"

// Power returns the normalised energy of samples at freq (Goertzel): the mean
// power of that frequency component relative to full scale, so a full-scale
// sine at freq gives about 0.5 and silence gives 0.
func Power(samples []int16, freq float64) float64 {
	n := len(samples)
	if n == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x)/32768 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	mag2 := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * mag2 / float64(n*n)
}

// Energy returns the mean power of samples relative to full scale (a
// full-scale sine gives about 0.5).
func Energy(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		v := float64(x) / 32768
		sum += v * v
	}
	return sum / float64(len(samples))
}

// Detector thresholds. Levels are normalised powers (see Power).
const (
	dtmfMinPower   = 1e-5 // each tone at least about -47 dBFS
	dtmfPeakRatio  = 4.0  // strongest row/column ≥ 6 dB above the runner-up
	dtmfMaxTwist   = 6.3  // row and column within 8 dB of each other
	dtmfToneShare  = 0.6  // the two tones carry most of the frame's energy
	dtmfPressFrame = 2    // consecutive frames (2 × 20 ms) before a key counts
	dtmfGapFrames  = 1    // frames without the key before it counts again
)

// DTMFDetector finds in-band DTMF key presses in a stream of 20 ms frames.
// It is not safe for concurrent use; each endpoint owns one.
type DTMFDetector struct {
	candidate byte // key seen in the last frames, 0 for none
	run       int  // consecutive frames with candidate
	reported  byte // key already reported for the current press
	gap       int  // consecutive frames without the reported key
}

// NewDTMFDetector returns a detector with no press in progress.
func NewDTMFDetector() *DTMFDetector {
	return &DTMFDetector{}
}

// Feed analyses one frame (normally FrameSamples long) and reports a key once
// per press: the key must hold for at least 40 ms, pass energy and twist
// checks, and the same key counts again only after a gap.
func (d *DTMFDetector) Feed(frame []int16) (key byte, ok bool) {
	k := classifyDTMF(frame)
	if k == d.candidate {
		d.run++
	} else {
		d.candidate, d.run = k, 1
	}
	if d.reported != 0 {
		if k == d.reported {
			d.gap = 0
			return 0, false
		}
		d.gap++
		if d.gap < dtmfGapFrames {
			return 0, false
		}
		d.reported = 0
	}
	if k != 0 && d.run >= dtmfPressFrame {
		d.reported, d.gap = k, 0
		return k, true
	}
	return 0, false
}

// dtmfCoeffs holds the Goertzel coefficients of the four row then the four
// column frequencies; it is computed once and only read.
var dtmfCoeffs = func() (c [8]float64) {
	for i, f := range append(dtmfRows[:], dtmfCols[:]...) {
		c[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	return c
}()

// dtmfPowers runs the eight DTMF Goertzel filters over frame in one pass (the
// filters are independent, so the CPU overlaps them) and returns their
// normalised powers, rows first.
func dtmfPowers(frame []int16) (p [8]float64) {
	// Written out with scalars so the states stay in registers.
	c0, c1, c2, c3 := dtmfCoeffs[0], dtmfCoeffs[1], dtmfCoeffs[2], dtmfCoeffs[3]
	c4, c5, c6, c7 := dtmfCoeffs[4], dtmfCoeffs[5], dtmfCoeffs[6], dtmfCoeffs[7]
	var a0, a1, a2, a3, a4, a5, a6, a7 float64 // s[n-1]
	var b0, b1, b2, b3, b4, b5, b6, b7 float64 // s[n-2]
	for _, x := range frame {
		v := float64(x) * (1.0 / 32768)
		a0, b0 = v+c0*a0-b0, a0
		a1, b1 = v+c1*a1-b1, a1
		a2, b2 = v+c2*a2-b2, a2
		a3, b3 = v+c3*a3-b3, a3
		a4, b4 = v+c4*a4-b4, a4
		a5, b5 = v+c5*a5-b5, a5
		a6, b6 = v+c6*a6-b6, a6
		a7, b7 = v+c7*a7-b7, a7
	}
	s1 := [8]float64{a0, a1, a2, a3, a4, a5, a6, a7}
	s2 := [8]float64{b0, b1, b2, b3, b4, b5, b6, b7}
	scale := 2 / float64(len(frame)*len(frame))
	for i := range p {
		p[i] = (s1[i]*s1[i] + s2[i]*s2[i] - dtmfCoeffs[i]*s1[i]*s2[i]) * scale
	}
	return p
}

// classifyDTMF returns the DTMF key present in frame, or 0.
func classifyDTMF(frame []int16) byte {
	if len(frame) == 0 {
		return 0
	}
	total := Energy(frame)
	if total < 2*dtmfMinPower {
		return 0 // silence: skip the filters
	}
	p := dtmfPowers(frame)
	r, rp, r2 := strongest(p[:4])
	c, cp, c2 := strongest(p[4:])
	switch {
	case rp < dtmfMinPower || cp < dtmfMinPower:
		return 0
	case rp < dtmfPeakRatio*r2 || cp < dtmfPeakRatio*c2:
		return 0
	case rp > dtmfMaxTwist*cp || cp > dtmfMaxTwist*rp:
		return 0
	case rp+cp < dtmfToneShare*total:
		return 0
	}
	return dtmfGrid[r*4+c]
}

// strongest returns the index and value of the largest of powers and the
// runner-up's value.
func strongest(powers []float64) (idx int, best, second float64) {
	for i, p := range powers {
		switch {
		case p > best:
			second, best, idx = best, p, i
		case p > second:
			second = p
		}
	}
	return idx, best, second
}
