package recordings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The file format: RIFF WAVE, PCM 16-bit little-endian, 8 kHz, two channels
// (left the caller, right what the caller hears: the agent). 16-bit PCM and
// not µ-law because every browser's <audio> plays PCM WAV and not all play
// µ-law WAV, and because the agent's leg and the caller's leg may use
// different G.711 laws: PCM holds both without a second conversion.
//
// The header is
//
//	RIFF <size> WAVE
//	fmt  (16 bytes: PCM, 2 channels, 8000 Hz, 32000 bytes/s, block 4, 16 bits)
//	LIST <n> INFO ICMT <m> "hotline recording=<id> call=<call id>"
//	data <size>
//
// The LIST chunk names the recording and its call, so a .part file found
// after a crash can be matched to its row, or a row be made for it, without
// anything else. While recording, the two size fields are 0; finishing (or
// recovery) writes them.
const (
	// SampleRate is the recordings' sample rate (narrowband telephony).
	SampleRate = 8000
	// Channels is the number of channels: left caller, right agent.
	Channels = 2
	// BytesPerSecond is the size of one second of audio.
	BytesPerSecond = SampleRate * Channels * 2
	// FrameSamples is one 20 ms frame of one channel.
	FrameSamples = 160
	// frameBytes is one 20 ms stereo frame in the file.
	frameBytes = FrameSamples * Channels * 2
	blockAlign = Channels * 2
)

// maxInfoLen bounds the LIST chunk a reader accepts.
const maxInfoLen = 4096

// errNotRecording is wrapped by ParseHeader's errors.
var errNotRecording = errors.New("not a hotline recording")

// Header is what a recording file's header says about it.
type Header struct {
	RecordingID string
	CallID      string
	// DataOffset is where the audio starts; DataLen how many bytes of whole
	// stereo samples follow it in the file (not the header's own size field,
	// which is 0 in a .part file).
	DataOffset int64
	DataLen    int64
	// Declared is the data chunk's size field as written (0 while recording).
	Declared uint32
}

// Duration returns the audio length in milliseconds.
func (h Header) DurationMS() int64 { return h.DataLen * 1000 / BytesPerSecond }

// header builds the header of a recording with dataLen bytes of audio.
func header(recordingID, callID string, dataLen uint32) []byte {
	info := "hotline recording=" + recordingID + " call=" + callID
	info = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, info)
	if len(info) > maxInfoLen-64 {
		info = info[:maxInfoLen-64]
	}
	icmt := []byte(info + "\x00")
	if len(icmt)%2 == 1 {
		icmt = append(icmt, 0)
	}
	listLen := 4 + 8 + len(icmt) // "INFO" + ICMT chunk
	b := make([]byte, 0, 12+24+8+listLen+8)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, 0) // set below
	b = append(b, "WAVE"...)
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1) // PCM
	b = le.AppendUint16(b, Channels)
	b = le.AppendUint32(b, SampleRate)
	b = le.AppendUint32(b, BytesPerSecond)
	b = le.AppendUint16(b, blockAlign)
	b = le.AppendUint16(b, 16)
	b = append(b, "LIST"...)
	b = le.AppendUint32(b, uint32(listLen))
	b = append(b, "INFO"...)
	b = append(b, "ICMT"...)
	b = le.AppendUint32(b, uint32(len(icmt)))
	b = append(b, icmt...)
	b = append(b, "data"...)
	b = le.AppendUint32(b, dataLen)
	if dataLen > 0 {
		le.PutUint32(b[4:], uint32(len(b)-8)+dataLen)
	}
	return b
}

// sizeFields returns the two size fields of a header whose data starts at
// dataOffset and holds dataLen bytes: the RIFF size (at offset 4) and the
// data size (at dataOffset-4).
func sizeFields(dataOffset, dataLen int64) (riff, data uint32) {
	total := dataOffset + dataLen
	if total-8 > 0xFFFFFFFF {
		return 0xFFFFFFFF, 0xFFFFFFFF
	}
	return uint32(total - 8), uint32(dataLen)
}

// ParseHeader reads the header of a recording file of the given size (a
// finished .wav or a .part left by a crash) and reports where its audio is.
// It accepts only the format the recorder writes (PCM 16-bit, 8 kHz,
// stereo); unknown chunks before the data are skipped. A torn last sample
// is not counted in DataLen.
func ParseHeader(r io.ReaderAt, size int64) (Header, error) {
	var h Header
	var b [12]byte
	if _, err := r.ReadAt(b[:12], 0); err != nil {
		return h, fmt.Errorf("%w: short header: %v", errNotRecording, err)
	}
	if string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return h, fmt.Errorf("%w: no RIFF WAVE header", errNotRecording)
	}
	le := binary.LittleEndian
	off := int64(12)
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return h, fmt.Errorf("%w: no data chunk", errNotRecording)
		}
		id, n := string(ch[0:4]), int64(le.Uint32(ch[4:8]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 || n > 64 {
				return h, fmt.Errorf("%w: fmt chunk of %d bytes", errNotRecording, n)
			}
			var f [16]byte
			if _, err := r.ReadAt(f[:], body); err != nil {
				return h, fmt.Errorf("%w: short fmt chunk", errNotRecording)
			}
			tag, chans, rate, bits := le.Uint16(f[0:]), le.Uint16(f[2:]), le.Uint32(f[4:]), le.Uint16(f[14:])
			if tag != 1 || chans != Channels || rate != SampleRate || bits != 16 {
				return h, fmt.Errorf("%w: format %d, %d channels, %d Hz, %d bits (want PCM, 2, 8000, 16)",
					errNotRecording, tag, chans, rate, bits)
			}
			haveFmt = true
		case "LIST":
			if n > maxInfoLen || n < 4 {
				return h, fmt.Errorf("%w: LIST chunk of %d bytes", errNotRecording, n)
			}
			buf := make([]byte, n)
			if _, err := r.ReadAt(buf, body); err != nil {
				return h, fmt.Errorf("%w: short LIST chunk", errNotRecording)
			}
			h.RecordingID, h.CallID = parseInfo(buf)
		case "data":
			if !haveFmt {
				return h, fmt.Errorf("%w: data before fmt", errNotRecording)
			}
			h.DataOffset = body
			h.Declared = uint32(n)
			avail := max(size-body, 0)
			h.DataLen = avail - avail%blockAlign
			return h, nil
		}
		off = body + n + n%2
		if off > size {
			return h, fmt.Errorf("%w: chunk %q runs past the end", errNotRecording, id)
		}
	}
}

// parseInfo finds recording= and call= in a LIST INFO chunk's ICMT text.
func parseInfo(list []byte) (recordingID, callID string) {
	if len(list) < 4 || string(list[:4]) != "INFO" {
		return "", ""
	}
	le := binary.LittleEndian
	for p := 4; p+8 <= len(list); {
		id, n := string(list[p:p+4]), int(le.Uint32(list[p+4:p+8]))
		if n < 0 || p+8+n > len(list) {
			return recordingID, callID
		}
		if id == "ICMT" {
			text := strings.TrimRight(string(list[p+8:p+8+n]), "\x00")
			for _, f := range strings.Fields(text) {
				if v, ok := strings.CutPrefix(f, "recording="); ok {
					recordingID = v
				}
				if v, ok := strings.CutPrefix(f, "call="); ok {
					callID = v
				}
			}
		}
		p += 8 + n + n%2
	}
	return recordingID, callID
}
