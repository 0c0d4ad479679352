package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuantileNearestRank(t *testing.T) {
	xs := make([]time.Duration, 100)
	for i := range xs {
		xs[i] = time.Duration(100-i) * time.Millisecond // unsorted on purpose
	}
	p50, ok := quantile(xs, 0.5)
	require.True(t, ok)
	require.Equal(t, 50*time.Millisecond, p50)
	p99, _ := quantile(xs, 0.99)
	require.Equal(t, 99*time.Millisecond, p99)
	p0, _ := quantile(xs, 0)
	require.Equal(t, time.Millisecond, p0)
	_, ok = quantile(nil, 0.99)
	require.False(t, ok, "no samples, no quantile")
}

func TestDeviationIsDistanceFromFrameTime(t *testing.T) {
	require.Equal(t, time.Millisecond, deviation(21*time.Millisecond))
	require.Equal(t, time.Millisecond, deviation(19*time.Millisecond))
	require.Equal(t, 20*time.Millisecond, deviation(0))
}

func TestToneShareFindsTheAgentsTone(t *testing.T) {
	tone := make([]byte, 160)
	noise := make([]byte, 160)
	seed := uint32(1)
	for i := range tone {
		tone[i] = linearToUlaw(int16(0.3 * 32767 * math.Sin(2*math.Pi*1000*float64(i)/8000)))
		seed = seed*1664525 + 1013904223
		noise[i] = linearToUlaw(int16(seed>>16) / 4)
	}
	share, rms := toneShare(tone, 1000)
	require.Greater(t, share, 0.95, "a pure 1 kHz frame is nearly all tone")
	require.InDelta(t, 0.3/math.Sqrt2, rms, 0.02)
	share, _ = toneShare(tone, 400)
	require.Less(t, share, 0.1, "the same frame holds no 400 Hz")
	share, _ = toneShare(noise, 1000)
	require.Less(t, share, 0.5, "noise is not the tone")
	share, rms = toneShare(nil, 1000)
	require.Zero(t, share)
	require.Zero(t, rms)
}

// linearToUlaw encodes one sample to µ-law (G.711), for building test frames.
func linearToUlaw(x int16) byte {
	const bias, clip = 0x84, 32635
	v := int32(x)
	sign := byte(0)
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := byte(7)
	for mask := int32(0x4000); v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(v>>(exp+3)) & 0x0f
	return ^(sign | exp<<4 | mant)
}

func TestUlawRoundTrip(t *testing.T) {
	for _, x := range []int16{0, 100, -100, 1000, -1000, 30000, -30000} {
		got := ulawToLinear(linearToUlaw(x))
		require.InDelta(t, float64(x), float64(got), math.Abs(float64(x))/16+8, "sample %d", x)
	}
}

const answer200 = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n" +
	"From: \"SIPp load\" <sip:load17@127.0.0.1:5061>;tag=1SIPpTag0017\r\n" +
	"To: <sip:support@127.0.0.1:5060>;tag=abc\r\n" +
	"Call-ID: 17-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n" +
	"v=0\r\no=hotline 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 20042 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"

func TestParseAnswerTiesCallerToRTPPort(t *testing.T) {
	a, err := parseAnswer([]byte(answer200))
	require.NoError(t, err)
	require.Equal(t, sipAnswer{FromUser: "load17", Port: 20042}, a)

	byeOK := "SIP/2.0 200 OK\r\nFrom: <sip:load17@127.0.0.1>;tag=x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
	_, err = parseAnswer([]byte(byeOK))
	require.ErrorIs(t, err, errNotAnswer, "a 200 without SDP is not an answer")
	_, err = parseAnswer([]byte(strings.Replace(answer200, "200 OK", "180 Ringing", 1)))
	require.ErrorIs(t, err, errNotAnswer)
	_, err = parseAnswer([]byte(strings.Replace(answer200, "m=audio 20042", "m=audio 99999", 1)))
	require.ErrorContains(t, err, "bad m=audio port")
	_, err = parseAnswer([]byte(strings.Replace(answer200, "sip:load17@", "sip:", 1)))
	require.ErrorContains(t, err, "no user in From")
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(answer200))
	f.Add([]byte("SIP/2.0 200 OK\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseAnswer(b)
		if err == nil {
			require.NotEmpty(t, a.FromUser)
			require.True(t, a.Port >= 1 && a.Port <= 65535)
		}
	})
}

const metricsText = `# HELP hotline_rtp_send_interval_deviation_seconds Absolute deviation.
# TYPE hotline_rtp_send_interval_deviation_seconds histogram
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.001"} 90
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.002"} 98
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.005"} 100
hotline_rtp_send_interval_deviation_seconds_bucket{le="+Inf"} 100
hotline_rtp_send_interval_deviation_seconds_sum 0.05
hotline_rtp_send_interval_deviation_seconds_count 100
# HELP hotline_rtp_packets_total RTP packets.
# TYPE hotline_rtp_packets_total counter
hotline_rtp_packets_total{direction="in"} 7
hotline_rtp_packets_total{direction="out"} 12
`

func TestHistogramQuantileLikePrometheus(t *testing.T) {
	h, err := parseHistogram(strings.NewReader(metricsText), metricDeviation)
	require.NoError(t, err)
	require.Equal(t, 100.0, h.Total())
	p99, inInf, ok := h.Quantile(0.99)
	require.True(t, ok)
	require.False(t, inInf)
	require.InDelta(t, 0.0035, p99, 1e-9, "rank 99 lies halfway through the 2–5 ms bucket")
	p50, _, _ := h.Quantile(0.5)
	require.InDelta(t, 0.001*50/90, p50, 1e-9)

	tail := histogram{Bounds: []float64{0.001, math.Inf(1)}, Counts: []float64{10, 100}}
	v, inInf, ok := tail.Quantile(0.99)
	require.True(t, ok)
	require.True(t, inInf, "a p99 past the last bound says so")
	require.Equal(t, 0.001, v)

	_, _, ok = histogram{}.Quantile(0.99)
	require.False(t, ok)
	_, err = parseHistogram(strings.NewReader(metricsText), "nope")
	require.ErrorContains(t, err, "no histogram nope")
}

func TestCounterSumByLabel(t *testing.T) {
	out, err := counterSum([]byte(metricsText), "hotline_rtp_packets_total", "direction", "out")
	require.NoError(t, err)
	require.Equal(t, 12.0, out)
	all, err := counterSum([]byte(metricsText), "hotline_rtp_packets_total", "", "")
	require.NoError(t, err)
	require.Equal(t, 19.0, all)
}
