package softphone_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/softphone/agentclient"
)

// BenchmarkLegWriteFrame: one 20 ms frame to a connected browser (PCMU
// encode, RTP, SRTP, UDP on loopback).
func BenchmarkLegWriteFrame(b *testing.B) {
	r := newRig(b, softphone.Config{})
	c, _ := r.dial(b, "anna", agentclient.Options{})
	connect(b, c)
	leg, err := r.hub.Leg("anna")
	require.NoError(b, err)
	frame := make([]int16, 160)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := leg.WriteFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}
