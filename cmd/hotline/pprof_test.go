package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProfilerServesOnLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:6060", "localhost:6060", "6060"} {
		_, err := startProfiler(addr, log)
		require.Error(t, err, addr)
		require.Contains(t, err.Error(), "--pprof", "the error names the flag")
	}
	p, err := startProfiler("127.0.0.1:0", log)
	require.NoError(t, err)
	res, err := http.Get("http://" + p.ln.Addr().String() + "/debug/pprof/goroutine?debug=1")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, string(body), "goroutine profile")
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "Close is idempotent")
}
