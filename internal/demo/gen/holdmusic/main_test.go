package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLoopIsSeamless checks the loop point sounds like any other instant:
// the jump from the last sample to the first is no larger than the largest
// step inside the loop, and no stretch of the loop is silent.
func TestLoopIsSeamless(t *testing.T) {
	s := render(sampleRate, 8)
	require.Len(t, s, 8*sampleRate)

	var maxStep float64
	for i := 1; i < len(s); i++ {
		maxStep = max(maxStep, math.Abs(float64(s[i])-float64(s[i-1])))
	}
	seam := math.Abs(float64(s[0]) - float64(s[len(s)-1]))
	require.LessOrEqual(t, seam, maxStep, "click at the loop point")

	const window = sampleRate / 10
	for i := 0; i+window <= len(s); i += window {
		var sum float64
		for _, v := range s[i : i+window] {
			sum += float64(v) * float64(v)
		}
		rms := math.Sqrt(sum / window)
		require.Greater(t, rms, 300.0, "near-silent gap at %.1f s", float64(i)/sampleRate)
	}
}

// TestWAVHeader checks the header describes 8 kHz mono PCM16 and the data length.
func TestWAVHeader(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeWAV(&buf, sampleRate, []int16{1, -2, 3}))
	b := buf.Bytes()
	require.Len(t, b, 44+6)
	require.Equal(t, "RIFF", string(b[0:4]))
	require.Equal(t, "WAVE", string(b[8:12]))
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[20:]), "PCM")
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[22:]), "mono")
	require.Equal(t, uint32(8000), binary.LittleEndian.Uint32(b[24:]))
	require.Equal(t, uint16(16), binary.LittleEndian.Uint16(b[34:]))
	require.Equal(t, uint32(6), binary.LittleEndian.Uint32(b[40:]))
	require.Equal(t, int16(-2), int16(binary.LittleEndian.Uint16(b[46:])))
}
