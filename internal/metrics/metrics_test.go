package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// The metric names are part of hotline's interface (dashboards and alerts
// use them): each one the issue names must be exposed with its labels.
func TestNamesAndLabels(t *testing.T) {
	m := New()
	m.SIP.Request("INVITE")
	m.SIP.Request("FROBNICATE")
	m.SIP.Response(200)
	m.SIP.Dropped("malformed")
	m.RTP.PacketReceived()
	m.RTP.PacketSent()
	m.RTP.PacketDropped("malformed")
	m.RTP.SendInterval(21 * time.Millisecond)
	m.Calls.CallStarted()
	m.Calls.Digit("rfc4733")
	m.Calls.IVROutcome("demo", "queue")
	m.Calls.CallEnded("queued")
	m.Store.SetPending(3)

	want := `
# HELP hotline_sip_requests_total SIP requests received, by method.
# TYPE hotline_sip_requests_total counter
hotline_sip_requests_total{method="INVITE"} 1
hotline_sip_requests_total{method="other"} 1
`
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "hotline_sip_requests_total"),
		"unknown methods are folded into one label value")

	families, err := m.Registry.Gather()
	require.NoError(t, err)
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, name := range []string{
		"hotline_sip_requests_total", "hotline_sip_responses_total", "hotline_calls_active",
		"hotline_calls_total", "hotline_dtmf_digits_total", "hotline_ivr_outcomes_total",
		"hotline_rtp_packets_total", "hotline_sip_dropped_total", "hotline_rtp_send_interval_deviation_seconds",
		"hotline_rtp_dropped_total", "hotline_store_pending",
	} {
		require.True(t, got[name], "missing metric %s", name)
	}
	require.Equal(t, 0.0, testutil.ToFloat64(m.Calls.active), "a call that ended is no longer active")
}

// Two nodes in one process (as in tests) must not share metrics.
func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New(), New()
	a.Calls.CallStarted()
	require.Equal(t, 1.0, testutil.ToFloat64(a.Calls.active))
	require.Equal(t, 0.0, testutil.ToFloat64(b.Calls.active))
}
