//go:build linux

package softphone

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// dupSocket returns a duplicate of conn's descriptor, or -1. The duplicate
// shares the socket and its non-blocking mode.
func dupSocket(conn *net.UDPConn) int {
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if err := raw.Control(func(s uintptr) {
		if d, err := dupCloexec(int(s)); err == nil {
			fd = d
		}
	}); err != nil {
		return -1
	}
	return fd
}

func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func closeSocket(fd int) {
	if fd >= 0 {
		_ = syscall.Close(fd)
	}
}

// sendDirect sends b to an IPv4 addr with one non-blocking sendto; ok is
// false when it could not (IPv6, a full buffer, an error), and the caller
// then takes the ordinary path, which reports the error or waits for room.
func sendDirect(fd int, b []byte, addr netip.AddrPort) (int, bool) {
	a := addr.Addr().Unmap()
	if !a.Is4() || len(b) == 0 {
		return 0, false
	}
	var sa syscall.RawSockaddrInet4
	sa.Family = syscall.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(addr.Port()>>8), byte(addr.Port())
	sa.Addr = a.As4()
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd),
			uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), syscall.MSG_DONTWAIT,
			uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet4)
		switch errno {
		case 0:
			return int(n), true
		case syscall.EINTR:
			continue
		}
		return 0, false
	}
}
