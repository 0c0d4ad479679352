package agentclient

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

func TestStreamStatsChecksNumbering(t *testing.T) {
	var s StreamStats
	var last rtp.Header
	pkt := func(seq uint16, ts uint32, marker bool) {
		s.add(&last, &rtp.Header{SSRC: 7, SequenceNumber: seq, Timestamp: ts, Marker: marker}, 160)
	}
	pkt(65534, 1000, true)
	pkt(65535, 1160, false)
	pkt(0, 1320, false) // sequence wraps
	pkt(2, 1640, false) // one lost, timestamp consistent
	pkt(3, 9640, true)  // a new talkspurt after a pause
	require.Equal(t, StreamStats{Packets: 5, Lost: 1}, s)

	pkt(4, 9640+480, false) // timestamp jumped without a marker
	pkt(3, 9640+640, false) // sequence went back
	require.Equal(t, int64(2), s.Misnumbered)

	s.add(&last, &rtp.Header{SSRC: 8, SequenceNumber: 4, Timestamp: 9640 + 800}, 160)
	require.Equal(t, int64(1), s.SSRCChanges)
	require.Equal(t, int64(2), s.Misnumbered, "a new SSRC that carries the numbering on is consistent")
	s.add(&last, &rtp.Header{SSRC: 9, SequenceNumber: 100, Timestamp: 5}, 160)
	require.Equal(t, int64(3), s.Misnumbered, "…one that starts afresh is not")
	require.Equal(t, int64(9), s.Packets)
}
