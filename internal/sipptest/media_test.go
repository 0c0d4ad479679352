package sipptest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// pcapRecord is one packet of a pcap file: capture time and UDP payload.
type pcapRecord struct {
	at      time.Duration
	payload []byte
}

// readPcap decodes a pcap written by WriteDTMFPcap (Ethernet/IPv4/UDP).
func readPcap(t *testing.T, b []byte) []pcapRecord {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 24)
	require.Equal(t, uint32(0xa1b2c3d4), binary.LittleEndian.Uint32(b))
	require.Equal(t, uint32(1), binary.LittleEndian.Uint32(b[20:]), "Ethernet link type")
	var recs []pcapRecord
	var first time.Duration
	for off := 24; off < len(b); {
		require.GreaterOrEqual(t, len(b)-off, 16)
		ts := time.Duration(binary.LittleEndian.Uint32(b[off:]))*time.Second +
			time.Duration(binary.LittleEndian.Uint32(b[off+4:]))*time.Microsecond
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		require.Equal(t, n, int(binary.LittleEndian.Uint32(b[off+12:])), "truncated packet")
		frame := b[off+16 : off+16+n]
		require.Equal(t, uint16(0x0800), binary.BigEndian.Uint16(frame[12:]))
		ip := frame[14:]
		require.Equal(t, byte(17), ip[9], "UDP")
		require.Zero(t, inetChecksum(ip[:20], 0), "IPv4 header checksum")
		udp := ip[20:]
		require.Equal(t, len(udp), int(binary.BigEndian.Uint16(udp[4:])))
		if len(recs) == 0 {
			first = ts
		}
		recs = append(recs, pcapRecord{at: ts - first, payload: udp[8:]})
		off += 16 + n
	}
	return recs
}

// pressed is one digit as a receiver that de-duplicates by RTP timestamp sees it.
type pressed struct {
	digit byte
	at    time.Duration
}

func TestDTMFPcapHoldsDistinctPresses(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteDTMFPcap(&buf, DTMFPcap{Digits: "11#", Gap: time.Second}))
	recs := readPcap(t, buf.Bytes())

	var got []pressed
	seen := map[uint32]bool{}
	var ssrc uint32
	var seq uint16
	for i, r := range recs {
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(r.payload))
		require.Equal(t, uint8(101), p.PayloadType)
		require.Len(t, p.Payload, 4)
		if i == 0 {
			ssrc, seq = p.SSRC, p.SequenceNumber
		} else {
			require.Equal(t, ssrc, p.SSRC, "one stream")
			seq++
			require.Equal(t, seq, p.SequenceNumber, "continuous sequence numbers")
		}
		if !seen[p.Timestamp] {
			seen[p.Timestamp] = true
			require.True(t, p.Marker, "first packet of an event carries the marker")
			require.NotZero(t, binary.BigEndian.Uint16(p.Payload[2:]), "first packet has a duration")
			got = append(got, pressed{dtmfEvents[p.Payload[0]], r.at})
		}
	}
	require.Equal(t, []pressed{{'1', 0}, {'1', time.Second}, {'#', 2 * time.Second}}, got)

	// Each event ends with three end packets carrying the full duration.
	last := recs[len(recs)-1].payload[12:]
	require.Equal(t, byte(11), last[0])
	require.NotZero(t, last[1]&0x80, "end bit")
	require.Equal(t, uint16(1280), binary.BigEndian.Uint16(last[2:]), "160 ms at 8 kHz")
}

func TestDTMFPcapRejectsBadInput(t *testing.T) {
	for name, d := range map[string]DTMFPcap{
		"no digits":   {},
		"bad digit":   {Digits: "1x"},
		"short tone":  {Digits: "1", Tone: 10 * time.Millisecond},
		"short gap":   {Digits: "12", Gap: 100 * time.Millisecond},
		"bad payload": {Digits: "1", PayloadType: 200},
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, WriteDTMFPcap(&bytes.Buffer{}, d))
		})
	}
}

func TestULawEncoding(t *testing.T) {
	require.Equal(t, byte(0xff), linearToULaw(0))
	require.Equal(t, byte(0x80), linearToULaw(32767))
	require.Equal(t, byte(0x00), linearToULaw(-32768))
	// Reference values from sox (-t s16 → -t ul).
	require.Equal(t, byte(0xf2), linearToULaw(100))
	require.Equal(t, byte(0x72), linearToULaw(-100))
	require.Equal(t, byte(0xce), linearToULaw(1000))
}

func TestComfortNoiseIsQuiet(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteComfortNoise(&buf, time.Second))
	require.Equal(t, 8000, buf.Len())
	distinct := map[byte]bool{}
	for _, b := range buf.Bytes() {
		distinct[b] = true
		// Exponent 3 or less: magnitude under about 1,000 of 32,767.
		require.LessOrEqual(t, (^b>>4)&7, byte(3), "noise too loud")
	}
	require.Greater(t, len(distinct), 8, "noise, not a constant")
}

// TestCheckedInMediaIsCurrent fails when testdata/ differs from what the
// generator writes: run `go generate ./internal/sipptest`.
func TestCheckedInMediaIsCurrent(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteMediaFiles(dir))
	for _, name := range MediaFiles() {
		want, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "%s is stale: run go generate ./internal/sipptest", name)
	}
}
