package media

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDTMFEventGolden(t *testing.T) {
	cases := []struct {
		ev    DTMFEvent
		bytes []byte
	}{
		{DTMFEvent{Event: 5, End: true, Volume: 10, Duration: 800}, []byte{0x05, 0x8A, 0x03, 0x20}},
		{DTMFEvent{Event: 1, Volume: 10, Duration: 0}, []byte{0x01, 0x0A, 0x00, 0x00}},
		{DTMFEvent{Event: 11, Volume: 63, Duration: 0xFFFF}, []byte{0x0B, 0x3F, 0xFF, 0xFF}},
	}
	for _, c := range cases {
		require.Equal(t, c.bytes, c.ev.Marshal())
		got, err := ParseDTMFEvent(c.bytes)
		require.NoError(t, err)
		require.Equal(t, c.ev, got)
	}
}

func TestParseDTMFEventIgnoresReservedBitAndRedundancy(t *testing.T) {
	got, err := ParseDTMFEvent([]byte{0x0A, 0xC7, 0x01, 0x40, 0x09, 0x00, 0x00, 0xA0})
	require.NoError(t, err)
	require.Equal(t, DTMFEvent{Event: 10, End: true, Volume: 7, Duration: 320}, got)
}

func TestParseDTMFEventShort(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {1, 2, 3}} {
		_, err := ParseDTMFEvent(b)
		require.ErrorContains(t, err, "shorter than 4 bytes")
	}
}

func TestEventKeys(t *testing.T) {
	for i := range 16 {
		key, ok := EventKey(uint8(i))
		require.True(t, ok)
		ev, ok := KeyEvent(key)
		require.True(t, ok)
		require.Equal(t, uint8(i), ev)
	}
	_, ok := EventKey(16) // flash
	require.False(t, ok)
	_, ok = KeyEvent('x')
	require.False(t, ok)
	ev, ok := KeyEvent('d')
	require.True(t, ok)
	require.Equal(t, uint8(15), ev)
}

func FuzzParseDTMFEvent(f *testing.F) {
	f.Add([]byte{0x05, 0x8A, 0x03, 0x20})
	f.Add([]byte{0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseDTMFEvent(b)
		if err != nil {
			require.Less(t, len(b), 4)
			return
		}
		out := ev.Marshal()
		require.Len(t, out, 4)
		require.Equal(t, b[0], out[0])
		require.Equal(t, b[1]&^0x40, out[1]) // the R bit is not kept
		require.Equal(t, b[2:4], out[2:4])
		again, err := ParseDTMFEvent(out)
		require.NoError(t, err)
		require.Equal(t, ev, again)
	})
}
