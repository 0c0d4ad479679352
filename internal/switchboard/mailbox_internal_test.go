package switchboard

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMailboxKeepsOrderAndBound(t *testing.T) {
	m := newMailbox[int](3)
	select {
	case <-m.ready():
		t.Fatal("an empty mailbox is ready")
	default:
	}
	require.True(t, m.put(1))
	require.True(t, m.put(2))
	require.True(t, m.put(3))
	require.False(t, m.put(4), "a full mailbox refuses")
	var got []int
	for range 3 {
		<-m.ready() // a token for every item taken
		v, ok := m.take()
		require.True(t, ok)
		got = append(got, v)
	}
	require.Equal(t, []int{1, 2, 3}, got)
	select {
	case <-m.ready():
		t.Fatal("ready after the last item was taken")
	default:
	}
	_, ok := m.take()
	require.False(t, ok)
	require.True(t, m.put(5), "room again once emptied")
}
