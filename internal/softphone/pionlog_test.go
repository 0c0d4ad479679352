package softphone

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The warnings pion gives on every normal connect and close are debug
// lines; any other warning stays a warning.
func TestPionRoutineWarningsAreDebug(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := PionLoggerFactory(log).NewLogger("ice")
	l.Warn("Failed to ping without candidate pairs. Connection is not possible yet.")
	l.Warnf("Failed to accept RTP %v", "stream is already closed")
	l.Warnf("Failed to read from candidate udp4 host 127.0.0.1:5000: %s", "io: read/write on closed pipe")
	l.Warnf("Warning: mux: no endpoint for packet starting with %d, adding to queue size(%d)", 128, 0)
	require.Empty(t, buf.String())

	l.Warnf("Failed to handshake: %s", "dtls timeout")
	require.Equal(t, 1, strings.Count(buf.String(), "level=WARN"))
	require.Contains(t, buf.String(), "dtls timeout")
	require.Contains(t, buf.String(), "pion=ice")
}
