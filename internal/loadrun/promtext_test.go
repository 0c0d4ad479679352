package main

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// deviationText is a scrape of the hotline's send-interval histogram with
// 1,000 observations: 900 ≤ 0.5 ms, 980 ≤ 1 ms, 995 ≤ 2 ms, all ≤ 5 ms.
const deviationText = `# HELP hotline_rtp_send_interval_deviation_seconds Absolute deviation of the gap between two paced RTP sends from 20 ms.
# TYPE hotline_rtp_send_interval_deviation_seconds histogram
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.0001"} 100
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.00025"} 500
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.0005"} 900
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.001"} 980
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.002"} 995
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.003"} 998
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.005"} 1000
hotline_rtp_send_interval_deviation_seconds_bucket{le="0.01"} 1000
hotline_rtp_send_interval_deviation_seconds_bucket{le="+Inf"} 1000
hotline_rtp_send_interval_deviation_seconds_sum 0.4
hotline_rtp_send_interval_deviation_seconds_count 1000
# HELP hotline_calls_total Ended calls, by outcome.
# TYPE hotline_calls_total counter
hotline_calls_total{outcome="queued"} 998
hotline_calls_total{outcome="hangup_in_ivr"} 2
hotline_calls_active 0
`

func TestParseMetricsReadsLabelsAndValues(t *testing.T) {
	ms, err := parseMetrics(strings.NewReader(deviationText))
	require.NoError(t, err)
	require.Len(t, ms, 14)
	require.Equal(t, map[string]float64{"queued": 998, "hangup_in_ivr": 2}, byLabel(ms, "hotline_calls_total", "outcome"))
	v, ok := metricValue(ms, "hotline_calls_active", nil)
	require.True(t, ok)
	require.Zero(t, v)
	_, ok = metricValue(ms, "hotline_calls_total", map[string]string{"outcome": "voicemail"})
	require.False(t, ok)
}

func TestParseMetricsEscapesAndTimestamps(t *testing.T) {
	ms, err := parseMetrics(strings.NewReader(
		"m{a=\"x\\\"y\\\\z\\n\", b = \"q,}\" ,} 1.5e3 1700000000000\nn NaN\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "x\"y\\z\n", "b": "q,}"}, ms[0].Labels)
	require.Equal(t, 1500.0, ms[0].Value)
	require.True(t, math.IsNaN(ms[1].Value))
}

func TestParseMetricsRejectsGarbageWithLineNumber(t *testing.T) {
	for _, text := range []string{
		"# ok\nm{a=\"1\"\n",
		"# ok\nm 1 2 3\n",
		"# ok\nm{a=1} 2\n",
		"# ok\n9m 1\n",
		"# ok\nm{a=\"\\q\"} 1\n",
		"# ok\nm abc\n",
	} {
		_, err := parseMetrics(strings.NewReader(text))
		require.ErrorContains(t, err, "line 2", text)
	}
}

func TestHistogramQuantileInterpolatesInsideTheBucket(t *testing.T) {
	ms, err := parseMetrics(strings.NewReader(deviationText))
	require.NoError(t, err)
	name := "hotline_rtp_send_interval_deviation_seconds"

	// Rank 990 lies in (1 ms, 2 ms] holding 980..995: 1 ms + 1 ms × 10/15.
	p99, inInf, err := histogramQuantile(ms, name, 0.99)
	require.NoError(t, err)
	require.False(t, inInf)
	require.InDelta(t, 0.001+0.001*10.0/15.0, p99, 1e-12)

	// Rank 50 lies in the first bucket, which starts at 0.
	p5, _, err := histogramQuantile(ms, name, 0.05)
	require.NoError(t, err)
	require.InDelta(t, 0.00005, p5, 1e-12)
}

func TestHistogramQuantileInTheInfBucketReportsTheTopBound(t *testing.T) {
	text := `h_bucket{le="0.001"} 10
h_bucket{le="0.05"} 90
h_bucket{le="+Inf"} 100
`
	ms, err := parseMetrics(strings.NewReader(text))
	require.NoError(t, err)
	v, inInf, err := histogramQuantile(ms, "h", 0.99)
	require.NoError(t, err)
	require.True(t, inInf)
	require.Equal(t, 0.05, v)
}

func TestHistogramQuantileErrors(t *testing.T) {
	cases := map[string]string{
		"no histogram h":              "other 1\n",
		"no observations":             "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n",
		"no +Inf bucket":              "h_bucket{le=\"1\"} 5\n",
		"not cumulative":              "h_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 3\n",
		"bad le":                      "h_bucket{le=\"x\"} 5\n",
		"h_bucket without le":         "h_bucket 5\n",
		`h_bucket{le="1"}: bad count`: "h_bucket{le=\"1\"} -1\nh_bucket{le=\"+Inf\"} 3\n",
	}
	for want, text := range cases {
		ms, err := parseMetrics(strings.NewReader(text))
		require.NoError(t, err, text)
		_, _, err = histogramQuantile(ms, "h", 0.99)
		require.ErrorContains(t, err, want)
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add(deviationText)
	f.Add("m{a=\"x\\\"y\"} 1 2\n")
	f.Add("h_bucket{le=\"0.5\"} 3\nh_bucket{le=\"+Inf\"} 4\n")
	f.Fuzz(func(t *testing.T, text string) {
		ms, err := parseMetrics(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, m := range ms {
			require.True(t, validMetricName(m.Name), m.Name)
		}
		v, _, err := histogramQuantile(ms, "h", 0.99)
		if err == nil {
			require.False(t, math.IsNaN(v))
		}
	})
}
