//go:build !(linux && (amd64 || arm64))

package media

import (
	"errors"
	"net/netip"
)

// rawSockets: this platform has no pacer-polled raw socket; every endpoint
// reads its net.UDPConn in a goroutine of its own.
const rawSockets = false

// pollBatch is unused here.
const pollBatch = 1

// rawSocket is not available here.
type rawSocket struct{}

// pollBuffers is not available here.
type pollBuffers struct{}

func openRawSocket(netip.Addr, int) (*rawSocket, netip.AddrPort, error) {
	return nil, netip.AddrPort{}, errors.New("media: raw sockets are not supported on this platform")
}

func newPollBuffers() *pollBuffers                        { return &pollBuffers{} }
func (s *rawSocket) writeTo([]byte, netip.AddrPort) error { return ErrClosed }
func (s *rawSocket) close()                               {}
func (s *rawSocket) readBatch(*pollBuffers) (int, error)  { return 0, nil }
func (b *pollBuffers) datagram(int) ([]byte, netip.AddrPort) {
	return nil, netip.AddrPort{}
}
