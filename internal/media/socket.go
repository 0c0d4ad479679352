package media

import (
	"errors"
	"net"
	"net/netip"
)

// packetSocket is an endpoint's UDP socket: a net.UDPConn read by the
// endpoint's own goroutine, or (on Linux, with a Pacer) a raw non-blocking
// socket that the pacer's poll loop drains every tick.
type packetSocket interface {
	// writeTo sends one datagram; it returns ErrClosed once closed.
	writeTo(b []byte, addr netip.AddrPort) error
	// close closes the socket; later calls do nothing.
	close()
}

// connSocket is a packetSocket over the Go runtime's network poller.
type connSocket struct{ conn *net.UDPConn }

func (s connSocket) writeTo(b []byte, addr netip.AddrPort) error {
	if _, err := s.conn.WriteToUDPAddrPort(b, addr); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return nil
}

func (s connSocket) close() { _ = s.conn.Close() }
