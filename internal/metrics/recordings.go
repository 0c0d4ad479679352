package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Recordings counts the call recorder's work. It satisfies
// recordings.Metrics.
type Recordings struct {
	active  prometheus.Gauge
	bytes   prometheus.Counter
	failed  *prometheus.CounterVec
	writes  prometheus.Histogram
	started prometheus.Counter
}

func newRecordings(reg prometheus.Registerer) *Recordings {
	r := &Recordings{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hotline_recordings_active", Help: "Recordings being written now.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotline_recording_bytes_total", Help: "Audio bytes written to recording files.",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_recordings_failed_total",
			Help: "Recordings that failed (disk_full, write, create, finish) or lost audio (overflow), by reason.",
		}, []string{"reason"}),
		writes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hotline_recording_write_seconds",
			Help:    "Time of one batched write of a recording's audio to its file.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotline_recordings_started_total", Help: "Recordings started.",
		}),
	}
	reg.MustRegister(r.active, r.bytes, r.failed, r.writes, r.started)
	for _, reason := range []string{"disk_full", "write", "create", "finish", "overflow"} {
		r.failed.WithLabelValues(reason)
	}
	return r
}

// RecordingStarted counts a new recording.
func (r *Recordings) RecordingStarted() { r.active.Inc(); r.started.Inc() }

// RecordingEnded counts a recording finished (or discarded).
func (r *Recordings) RecordingEnded() { r.active.Dec() }

// RecordingBytes counts audio bytes written.
func (r *Recordings) RecordingBytes(n int) { r.bytes.Add(float64(n)) }

// RecordingFailed counts a failure by its reason.
func (r *Recordings) RecordingFailed(reason string) { r.failed.WithLabelValues(reason).Inc() }

// RecordingWrite observes one write's duration.
func (r *Recordings) RecordingWrite(d time.Duration) { r.writes.Observe(d.Seconds()) }
