//go:build !linux

package softphone

import (
	"net"
	"net/netip"
)

// Elsewhere than Linux every write takes the net.UDPConn's path.

func dupSocket(*net.UDPConn) int { return -1 }

func closeSocket(int) {}

func sendDirect(int, []byte, netip.AddrPort) (int, bool) { return 0, false }
