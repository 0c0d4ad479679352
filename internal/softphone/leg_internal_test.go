package softphone

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRTPClock: steady frames advance by their length; a pause (between
// calls, a reload, hold switched on) moves the timestamp by the wall clock
// with the marker set; sequence numbers never jump.
func TestRTPClock(t *testing.T) {
	c := rtpClock{seq: 65534, ts: 4294967000}
	t0 := time.Unix(1000, 0)
	type pkt struct {
		seq    uint16
		ts     uint32
		marker bool
	}
	var got []pkt
	write := func(at time.Duration, n int) {
		seq, ts, m := c.next(t0.Add(at), n)
		got = append(got, pkt{seq, ts, m})
	}
	write(0, 160)
	write(20*time.Millisecond, 160)
	write(45*time.Millisecond, 160)   // a late tick is not a pause
	write(60*time.Millisecond, 160)   // nor an early one
	write(1060*time.Millisecond, 160) // 1 s of silence
	write(1080*time.Millisecond, 160)
	require.Equal(t, []pkt{
		{65535, 4294967000, true},
		{0, 4294967160, false},
		{1, 24, false}, // wraps
		{2, 184, false},
		{3, 184 + 8000, true},
		{4, 184 + 8160, false},
	}, got)
}

// DropSink drops only the sink it names: one set since stays.
func TestLegDropSink(t *testing.T) {
	l, err := newLeg("anna")
	require.NoError(t, err)
	var a, b countSink
	l.SetSink(&a)
	require.False(t, l.DropSink(&b), "not the leg's sink")
	l.deliver(make([]int16, frameSamples))
	require.Equal(t, frameSamples, a.n, "a frame reached the sink")
	l.SetSink(&b)
	require.False(t, l.DropSink(&a), "replaced since")
	require.True(t, l.DropSink(&b))
	l.deliver(make([]int16, frameSamples))
	require.Equal(t, 0, b.n, "dropped")
}
