package softphone

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	return c
}

// The ICE mux's writes leave from the softphone's port, whole and from many
// goroutines at once; after Close a write fails clearly.
func TestSendConnDeliversFromItsPort(t *testing.T) {
	conn := listenLoopback(t)
	sc := newSendConn(conn)
	peer := listenLoopback(t)
	defer peer.Close()
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	from := conn.LocalAddr().(*net.UDPAddr).AddrPort()

	const writers, each = 8, 50
	// Read while they write: the receiving socket's buffer holds fewer.
	seen := map[string]bool{}
	received := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		if err := peer.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			received <- err
			return
		}
		for len(seen) < writers*each {
			n, src, err := peer.ReadFromUDPAddrPort(buf)
			if err != nil {
				received <- fmt.Errorf("received %d of %d datagrams: %w", len(seen), writers*each, err)
				return
			}
			if src != from {
				received <- fmt.Errorf("datagram from %s, want %s", src, from)
				return
			}
			seen[string(buf[:n])] = true
		}
		received <- nil
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				msg := []byte(fmt.Sprintf("w%d-%d", w, i))
				var n int
				var err error
				if i%2 == 0 {
					n, err = sc.WriteToAddrPort(msg, to)
				} else {
					n, err = sc.WriteTo(msg, net.UDPAddrFromAddrPort(to))
				}
				if err != nil || n != len(msg) {
					t.Errorf("write %s: n=%d err=%v", msg, n, err)
				}
				if i%10 == 9 {
					time.Sleep(time.Millisecond) // stay within what loopback queues
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, <-received)

	require.NoError(t, sc.Close())
	_, err := sc.WriteToAddrPort([]byte("late"), to)
	require.True(t, errors.Is(err, net.ErrClosed), "write after close: %v", err)
	require.Error(t, sc.Close(), "the second Close reports the socket closed, like net.UDPConn")
}

// Reads still come through the wrapper, with the sender's address.
func TestSendConnReads(t *testing.T) {
	sc := newSendConn(listenLoopback(t))
	defer sc.Close()
	peer := listenLoopback(t)
	defer peer.Close()
	_, err := peer.WriteToUDPAddrPort([]byte("hello"), sc.LocalAddr().(*net.UDPAddr).AddrPort())
	require.NoError(t, err)
	require.NoError(t, sc.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 16)
	n, src, err := sc.ReadFromAddrPort(buf)
	require.NoError(t, err)
	require.Equal(t, "hello", string(buf[:n]))
	require.Equal(t, peer.LocalAddr().(*net.UDPAddr).AddrPort(), src)
}
