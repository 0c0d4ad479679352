package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The built-in demo answers /readyz 200 only once its accounts exist: the
// first 200 already finds the credentials file.
func TestDemoReadyMeansUsable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpAddr := l.Addr().String()
	require.NoError(t, l.Close())
	data := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--sip", "127.0.0.1:0", "--http", httpAddr,
			"--rtp-ports", "46000-46099"}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for polls := 0; ; polls++ {
		require.True(t, time.Now().Before(deadline), "the demo never became ready")
		res, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				_, err := os.Stat(filepath.Join(data, DemoCredentialsFile))
				require.NoError(t, err, "ready before the demo accounts exist (after %s polls)", strconv.Itoa(polls))
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}
