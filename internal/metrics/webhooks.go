package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Webhooks counts the webhook dispatcher's deliveries, per endpoint name
// (a handful, from the configuration). It satisfies webhooks.Metrics.
// Set does not build it; cmd wires it with NewWebhooks(set.Registry).
type Webhooks struct {
	deliveries *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
	oldest     *prometheus.GaugeVec
}

// Results of hotline_webhook_deliveries_total.
var webhookResults = []string{"delivered", "failed", "dead", "skipped"}

// NewWebhooks registers the webhook metrics on reg.
func NewWebhooks(reg prometheus.Registerer) *Webhooks {
	w := &Webhooks{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_webhook_deliveries_total",
			Help: "Webhook outcomes by endpoint: delivered and failed POST attempts, messages given up on (dead) " +
				"and messages not sent because the endpoint does not take their topic (skipped).",
		}, []string{"endpoint", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotline_webhook_delivery_seconds",
			Help:    "Time of one webhook POST attempt, successful or not.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_webhook_oldest_pending_seconds",
			Help: "Age of the oldest outbox message an endpoint has not received yet; 0 when it is caught up.",
		}, []string{"endpoint"}),
	}
	reg.MustRegister(w.deliveries, w.seconds, w.oldest)
	return w
}

// Endpoint creates an endpoint's series at zero, so rates and alerts see
// it before its first delivery.
func (w *Webhooks) Endpoint(name string) {
	for _, r := range webhookResults {
		w.deliveries.WithLabelValues(name, r)
	}
	w.oldest.WithLabelValues(name)
	w.seconds.WithLabelValues(name)
}

// WebhookAttempt observes one POST attempt.
func (w *Webhooks) WebhookAttempt(endpoint string, ok bool, d time.Duration) {
	result := "failed"
	if ok {
		result = "delivered"
	}
	w.deliveries.WithLabelValues(endpoint, result).Inc()
	w.seconds.WithLabelValues(endpoint).Observe(d.Seconds())
}

// WebhookDropped counts a message marked delivered without a POST that
// succeeded: result "dead" or "skipped".
func (w *Webhooks) WebhookDropped(endpoint, result string) {
	w.deliveries.WithLabelValues(endpoint, result).Inc()
}

// WebhookOldestPending sets the age of the endpoint's oldest undelivered message.
func (w *Webhooks) WebhookOldestPending(endpoint string, age time.Duration) {
	w.oldest.WithLabelValues(endpoint).Set(age.Seconds())
}
