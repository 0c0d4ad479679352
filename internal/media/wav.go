package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"time"
)

// Prompt is audio decoded once at load and shared read-only by every call:
// 8 kHz mono PCM16.
type Prompt struct {
	Name    string
	Samples []int16
}

// Duration returns the playing time of the prompt.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.Samples)) * time.Second / SampleRate
}

// maxWAVSize bounds what LoadWAV reads: a prompt longer than this is a mistake.
const maxWAVSize = 256 << 20

// WAV format tags (the fmt chunk's wFormatTag).
const (
	wavPCM        = 1
	wavFloat      = 3
	wavALaw       = 6
	wavMULaw      = 7
	wavExtensible = 0xFFFE
)

// wavFormat is the part of a fmt chunk the loader uses.
type wavFormat struct {
	tag      uint16
	channels int
	rate     int
	bits     int
}

// LoadWAV decodes a WAV file into an 8 kHz mono prompt. It reads PCM16 8 kHz
// mono, µ-law (format 7) and A-law (format 6) directly; 8-bit or 16-bit PCM at
// other rates or with several channels is converted (downmixed, resampled).
// Anything else is refused with an error naming the file and the problem.
func LoadWAV(name string, r io.Reader) (*Prompt, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxWAVSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxWAVSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxWAVSize>>20)
	}
	samples, err := decodeWAV(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Prompt{Name: name, Samples: samples}, nil
}

// LoadWAVFile loads the WAV file at path in fsys; the prompt is named after
// the file's base name.
func LoadWAVFile(fsys fs.FS, name string) (*Prompt, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := LoadWAV(name, f)
	if err != nil {
		return nil, err
	}
	p.Name = path.Base(name)
	return p, nil
}

// decodeWAV walks the RIFF chunks and returns 8 kHz mono samples.
func decodeWAV(data []byte) ([]int16, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, errors.New("not a RIFF/WAVE file")
	}
	var (
		format  *wavFormat
		payload []byte
		found   bool
	)
	for rest := data[12:]; len(rest) >= 8; {
		id := string(rest[0:4])
		size := int(binary.LittleEndian.Uint32(rest[4:8]))
		rest = rest[8:]
		if size < 0 || size > len(rest) {
			if id != "data" {
				return nil, fmt.Errorf("chunk %q is truncated", id)
			}
			size = len(rest) // tolerate a streamed file whose data size was never fixed
		}
		body := rest[:size]
		switch id {
		case "fmt ":
			f, err := parseWAVFormat(body)
			if err != nil {
				return nil, err
			}
			format = f
		case "data":
			payload, found = body, true
		}
		if size%2 == 1 && size < len(rest) {
			size++ // chunks are word aligned
		}
		rest = rest[size:]
		if found && format != nil {
			break
		}
	}
	if format == nil {
		return nil, errors.New("no fmt chunk")
	}
	if !found {
		return nil, errors.New("no data chunk")
	}
	mono, err := decodeWAVSamples(format, payload)
	if err != nil {
		return nil, err
	}
	if format.rate != SampleRate {
		mono = resample(mono, format.rate, SampleRate)
	}
	return mono, nil
}

// parseWAVFormat validates a fmt chunk.
func parseWAVFormat(b []byte) (*wavFormat, error) {
	if len(b) < 16 {
		return nil, errors.New("fmt chunk too short")
	}
	f := &wavFormat{
		tag:      binary.LittleEndian.Uint16(b[0:2]),
		channels: int(binary.LittleEndian.Uint16(b[2:4])),
		rate:     int(binary.LittleEndian.Uint32(b[4:8])),
		bits:     int(binary.LittleEndian.Uint16(b[14:16])),
	}
	if f.tag == wavExtensible {
		// WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the
		// sub-format GUID at offset 24.
		if len(b) < 26 {
			return nil, errors.New("extensible fmt chunk too short")
		}
		f.tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case f.channels == 0:
		return nil, errors.New("0 channels")
	case f.channels > 8:
		return nil, fmt.Errorf("%d channels not supported", f.channels)
	case f.rate < 1000 || f.rate > 384000:
		return nil, fmt.Errorf("sample rate %d Hz not supported", f.rate)
	}
	switch f.tag {
	case wavPCM:
		if f.bits != 8 && f.bits != 16 {
			return nil, fmt.Errorf("%d-bit PCM not supported (use 8 or 16 bits)", f.bits)
		}
	case wavALaw, wavMULaw:
		if f.bits != 8 {
			return nil, fmt.Errorf("%d-bit G.711 not supported", f.bits)
		}
	case wavFloat:
		return nil, errors.New("floating-point samples not supported (use 16-bit PCM)")
	default:
		return nil, fmt.Errorf("format tag 0x%04x not supported (use PCM16, µ-law or A-law)", f.tag)
	}
	return f, nil
}

// decodeWAVSamples converts the data chunk to mono PCM16 at the file's rate.
func decodeWAVSamples(f *wavFormat, data []byte) ([]int16, error) {
	width := f.bits / 8
	frame := width * f.channels
	n := len(data) / frame
	out := make([]int16, n)
	for i := range out {
		var sum int
		for ch := range f.channels {
			off := i*frame + ch*width
			sum += int(sampleAt(f.tag, f.bits, data[off:off+width]))
		}
		out[i] = int16(sum / f.channels)
	}
	return out, nil
}

// sampleAt decodes one sample to PCM16.
func sampleAt(tag uint16, bits int, b []byte) int16 {
	switch {
	case tag == wavMULaw:
		return ulawDecode[b[0]]
	case tag == wavALaw:
		return alawDecode[b[0]]
	case bits == 8:
		return int16(int(b[0])-128) << 8 // 8-bit PCM is unsigned
	}
	return int16(binary.LittleEndian.Uint16(b))
}

// resampleZeros is the half-width of the windowed-sinc kernel in zero
// crossings of the output rate.
const resampleZeros = 8

// resample converts in from rate from to rate to with a Hann-windowed sinc
// low-pass at the lower of the two Nyquist frequencies. Prompts are converted
// once at load, so clarity wins over speed here.
func resample(in []int16, from, to int) []int16 {
	if len(in) == 0 || from == to {
		return in
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, n)
	ratio := float64(from) / float64(to) // input samples per output sample
	cutoff := min(1, 1/ratio)            // normalised to the input Nyquist
	half := float64(resampleZeros) / cutoff
	for i := range out {
		centre := float64(i) * ratio
		lo := max(0, int(math.Ceil(centre-half)))
		hi := min(len(in)-1, int(math.Floor(centre+half)))
		var acc, norm float64
		for j := lo; j <= hi; j++ {
			x := float64(j) - centre
			w := 0.5 + 0.5*math.Cos(math.Pi*x/half)
			k := w * sinc(x*cutoff)
			acc += k * float64(in[j])
			norm += k
		}
		if norm != 0 {
			acc /= norm
		}
		out[i] = int16(min(max(math.Round(acc), math.MinInt16), math.MaxInt16))
	}
	return out
}

// sinc is the normalised sinc function.
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// WriteWAV writes samples as an 8 kHz mono PCM16 WAV file.
func WriteWAV(w io.Writer, samples []int16) error {
	dataSize := len(samples) * 2
	if uint64(dataSize) > math.MaxUint32-36 {
		return errors.New("too many samples for a WAV file")
	}
	buf := make([]byte, 44, 44+dataSize)
	copy(buf[0:4], "RIFF")
	binary.LittleEndian.PutUint32(buf[4:8], uint32(36+dataSize))
	copy(buf[8:16], "WAVEfmt ")
	binary.LittleEndian.PutUint32(buf[16:20], 16)
	binary.LittleEndian.PutUint16(buf[20:22], wavPCM)
	binary.LittleEndian.PutUint16(buf[22:24], 1)
	binary.LittleEndian.PutUint32(buf[24:28], SampleRate)
	binary.LittleEndian.PutUint32(buf[28:32], SampleRate*2)
	binary.LittleEndian.PutUint16(buf[32:34], 2)
	binary.LittleEndian.PutUint16(buf[34:36], 16)
	copy(buf[36:40], "data")
	binary.LittleEndian.PutUint32(buf[40:44], uint32(dataSize))
	for _, s := range samples {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(s))
	}
	_, err := w.Write(buf)
	return err
}
