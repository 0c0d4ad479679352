package media

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPortsSkipQuarantine(t *testing.T) {
	lo, hi := freeRange(t)
	ports, err := NewPorts(PortsConfig{IP: loopback, Lo: lo, Hi: hi, Quarantine: time.Hour})
	require.NoError(t, err)

	a, err := ports.Open(EndpointConfig{})
	require.NoError(t, err)
	b, err := ports.Open(EndpointConfig{})
	require.NoError(t, err)
	require.Equal(t, 2, ports.InUse())
	_, err = ports.Open(EndpointConfig{})
	require.ErrorIs(t, err, ErrNoPorts)

	ports.SkipQuarantine(a) // a never got its ACK
	require.NoError(t, a.Close())
	require.Equal(t, 1, ports.InUse(), "an unconfirmed port is free at once")
	c, err := ports.Open(EndpointConfig{})
	require.NoError(t, err, "the unconfirmed call's port is reusable at once")
	require.Equal(t, a.LocalAddr().Port(), c.LocalAddr().Port())

	require.NoError(t, b.Close()) // a confirmed call: quarantined as before
	require.Equal(t, 2, ports.InUse())
	require.NoError(t, c.Close())
	ports.SkipQuarantine(c) // after Close: no effect, no panic
	require.Equal(t, 2, ports.InUse(), "c is quarantined: SkipQuarantine after Close changes nothing")
}

func TestPortsReportFileLimitNotNoPort(t *testing.T) {
	ports, err := NewPorts(PortsConfig{IP: loopback, Lo: 40000, Hi: 40010})
	require.NoError(t, err)
	tried := 0
	err = ports.bind(func(int) error {
		tried++
		return &os.SyscallError{Syscall: "socket", Err: syscall.EMFILE}
	})
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNoPorts), "the file limit is not a port shortage: %v", err)
	require.ErrorIs(t, err, syscall.EMFILE)
	require.Contains(t, err.Error(), "too many open files")
	require.Equal(t, 1, tried, "no use trying every other port")

	err = ports.bind(func(int) error { return &os.SyscallError{Syscall: "bind", Err: syscall.EADDRINUSE} })
	require.ErrorIs(t, err, ErrNoPorts, "ports taken by other processes are skipped")
}
