package sip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	require.NoError(t, c.Validate())
	require.Equal(t, 32*time.Second, c.AckTimeout)
	require.Equal(t, 20, c.MaxUnconfirmedPerSource)
	require.Equal(t, 30*time.Second, c.TCPIdleTimeout)
	require.Equal(t, 10*time.Second, c.TCPMessageTimeout)
	require.Equal(t, 50, c.MaxTCPConnsPerSource)
	require.Equal(t, 1000, c.MaxTCPConns)
}

func TestValidateLimits(t *testing.T) {
	c := DefaultConfig()
	c.MaxUnconfirmedPerSource = 0
	c.TCPIdleTimeout = 0
	c.TCPMessageTimeout = -time.Second
	c.MaxTCPConns = 10
	c.MaxTCPConnsPerSource = 11
	msg := c.Validate().Error()
	require.Contains(t, msg, "sip.max_unconfirmed_per_source: must be positive, got 0")
	require.Contains(t, msg, "sip.tcp_idle_timeout: must be positive")
	require.Contains(t, msg, "sip.tcp_message_timeout: must be positive")
	require.Contains(t, msg, "sip.max_tcp_connections: must be at least max_tcp_connections_per_source (11), got 10")
	c = DefaultConfig()
	c.MaxTCPConns, c.MaxTCPConnsPerSource = 0, 0
	msg = c.Validate().Error()
	require.Contains(t, msg, "sip.max_tcp_connections: must be positive")
	require.Contains(t, msg, "sip.max_tcp_connections_per_source: must be positive")
}

func TestValidateNamesTheField(t *testing.T) {
	c := DefaultConfig()
	c.Addr = "localhost"
	c.MaxCalls = 0
	c.Trunks = []TrunkConfig{
		{Name: "a"},
		{Name: "b", Allow: []string{"10.0.0.0/8", "10.0.0/8"}, InbandDTMF: "maybe"},
		{Name: "a"},
	}
	err := c.Validate()
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, `sip.addr: "localhost" is not an ip:port address`)
	require.Contains(t, msg, "sip.max_calls: must be positive")
	require.Contains(t, msg, `sip.trunks[1].allow: "10.0.0/8" is not a CIDR`)
	require.Contains(t, msg, `sip.trunks[1].inband_dtmf: "maybe" is not one of auto, on, off`)
	require.Contains(t, msg, `sip.trunks[2].name: "a" is already used by trunks[0]`)
}

func TestTrunkMatchFirstWins(t *testing.T) {
	tt, err := newTrunkTable([]TrunkConfig{
		{Name: "carrier", Allow: []string{"192.0.2.0/24", "2001:db8::/32"}},
		{Name: "lan", Allow: []string{"10.0.0.0/8"}},
		{Name: "any"},
	})
	require.NoError(t, err)
	for ip, want := range map[string]string{
		"192.0.2.9": "carrier", "::ffff:192.0.2.9": "carrier", "2001:db8::1": "carrier",
		"10.1.2.3": "lan", "8.8.8.8": "any",
	} {
		got, ok := tt.match(netip.MustParseAddr(ip))
		require.True(t, ok)
		require.Equal(t, want, got.Name, ip)
		require.Equal(t, InbandAuto, got.InbandDTMF)
	}
	tt, err = newTrunkTable([]TrunkConfig{{Name: "lan", Allow: []string{"10.0.0.0/8"}}})
	require.NoError(t, err)
	_, ok := tt.match(netip.MustParseAddr("127.0.0.1"))
	require.False(t, ok)
}

func TestRateLimiter(t *testing.T) {
	r := newRateLimiter(2, 3) // 2/s, burst 3
	ip, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	now := time.Unix(1000, 0)
	for range 3 {
		require.True(t, r.allow(ip, now))
	}
	require.False(t, r.allow(ip, now), "burst spent")
	require.True(t, r.allow(other, now), "buckets are per source")
	require.True(t, r.allow(ip, now.Add(500*time.Millisecond)), "one token back after 1/rate")
	require.False(t, r.allow(ip, now.Add(500*time.Millisecond)))
	r.allow(other, now.Add(time.Hour)) // sweeps idle, full buckets
	require.Len(t, r.buckets, 1)
}
