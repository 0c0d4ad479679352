package softphone

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/media"
)

// countSink counts frames.
type countSink struct{ n int }

func (c *countSink) WriteFrame(pcm []int16) error { c.n += len(pcm); return nil }

// BenchmarkReceivePath: one browser RTP packet from the wire bytes to a
// decoded frame in the leg's sink.
func BenchmarkReceivePath(b *testing.B) {
	leg, err := newLeg("anna")
	if err != nil {
		b.Fatal(err)
	}
	sink := &countSink{}
	leg.SetSink(sink)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(media.PCMU), SSRC: 1}, Payload: make([]byte, 160)}
	wire, err := pkt.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	d := newMicDecoder(leg)
	b.ReportAllocs()
	for b.Loop() {
		d.packet(wire)
	}
	if sink.n == 0 {
		b.Fatal("nothing delivered")
	}
}

// TestMicDecoderRecutsFrames: 30 ms packets (240 samples) still reach the
// sink as 160-sample frames, and comfort noise is skipped.
func TestMicDecoderRecutsFrames(t *testing.T) {
	leg, err := newLeg("anna")
	require.NoError(t, err)
	var sizes []int
	leg.SetSink(media.FrameWriterFunc(func(pcm []int16) error { sizes = append(sizes, len(pcm)); return nil }))
	d := newMicDecoder(leg)
	for i, pt := range []uint8{0, 13, 0} {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(i)}, Payload: make([]byte, 240)}
		wire, err := pkt.Marshal()
		require.NoError(t, err)
		d.packet(wire)
	}
	require.Equal(t, []int{160, 160, 160}, sizes, "480 samples of PCMU in 160-sample frames, CN skipped")
}
