// Package media moves 20 ms frames of 8 kHz audio between a call and the network:
// G.711 tables, the per-call RTP endpoint (pion/rtp), RFC 4733 events, in-band
// DTMF detection, paced playback of prompts decoded once at start-up, and the
// RTP port allocator. It knows nothing of SIP, IVR flows or the store.
//
// A node serves all its calls' media from one Pacer (created and closed by the
// node, handed to Ports): it sends every playing prompt's frames and drains
// every endpoint's socket on a 20 ms wheel, instead of a goroutine, a ticker
// and a wake-up per call and per packet.
package media

import "time"

const (
	// SampleRate is the only rate inside hotline: narrowband telephony.
	SampleRate = 8000
	// FrameSamples is the number of PCM16 samples in one 20 ms frame.
	FrameSamples = 160
	// FrameDuration is the packetisation interval of every stream we send.
	FrameDuration = 20 * time.Millisecond
)

// Codec is a negotiated G.711 payload format, identified by its static RTP
// payload type.
type Codec uint8

const (
	// PCMU is G.711 µ-law, static payload type 0.
	PCMU Codec = 0
	// PCMA is G.711 A-law, static payload type 8.
	PCMA Codec = 8
)

// String returns the SDP encoding name.
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "unknown"
}

// DigitSource says how a DTMF digit reached us; it is also a metric label.
type DigitSource string

// The three ways a caller's key press arrives.
const (
	SourceRFC4733 DigitSource = "rfc4733"
	SourceINFO    DigitSource = "info"
	SourceInband  DigitSource = "inband"
)

// Digit is one DTMF key press, already de-duplicated within its source.
type Digit struct {
	Key    byte // '0'-'9', '*', '#', 'A'-'D'
	Source DigitSource
	At     time.Time
}
