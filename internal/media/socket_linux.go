//go:build linux && (amd64 || arm64)

package media

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"
)

// rawSockets: this platform has the pacer-polled raw socket.
const rawSockets = true

// pollBatch is how many datagrams one recvmmsg takes from a socket.
const pollBatch = 8

// rawSocket is a non-blocking IPv4 UDP socket kept out of the Go runtime's
// network poller: no goroutine sleeps on it and no packet wakes a thread; a
// Pacer drains it once per tick with one recvmmsg.
type rawSocket struct {
	mu     sync.Mutex // excludes close from reads and writes: a closed fd number is soon reused
	fd     int
	closed bool
	to     syscall.SockaddrInet4 // the destination of the current send
}

// openRawSocket binds a non-blocking IPv4 UDP socket to ip:port (port 0:
// any free one) and returns it with its bound address.
func openRawSocket(ip netip.Addr, port int) (*rawSocket, netip.AddrPort, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("media: socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: ip.As4()}); err != nil {
		syscall.Close(fd)
		return nil, netip.AddrPort{}, fmt.Errorf("media: bind %s:%d: %w", ip, port, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, netip.AddrPort{}, fmt.Errorf("media: getsockname: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		syscall.Close(fd)
		return nil, netip.AddrPort{}, errors.New("media: socket is not IPv4")
	}
	return &rawSocket{fd: fd}, netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port)), nil
}

func (s *rawSocket) writeTo(b []byte, addr netip.AddrPort) error {
	a := addr.Addr().Unmap()
	if !a.Is4() {
		return fmt.Errorf("media: cannot send to %s from an IPv4 socket", addr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.to.Addr, s.to.Port = a.As4(), int(addr.Port())
	for {
		err := syscall.Sendto(s.fd, b, 0, &s.to)
		if err != syscall.EINTR {
			return err
		}
	}
}

func (s *rawSocket) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		syscall.Close(s.fd)
	}
}

// mmsghdr is struct mmsghdr of <sys/socket.h> on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// pollBuffers are one poll loop's reused recvmmsg buffers.
type pollBuffers struct {
	msgs  [pollBatch]mmsghdr
	iovs  [pollBatch]syscall.Iovec
	names [pollBatch]syscall.RawSockaddrInet4
	data  [pollBatch][maxDatagram]byte
}

// newPollBuffers wires the headers to their buffers once.
func newPollBuffers() *pollBuffers {
	b := &pollBuffers{}
	for i := range b.msgs {
		b.iovs[i].Base = &b.data[i][0]
		b.iovs[i].SetLen(maxDatagram)
		b.msgs[i].hdr.Iov = &b.iovs[i]
		b.msgs[i].hdr.Iovlen = 1
		b.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
	}
	return b
}

// readBatch takes up to pollBatch queued datagrams without blocking; it
// returns how many, 0 when none is queued or the socket is closed.
func (s *rawSocket) readBatch(b *pollBuffers) (int, error) {
	for i := range b.msgs {
		b.msgs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
		b.msgs[i].hdr.Flags = 0
		b.msgs[i].n = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil
	}
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, uintptr(s.fd),
			uintptr(unsafe.Pointer(&b.msgs[0])), pollBatch, syscall.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return 0, errno
	}
}

// datagram returns the i-th datagram of the last readBatch and its source.
func (b *pollBuffers) datagram(i int) ([]byte, netip.AddrPort) {
	name := &b.names[i]
	port := uint16(name.Port>>8) | uint16(name.Port<<8) // network byte order
	return b.data[i][:b.msgs[i].n], netip.AddrPortFrom(netip.AddrFrom4(name.Addr), port)
}
