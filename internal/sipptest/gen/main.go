// Command gen regenerates the media files the SIPp scenarios in
// internal/sipptest/testdata use: comfort_noise.ulaw (1 s of soft noise as raw
// µ-law for rtp_stream) and dtmf_11hash.pcap (RFC 4733 digits 1, 1, # one
// second apart for play_pcap_audio).
//
// Usage: go generate ./internal/sipptest
package main

import (
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/hotline/hotline/internal/sipptest"
)

func main() {
	dir := flag.String("dir", "testdata", "output folder")
	flag.Parse()
	if err := sipptest.WriteMediaFiles(*dir); err != nil {
		slog.Error("gen failed", "err", err)
		os.Exit(1)
	}
	slog.Info("wrote scenario media", "dir", *dir,
		"files", sipptest.MediaFiles(),
		"digits", sipptest.IVRDigits, "gap", time.Second)
}
