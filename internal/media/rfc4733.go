package media

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// dtmfEventSize is the length of one RFC 4733 named-event payload block.
const dtmfEventSize = 4

// DTMFEvent is one RFC 4733 §2.3 telephone-event payload block.
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D'
	End      bool   // the E bit: this is (a retransmission of) the final packet
	Volume   uint8  // power level in -dBm0, 0-63
	Duration uint16 // in RTP timestamp units since the event's timestamp
}

// errShortDTMFEvent is returned for a payload shorter than one event block.
var errShortDTMFEvent = errors.New("rfc4733: payload shorter than 4 bytes")

// ParseDTMFEvent decodes the first event block of an RFC 4733 payload.
// Trailing blocks (redundancy) are ignored.
func ParseDTMFEvent(payload []byte) (DTMFEvent, error) {
	if len(payload) < dtmfEventSize {
		return DTMFEvent{}, fmt.Errorf("%w: got %d", errShortDTMFEvent, len(payload))
	}
	return DTMFEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}, nil
}

// Marshal encodes the event as a 4-byte RFC 4733 payload.
func (e DTMFEvent) Marshal() []byte {
	return e.AppendTo(make([]byte, 0, dtmfEventSize))
}

// AppendTo appends the 4-byte encoding of the event to dst, so a sender can
// reuse its buffer.
func (e DTMFEvent) AppendTo(dst []byte) []byte {
	b1 := e.Volume & 0x3F
	if e.End {
		b1 |= 0x80
	}
	return append(dst, e.Event, b1, byte(e.Duration>>8), byte(e.Duration))
}

// dtmfKeys maps RFC 4733 event codes 0-15 to key characters.
const dtmfKeys = "0123456789*#ABCD"

// EventKey returns the key character for an RFC 4733 DTMF event code.
func EventKey(event uint8) (byte, bool) {
	if int(event) >= len(dtmfKeys) {
		return 0, false
	}
	return dtmfKeys[event], true
}

// KeyEvent returns the RFC 4733 event code for a key character; lower-case
// 'a'-'d' are accepted.
func KeyEvent(key byte) (uint8, bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i := range len(dtmfKeys) {
		if dtmfKeys[i] == key {
			return uint8(i), true
		}
	}
	return 0, false
}
