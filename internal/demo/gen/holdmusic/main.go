// Command holdmusic synthesises the demo's music on hold: a gentle, seamless
// loop of soft organ chords, a quiet bass and a slow bell arpeggio, written as
// an 8 kHz mono 16-bit PCM WAV file.
//
// Usage (from the repository root):
//
//	go run ./internal/demo/gen/holdmusic -o internal/demo/music/hold.wav
//
// Every note is rendered in absolute time and folded onto the loop modulo its
// length, so a note that rings past the end continues at the start: the file
// loops without a click.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
)

// sampleRate is the telephone rate the file is written at.
const sampleRate = 8000

// maxPartial is the highest partial frequency kept, below the phone band edge.
const maxPartial = 3400.0

// progression is the chord sequence, one chord per slot, as MIDI note numbers
// (bass root first, then the pad voicing).
var progression = [][]int{
	{48, 60, 64, 67, 71}, // Cmaj7
	{45, 57, 60, 64, 67}, // Am7
	{50, 57, 62, 65, 69}, // Dm7
	{43, 55, 59, 62, 67}, // G
	{52, 55, 59, 64, 67}, // Em7
	{45, 57, 60, 64, 69}, // Am
	{41, 57, 60, 64, 65}, // Fmaj7
	{43, 55, 59, 62, 65}, // G7
}

func main() {
	out := flag.String("o", "internal/demo/music/hold.wav", "output WAV file")
	seconds := flag.Float64("seconds", 30, "loop length in seconds")
	flag.Parse()
	if err := run(*out, *seconds); err != nil {
		slog.Error("holdmusic failed", "err", err)
		os.Exit(1)
	}
}

// run renders the loop and writes it to path.
func run(path string, seconds float64) error {
	if seconds < 4 || seconds > 600 {
		return fmt.Errorf("loop length %.1f s: want between 4 and 600 seconds", seconds)
	}
	samples := render(sampleRate, seconds)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = writeWAV(w, sampleRate, samples)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	slog.Info("wrote hold music", "file", path, "seconds", seconds, "samples", len(samples))
	return nil
}

// render synthesises a loop of the given length and returns it as PCM16.
func render(rate int, seconds float64) []int16 {
	n := int(float64(rate) * seconds)
	mix := make([]float64, n)
	slot := seconds / float64(len(progression))
	for i, chord := range progression {
		start := float64(i) * slot
		// Quiet bass: the chord root, held a little past the slot and faded.
		addNote(mix, rate, start, slot+1.0, midiFreq(chord[0]), 0.22, padTone, padEnvelope)
		// Soft organ pad on the upper voices.
		for _, m := range chord[1:] {
			addNote(mix, rate, start, slot+1.0, midiFreq(m), 0.12, padTone, padEnvelope)
		}
		// A slow bell arpeggio an octave above the pad, four notes per chord.
		for k, m := range chord[1:] {
			at := start + float64(k)*slot/4 + slot/8
			addNote(mix, rate, at, 2.5, midiFreq(m+12), 0.10, bellTone, bellEnvelope)
		}
	}
	return toPCM16(mix, 0.5)
}

// midiFreq returns the equal-tempered frequency of a MIDI note number.
func midiFreq(m int) float64 {
	return 440 * math.Pow(2, float64(m-69)/12)
}

// partial is one harmonic of a tone: its multiple of the fundamental and level.
type partial struct {
	mult, level float64
}

// padTone is a soft organ: the fundamental with a few quiet harmonics.
var padTone = []partial{{1, 1}, {2, 0.35}, {3, 0.15}, {4, 0.06}}

// bellTone is a mellow bell: fundamental, octave and a slightly stretched partial.
var bellTone = []partial{{1, 1}, {2, 0.25}, {3.01, 0.08}}

// padEnvelope rises and falls with raised-cosine ramps so chords cross-fade.
func padEnvelope(t, dur float64) float64 {
	const attack, release = 1.2, 1.6
	switch {
	case t < attack:
		return 0.5 - 0.5*math.Cos(math.Pi*t/attack)
	case t > dur-release:
		return 0.5 + 0.5*math.Cos(math.Pi*(t-(dur-release))/release)
	default:
		return 1
	}
}

// bellEnvelope has a short soft attack, an exponential decay and a fade to
// exactly zero at the end of the note.
func bellEnvelope(t, dur float64) float64 {
	const attack, tail = 0.015, 0.3
	env := math.Exp(-t / 0.7)
	if t < attack {
		env *= t / attack
	}
	if t > dur-tail {
		env *= (dur - t) / tail
	}
	return env
}

// addNote mixes one note into the loop buffer, folding time modulo the loop.
func addNote(mix []float64, rate int, start, dur, freq, level float64,
	tone []partial, envelope func(t, dur float64) float64) {
	first := int(start * float64(rate))
	count := int(dur * float64(rate))
	for i := range count {
		t := float64(i) / float64(rate)
		var v float64
		for _, p := range tone {
			f := freq * p.mult
			if f > maxPartial {
				continue
			}
			v += p.level * math.Sin(2*math.Pi*f*t)
		}
		mix[(first+i)%len(mix)] += level * envelope(t, dur) * v
	}
}

// toPCM16 scales the mix so its peak sits at the given fraction of full scale.
func toPCM16(mix []float64, peak float64) []int16 {
	var top float64
	for _, v := range mix {
		top = max(top, math.Abs(v))
	}
	out := make([]int16, len(mix))
	if top == 0 {
		return out
	}
	scale := peak * math.MaxInt16 / top
	for i, v := range mix {
		out[i] = int16(math.Round(v * scale))
	}
	return out
}

// writeWAV writes a canonical 44-byte RIFF/WAVE header (PCM, mono, 16-bit)
// followed by the samples in little-endian order.
func writeWAV(w io.Writer, rate int, samples []int16) error {
	dataLen := len(samples) * 2
	if dataLen > math.MaxUint32-36 {
		return errors.New("too many samples for a WAV file")
	}
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataLen))
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	binary.LittleEndian.PutUint32(h[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(h[22:], 1)  // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2)) // byte rate
	binary.LittleEndian.PutUint16(h[32:], 2)              // block align
	binary.LittleEndian.PutUint16(h[34:], 16)             // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataLen))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	return binary.Write(w, binary.LittleEndian, samples)
}
