package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The sip section's limits load from YAML, with defaults, and bad values are
// reported at their line.
func TestSIPLimits(t *testing.T) {
	cfg, err := load(t, minimal)
	require.NoError(t, err)
	require.Equal(t, 20, cfg.SIP.MaxUnconfirmedPerSource, "defaults")
	require.Equal(t, 1000, cfg.SIP.MaxTCPConns)
	cfg, err = load(t, minimal+`
sip:
  max_unconfirmed_per_source: 5
  tcp_idle_timeout: 1m
  tcp_message_timeout: 5s
  max_tcp_connections_per_source: 10
  max_tcp_connections: 100
`)
	require.NoError(t, err)
	require.Equal(t, 5, cfg.SIP.MaxUnconfirmedPerSource)
	require.Equal(t, time.Minute, cfg.SIP.TCPIdleTimeout)
	require.Equal(t, 5*time.Second, cfg.SIP.TCPMessageTimeout)
	require.Equal(t, 10, cfg.SIP.MaxTCPConnsPerSource)
	require.Equal(t, 100, cfg.SIP.MaxTCPConns)
	_, err = load(t, minimal+"\nsip:\n  max_tcp_connections: 10\n  max_unconfirmed_per_source: -1\n")
	require.Error(t, err)
	require.Contains(t, err.Error(), "hotline.yaml:7: sip.max_unconfirmed_per_source: must be positive")
	require.Contains(t, err.Error(), "hotline.yaml:6: sip.max_tcp_connections: must be at least max_tcp_connections_per_source (50), got 10")
}
