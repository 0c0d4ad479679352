package sipptest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/pion/rtp"
)

// DTMFPcap describes a pcap of RFC 4733 telephone-events for SIPp's
// play_pcap_audio: one coherent RTP stream (one SSRC, continuous sequence
// numbers, timestamps on the 8 kHz clock) with one event per digit.
type DTMFPcap struct {
	// Digits to send, from "0123456789*#ABCD".
	Digits string
	// Gap is the time from the start of one digit to the start of the next
	// (default 1 s).
	Gap time.Duration
	// Tone is how long each digit is held (default 160 ms, at least 40 ms).
	Tone time.Duration
	// PayloadType is the negotiated telephone-event payload type (default 101).
	PayloadType uint8
	// SSRC of the stream (default 0x484f544c).
	SSRC uint32
	// Port is the UDP port written into the capture; SIPp replaces it with
	// the call's media ports (default 6000).
	Port uint16
}

const (
	// clockRate is the RTP clock of telephone-event and G.711.
	clockRate = 8000
	// packetInterval is the spacing of RFC 4733 updates.
	packetInterval = 20 * time.Millisecond
	// endRepeats is how many times the end-of-event packet is sent (RFC 4733 §2.5.1.4).
	endRepeats = 3
	// eventVolume is the tone power in -dBm0 carried in each event packet.
	eventVolume = 10
	// pcapEpoch is the capture time of the first packet, fixed so the
	// generated files are reproducible byte for byte.
	pcapEpoch = 1_700_000_000
)

// dtmfEvents maps a digit to its RFC 4733 event code.
const dtmfEvents = "0123456789*#ABCD"

// WriteDTMFPcap writes d as a pcap file (Ethernet link type, IPv4/UDP on
// 127.0.0.1) that SIPp can replay with play_pcap_audio.
func WriteDTMFPcap(w io.Writer, d DTMFPcap) error {
	if d.Digits == "" {
		return errors.New("dtmf pcap: no digits")
	}
	gap := cmpOr(d.Gap, time.Second)
	tone := cmpOr(d.Tone, 160*time.Millisecond)
	if tone < 2*packetInterval {
		return fmt.Errorf("dtmf pcap: tone %v shorter than %v", tone, 2*packetInterval)
	}
	if gap < tone+endRepeats*packetInterval {
		return fmt.Errorf("dtmf pcap: gap %v too short for a %v tone", gap, tone)
	}
	pt := cmpOr(d.PayloadType, 101)
	if pt > 127 {
		return fmt.Errorf("dtmf pcap: payload type %d out of range", pt)
	}
	ssrc := cmpOr(d.SSRC, 0x484f544c)
	port := cmpOr(d.Port, 6000)

	if err := writePcapHeader(w); err != nil {
		return err
	}
	hdr := rtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc, SequenceNumber: 1}
	var payload [4]byte
	for i, r := range d.Digits {
		code := indexRune(dtmfEvents, r)
		if code < 0 {
			return fmt.Errorf("dtmf pcap: %q is not a DTMF digit", r)
		}
		start := time.Duration(i) * gap
		hdr.Timestamp = 1000 + uint32(start.Seconds()*clockRate)
		updates := int(tone / packetInterval)
		for k := range updates + endRepeats {
			at := start + time.Duration(k)*packetInterval
			dur := min(k+1, updates) * int(packetInterval.Seconds()*clockRate)
			end := k >= updates
			hdr.Marker = k == 0
			payload[0] = byte(code)
			payload[1] = eventVolume
			if end {
				payload[1] |= 0x80
			}
			binary.BigEndian.PutUint16(payload[2:], uint16(dur))
			pkt := rtp.Packet{Header: hdr, Payload: payload[:]}
			raw, err := pkt.Marshal()
			if err != nil {
				return err
			}
			if err := writePcapUDP(w, at, port, raw); err != nil {
				return err
			}
			hdr.SequenceNumber++
		}
	}
	return nil
}

// indexRune returns the index of r in s, or -1.
func indexRune(s string, r rune) int {
	for i, c := range s {
		if c == r {
			return i
		}
	}
	return -1
}

// cmpOr returns v, or def when v is the zero value.
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// writePcapHeader writes the classic pcap global header for Ethernet frames.
func writePcapHeader(w io.Writer) error {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4) // magic, microsecond timestamps
	binary.LittleEndian.PutUint16(h[4:], 2)          // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(h[20:], 1)     // LINKTYPE_ETHERNET
	_, err := w.Write(h[:])
	return err
}

// writePcapUDP writes one record: Ethernet + IPv4 + UDP (127.0.0.1:port on
// both ends) carrying payload, captured at pcapEpoch+at.
func writePcapUDP(w io.Writer, at time.Duration, port uint16, payload []byte) error {
	const ethLen, ipLen, udpLen = 14, 20, 8
	frame := make([]byte, ethLen+ipLen+udpLen+len(payload))

	binary.BigEndian.PutUint16(frame[12:], 0x0800) // IPv4; MAC addresses left zero

	ip := frame[ethLen : ethLen+ipLen]
	ip[0] = 0x45 // version 4, 20-byte header
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen+udpLen+len(payload)))
	ip[8] = 64 // TTL
	ip[9] = 17 // UDP
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	binary.BigEndian.PutUint16(ip[10:], inetChecksum(ip, 0))

	udp := frame[ethLen+ipLen:]
	binary.BigEndian.PutUint16(udp[0:], port)
	binary.BigEndian.PutUint16(udp[2:], port)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen+len(payload)))
	copy(udp[udpLen:], payload)
	// Pseudo-header: source and destination address, protocol, UDP length.
	pseudo := uint32(0x7f00+0x0001)*2 + 17 + uint32(udpLen+len(payload))
	binary.BigEndian.PutUint16(udp[6:], inetChecksum(udp, pseudo))

	var rec [16]byte
	ts := time.Duration(pcapEpoch)*time.Second + at
	binary.LittleEndian.PutUint32(rec[0:], uint32(ts/time.Second))
	binary.LittleEndian.PutUint32(rec[4:], uint32((ts%time.Second)/time.Microsecond))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	if _, err := w.Write(rec[:]); err != nil {
		return err
	}
	_, err := w.Write(frame)
	return err
}

// inetChecksum is the Internet checksum (RFC 1071) of b plus a partial sum.
func inetChecksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// WriteComfortNoise writes d of soft, low-level noise (about -55 dBFS) as
// raw headerless G.711 µ-law at 8 kHz, the format of SIPp's rtp_stream.
// The output is the same on every run.
func WriteComfortNoise(w io.Writer, d time.Duration) error {
	n := int(d.Seconds() * clockRate)
	if n <= 0 {
		return fmt.Errorf("comfort noise: duration %v too short", d)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]byte, n)
	var lp float64
	for i := range out {
		// One-pole low-pass over white noise takes the hiss off.
		lp += 0.3 * (rng.NormFloat64()*100 - lp)
		out[i] = linearToULaw(int16(math.Round(lp)))
	}
	_, err := w.Write(out)
	return err
}

// WriteToneULaw writes d of a sine at freq (amplitude 0.3 of full scale)
// as raw headerless G.711 µ-law at 8 kHz, the format of SIPp's rtp_stream.
// A whole number of cycles per second loops without a click.
func WriteToneULaw(w io.Writer, freq float64, d time.Duration) error {
	n := int(d.Seconds() * clockRate)
	if n <= 0 || freq <= 0 || freq >= clockRate/2 {
		return fmt.Errorf("tone: %v Hz for %v is not a tone", freq, d)
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = linearToULaw(int16(math.Round(0.3 * 32767 * math.Sin(2*math.Pi*freq*float64(i)/clockRate))))
	}
	_, err := w.Write(out)
	return err
}

// linearToULaw encodes one 16-bit linear sample as G.711 µ-law.
func linearToULaw(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int32(s)
	var sign byte
	if v < 0 {
		sign = 0x80
		v = -v
	}
	v = min(v, clip) + bias
	exp := byte(7)
	for mask := int32(0x4000); v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(v>>(exp+3)) & 0x0f
	return ^(sign | exp<<4 | mant)
}

// Names of the media files checked in next to the scenarios.
const (
	// ComfortNoiseFile is 1 s of comfort noise as raw µ-law, looped by rtp_stream.
	ComfortNoiseFile = "comfort_noise.ulaw"
	// ToneFile is 1 s of a ToneHz sine as raw µ-law, what tone_caller.xml says.
	ToneFile = "tone_440.ulaw"
	// ToneHz is the frequency in ToneFile.
	ToneHz = 440
	// IVRDigitsFile holds the RFC 4733 digits ivr_caller.xml presses.
	IVRDigitsFile = "dtmf_11hash.pcap"
	// IVRDigits are the digits in IVRDigitsFile, one second apart: 1 English,
	// 1 technical support, # skip the serial number.
	IVRDigits = "11#"
)

// MediaFiles are the files WriteMediaFiles writes.
func MediaFiles() []string { return []string{ComfortNoiseFile, ToneFile, IVRDigitsFile} }

// WriteMediaFiles (re)writes the MediaFiles into dir.
func WriteMediaFiles(dir string) error {
	if err := writeFile(filepath.Join(dir, ComfortNoiseFile), func(w io.Writer) error {
		return WriteComfortNoise(w, time.Second)
	}); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, ToneFile), func(w io.Writer) error {
		return WriteToneULaw(w, ToneHz, time.Second)
	}); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, IVRDigitsFile), func(w io.Writer) error {
		return WriteDTMFPcap(w, DTMFPcap{Digits: IVRDigits, Gap: time.Second})
	})
}

// writeFile creates path and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
