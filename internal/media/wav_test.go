package media

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

// wavFile builds a WAV file with the given fmt fields and raw data.
func wavFile(tag uint16, channels, rate, bits int, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+16+8+len(data)))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, binary.LittleEndian, uint32(16))
	_ = binary.Write(&b, binary.LittleEndian, tag)
	_ = binary.Write(&b, binary.LittleEndian, uint16(channels))
	_ = binary.Write(&b, binary.LittleEndian, uint32(rate))
	_ = binary.Write(&b, binary.LittleEndian, uint32(rate*channels*bits/8))
	_ = binary.Write(&b, binary.LittleEndian, uint16(channels*bits/8))
	_ = binary.Write(&b, binary.LittleEndian, uint16(bits))
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func TestWAVRoundTripPCM16(t *testing.T) {
	tone := Tone([]float64{1000}, 300*time.Millisecond, 0.5)
	var buf bytes.Buffer
	require.NoError(t, WriteWAV(&buf, tone.Samples))
	p, err := LoadWAV("tone.wav", &buf)
	require.NoError(t, err)
	require.Equal(t, "tone.wav", p.Name)
	require.Equal(t, tone.Samples, p.Samples)
	require.Equal(t, 300*time.Millisecond, p.Duration())
}

func TestLoadWAVG711(t *testing.T) {
	tone := Tone([]float64{800}, 200*time.Millisecond, 0.5).Samples
	for _, c := range []struct {
		codec Codec
		tag   uint16
	}{{PCMU, 7}, {PCMA, 6}} {
		file := wavFile(c.tag, 1, SampleRate, 8, EncodeFrame(c.codec, tone, nil))
		p, err := LoadWAV("g711.wav", bytes.NewReader(file))
		require.NoError(t, err, c.codec.String())
		require.Equal(t, DecodeFrame(c.codec, EncodeFrame(c.codec, tone, nil), nil), p.Samples)
	}
}

func TestLoadWAVConvertsStereo44k(t *testing.T) {
	const rate = 44100
	n := rate / 2 // 500 ms
	data := make([]byte, 0, n*4)
	for i := range n {
		ts := float64(i) / rate
		left := int16(12000 * math.Sin(2*math.Pi*1000*ts))
		right := int16(12000 * math.Sin(2*math.Pi*1000*ts)) // same tone: the downmix keeps it
		data = binary.LittleEndian.AppendUint16(data, uint16(left))
		data = binary.LittleEndian.AppendUint16(data, uint16(right))
	}
	p, err := LoadWAV("music.wav", bytes.NewReader(wavFile(1, 2, rate, 16, data)))
	require.NoError(t, err)
	require.InDelta(t, SampleRate/2, len(p.Samples), 2)
	mid := p.Samples[400:3600]
	require.InDelta(t, 0.5*math.Pow(12000.0/32768, 2), Power(mid, 1000), 0.01)
	require.Less(t, Power(mid, 1500), 1e-4)
}

func TestLoadWAVResampleFiltersAliases(t *testing.T) {
	// A 6 kHz tone at 16 kHz cannot be represented at 8 kHz; it must be
	// filtered out, not folded back to 2 kHz.
	const rate = 16000
	data := make([]byte, 0, rate*2)
	for i := range rate / 2 {
		data = binary.LittleEndian.AppendUint16(data, uint16(int16(16000*math.Sin(2*math.Pi*6000*float64(i)/rate))))
	}
	p, err := LoadWAV("alias.wav", bytes.NewReader(wavFile(1, 1, rate, 16, data)))
	require.NoError(t, err)
	require.Less(t, Power(p.Samples[200:3800], 2000), 1e-4)
}

func TestLoadWAV8BitPCM(t *testing.T) {
	data := []byte{128, 255, 0, 128}
	p, err := LoadWAV("old.wav", bytes.NewReader(wavFile(1, 1, SampleRate, 8, data)))
	require.NoError(t, err)
	require.Equal(t, []int16{0, 127 << 8, -128 << 8, 0}, p.Samples)
}

func TestLoadWAVRefuses(t *testing.T) {
	cases := map[string][]byte{
		"hold.wav: 24-bit PCM not supported":          wavFile(1, 1, 8000, 24, make([]byte, 30)),
		"x.wav: floating-point samples not supported": wavFile(3, 1, 8000, 32, make([]byte, 32)),
		"x.wav: format tag 0x0055 not supported":      wavFile(0x55, 1, 8000, 0, nil),
		"x.wav: 0 channels":                           wavFile(1, 0, 8000, 16, nil),
		"x.wav: sample rate 0 Hz not supported":       wavFile(1, 1, 0, 16, nil),
		"x.wav: not a RIFF/WAVE file":                 []byte("ID3 this is an mp3"),
		"x.wav: no data chunk":                        wavFile(1, 1, 8000, 16, nil)[:36],
	}
	for want, file := range cases {
		name := "x.wav"
		if want[:4] == "hold" {
			name = "hold.wav"
		}
		_, err := LoadWAV(name, bytes.NewReader(file))
		require.ErrorContains(t, err, want)
	}
}

func TestLoadWAVFile(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteWAV(&buf, []int16{1, 2, 3}))
	fsys := fstest.MapFS{"prompts/en/welcome.wav": {Data: buf.Bytes()}}
	p, err := LoadWAVFile(fsys, "prompts/en/welcome.wav")
	require.NoError(t, err)
	require.Equal(t, "welcome.wav", p.Name)
	require.Equal(t, []int16{1, 2, 3}, p.Samples)
	_, err = LoadWAVFile(fsys, "prompts/en/missing.wav")
	require.ErrorContains(t, err, "missing.wav")
}

func FuzzLoadWAV(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzLoadWAV.
	f.Add(wavFile(7, 2, 11025, 8, []byte{1, 2, 3, 4, 5}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := LoadWAV("fuzz.wav", bytes.NewReader(b))
		if err != nil {
			require.Contains(t, err.Error(), "fuzz.wav: ")
			return
		}
		require.NotNil(t, p)
	})
}
