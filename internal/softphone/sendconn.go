package softphone

import (
	"net"
	"net/netip"
	"sync"
)

// sendConn is the softphone's UDP socket as the ICE mux sees it. Reads go
// through the Go network poller as usual; a write is one sendto system call on
// a duplicate of the socket's descriptor, with no lock between writers.
//
// Every agent's audio, DTLS, STUN and RTCP leaves through this one socket,
// from many goroutines, the node's media pacer among them. net.UDPConn
// serializes its writers with a mutex, and a writer that finds it held parks:
// it gives up its thread and must then wait to be scheduled again. On a busy
// machine the pacer's frames to the agents came out tens of milliseconds late
// that way. The kernel needs no such lock for UDP, so none is taken here.
//
// Where the direct send is not available (not Linux, or an IPv6 peer on this
// platform's fast path) or the socket's buffer is full, the write falls back
// to the net.UDPConn, which waits for room as before.
type sendConn struct {
	*net.UDPConn // reads, addresses, deadlines; the fallback writes

	mu     sync.RWMutex // read-held by direct sends; Close takes it so that no send uses a closed descriptor
	fd     int          // the duplicate descriptor; -1 without the fast path
	closed bool
}

// newSendConn wraps conn; it never fails: without a duplicate descriptor
// every write takes the net.UDPConn's path.
func newSendConn(conn *net.UDPConn) *sendConn {
	return &sendConn{UDPConn: conn, fd: dupSocket(conn)}
}

// ReadFromAddrPort reads one datagram (ice.AddrPortReaderWriter).
func (c *sendConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.UDPConn.ReadFromUDPAddrPort(b)
}

// WriteToAddrPort sends one datagram to addr (ice.AddrPortReaderWriter).
func (c *sendConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	c.mu.RLock()
	if !c.closed && c.fd >= 0 {
		if n, ok := sendDirect(c.fd, b, addr); ok {
			c.mu.RUnlock()
			return n, nil
		}
	}
	c.mu.RUnlock()
	return c.UDPConn.WriteToUDPAddrPort(b, addr)
}

// WriteTo sends one datagram to addr (net.PacketConn).
func (c *sendConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); ok {
		if ap := ua.AddrPort(); ap.IsValid() {
			return c.WriteToAddrPort(b, ap)
		}
	}
	return c.UDPConn.WriteTo(b, addr)
}

// Close closes the duplicate descriptor and the socket; it is idempotent.
func (c *sendConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		closeSocket(c.fd)
	}
	c.mu.Unlock()
	return c.UDPConn.Close()
}
