package media

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestG711KnownValues(t *testing.T) {
	cases := []struct {
		codec Codec
		in    int16
		code  byte
		out   int16
	}{
		{PCMU, 0, 0xFF, 0},
		{PCMU, 32767, 0x80, 32124},
		{PCMU, -32768, 0x00, -32124},
		{PCMU, 1000, 0xCE, 988},
		{PCMA, 0, 0xD5, 8},
		{PCMA, -1, 0x55, -8},
		{PCMA, 32767, 0xAA, 32256},
		{PCMA, -32768, 0x2A, -32256},
		{PCMA, 1000, 0xFA, 1008},
	}
	for _, c := range cases {
		enc := EncodeFrame(c.codec, []int16{c.in}, nil)
		require.Equal(t, []byte{c.code}, enc, "%s encode %d", c.codec, c.in)
		dec := DecodeFrame(c.codec, enc, nil)
		require.Equal(t, []int16{c.out}, dec, "%s decode 0x%02x", c.codec, c.code)
	}
}

func TestG711RoundTripCodes(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for code := range 256 {
			if c == PCMU && code == 0x7F { // µ-law "negative zero" decodes to 0 = 0xFF
				continue
			}
			pcm := DecodeFrame(c, []byte{byte(code)}, nil)
			require.Equal(t, []byte{byte(code)}, EncodeFrame(c, pcm, nil), "%s code 0x%02x", c, code)
		}
	}
}

func TestG711QuantisationError(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for x := -32768; x <= 32767; x += 7 {
			got := DecodeFrame(c, EncodeFrame(c, []int16{int16(x)}, nil), nil)[0]
			diff := int(got) - x
			limit := max(abs(x)/16, 32) // G.711 keeps 4 mantissa bits
			require.LessOrEqual(t, abs(diff), limit, "%s sample %d → %d", c, x, got)
		}
	}
}

func TestEncodeFrameAppends(t *testing.T) {
	dst := []byte{0xAB}
	out := EncodeFrame(PCMU, make([]int16, FrameSamples), dst)
	require.Len(t, out, FrameSamples+1)
	require.Equal(t, byte(0xAB), out[0])
	pcm := DecodeFrame(PCMA, out[1:], []int16{7})
	require.Len(t, pcm, FrameSamples+1)
	require.Equal(t, int16(7), pcm[0])
}

func BenchmarkEncodeFrame(b *testing.B) {
	pcm := Tone([]float64{440}, FrameDuration, 0.5).Samples
	dst := make([]byte, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		dst = EncodeFrame(PCMU, pcm, dst[:0])
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
