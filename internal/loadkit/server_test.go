package loadkit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeServe writes a shell script that prints a serve banner and waits for
// SIGTERM, standing in for the hotline binary.
func fakeServe(t *testing.T, body string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hotline")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"+body), 0o755))
	return bin
}

func TestBannerRE(t *testing.T) {
	m := bannerRE.FindStringSubmatch("hotline 1.0: SIP on 127.0.0.1:5060 (udp, tcp), HTTP on http://127.0.0.1:8080")
	require.Equal(t, []string{"127.0.0.1:5060", "127.0.0.1:8080"}, m[1:])
	require.Nil(t, bannerRE.FindStringSubmatch("SIP on nowhere"))
}

func TestStartServerExitAtStartShowsLog(t *testing.T) {
	dir := t.TempDir()
	bin := fakeServe(t, "echo broken config >&2\nexit 3\n")
	_, err := StartServer(context.Background(), ServerConfig{Bin: bin, Dir: dir,
		LogPath: filepath.Join(dir, "hotline.log"), StopTimeout: time.Second})
	require.ErrorContains(t, err, "hotline exited at start")
	require.ErrorContains(t, err, "broken config")
}

// TestMain lets this test binary stand in for `hotline serve`: with
// LOADKIT_FAKE_SERVE set it prints a banner, answers /readyz and exits on
// SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("LOADKIT_FAKE_SERVE") == "" {
		os.Exit(m.Run())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(2)
	}
	fmt.Printf("hotline test: SIP on 127.0.0.1:5999 (udp), HTTP on http://%s\n", ln.Addr())
	fmt.Fprintln(os.Stderr, "level=INFO msg=started")
	go func() { _ = http.Serve(ln, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	os.Exit(0)
}

func TestStartServerReadsBannerAndCloses(t *testing.T) {
	t.Setenv("LOADKIT_FAKE_SERVE", "1")
	dir := t.TempDir()
	s, err := StartServer(context.Background(), ServerConfig{Bin: os.Args[0], Dir: dir,
		LogPath: filepath.Join(dir, "hotline.log"), StopTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:5999", s.SIPAddr())
	require.NotEmpty(t, s.HTTPAddr())
	require.Positive(t, s.PID())
	require.NoError(t, s.Close())
	require.NoError(t, s.Close()) // idempotent
	require.Contains(t, s.LogTail(100), "msg=started")
	require.Equal(t, filepath.Join(dir, "hotline.log"), s.LogPath())
}
