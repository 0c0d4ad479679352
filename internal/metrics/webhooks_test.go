package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/hotline/hotline/internal/webhooks"
)

var _ webhooks.Metrics = (*Webhooks)(nil)

func TestWebhooks(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := NewWebhooks(reg)
	w.Endpoint("zammad")
	w.WebhookAttempt("crm", false, 300*time.Millisecond)
	w.WebhookAttempt("crm", true, 20*time.Millisecond)
	w.WebhookDropped("crm", webhooks.ResultDead)
	w.WebhookDropped("crm", webhooks.ResultSkipped)
	w.WebhookDropped("crm", webhooks.ResultSkipped)
	w.WebhookOldestPending("crm", 90*time.Second)

	want := `
# HELP hotline_webhook_deliveries_total Webhook outcomes by endpoint: delivered and failed POST attempts, messages given up on (dead) and messages not sent because the endpoint does not take their topic (skipped).
# TYPE hotline_webhook_deliveries_total counter
hotline_webhook_deliveries_total{endpoint="crm",result="dead"} 1
hotline_webhook_deliveries_total{endpoint="crm",result="delivered"} 1
hotline_webhook_deliveries_total{endpoint="crm",result="failed"} 1
hotline_webhook_deliveries_total{endpoint="crm",result="skipped"} 2
hotline_webhook_deliveries_total{endpoint="zammad",result="dead"} 0
hotline_webhook_deliveries_total{endpoint="zammad",result="delivered"} 0
hotline_webhook_deliveries_total{endpoint="zammad",result="failed"} 0
hotline_webhook_deliveries_total{endpoint="zammad",result="skipped"} 0
# HELP hotline_webhook_oldest_pending_seconds Age of the oldest outbox message an endpoint has not received yet; 0 when it is caught up.
# TYPE hotline_webhook_oldest_pending_seconds gauge
hotline_webhook_oldest_pending_seconds{endpoint="crm"} 90
hotline_webhook_oldest_pending_seconds{endpoint="zammad"} 0
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"hotline_webhook_deliveries_total", "hotline_webhook_oldest_pending_seconds"))
	require.Equal(t, 2, testutil.CollectAndCount(w.seconds), "a histogram per endpoint, Endpoint creates one")
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "hotline_webhook_delivery_seconds" {
			require.Equal(t, "crm", f.GetMetric()[0].GetLabel()[0].GetValue())
			require.Equal(t, uint64(2), f.GetMetric()[0].GetHistogram().GetSampleCount())
			require.InDelta(t, 0.32, f.GetMetric()[0].GetHistogram().GetSampleSum(), 1e-9)
		}
	}
}
