// Package metrics owns hotline's Prometheus registry and the metric sets of
// each subsystem. Every set is built on a registry passed in (never the global
// one) and satisfies the small observer interface its consumer declares, so
// sip and media never import Prometheus.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Set bundles every metric hotline exposes on /metrics.
type Set struct {
	Registry   *prometheus.Registry
	SIP        *SIP
	RTP        *RTP
	Calls      *Calls
	Store      *Store
	Queues     *Queues
	Recordings *Recordings
	Webhooks   *Webhooks
}

// New builds all metric sets on a fresh registry, together with the Go
// runtime and process collectors.
func New() *Set {
	reg := prometheus.NewRegistry()
	return newSet(reg, reg)
}

// newSet builds the sets on r, which registers on reg; a test passes an r
// that also keeps the collectors, to walk what the process registers.
func newSet(reg *prometheus.Registry, r prometheus.Registerer) *Set {
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Set{
		Registry:   reg,
		SIP:        newSIP(r),
		RTP:        newRTP(r),
		Calls:      newCalls(r),
		Store:      newStore(r),
		Queues:     newQueues(r),
		Recordings: newRecordings(r),
		Webhooks:   NewWebhooks(r),
	}
}

// SIP counts signalling traffic. It satisfies sip.Observer.
type SIP struct {
	requests  *prometheus.CounterVec
	responses *prometheus.CounterVec
	dropped   *prometheus.CounterVec
}

func newSIP(reg prometheus.Registerer) *SIP {
	s := &SIP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sip_requests_total", Help: "SIP requests received, by method.",
		}, []string{"method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sip_responses_total", Help: "SIP responses sent, by status code.",
		}, []string{"code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sip_dropped_total", Help: "SIP messages or calls refused or dropped, by reason.",
		}, []string{"reason"}),
	}
	reg.MustRegister(s.requests, s.responses, s.dropped)
	return s
}

// Request counts one received request. Methods outside RFC 3261 and its
// common extensions are counted as "other", so the label stays bounded.
func (s *SIP) Request(method string) {
	switch method {
	case "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "REGISTER", "UPDATE", "PRACK", "REFER",
		"NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH":
	default:
		method = "other"
	}
	s.requests.WithLabelValues(method).Inc()
}

// Response counts one sent response.
func (s *SIP) Response(code int) {
	s.responses.WithLabelValues(strconv.Itoa(code)).Inc()
}

// Dropped counts one refused or unparseable message; reason is a short fixed word.
func (s *SIP) Dropped(reason string) {
	s.dropped.WithLabelValues(reason).Inc()
}

// RTP counts media packets and the pacing of what we send. It satisfies
// media.Observer; every method is safe on the per-packet path (no allocation).
type RTP struct {
	received  prometheus.Counter
	sent      prometheus.Counter
	dropped   *prometheus.CounterVec
	deviation prometheus.Histogram
	late      prometheus.Histogram
	work      prometheus.Histogram
}

func newRTP(reg prometheus.Registerer) *RTP {
	packets := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotline_rtp_packets_total", Help: "RTP packets, by direction (in, out).",
	}, []string{"direction"})
	r := &RTP{
		received: packets.WithLabelValues("in"),
		sent:     packets.WithLabelValues("out"),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_rtp_dropped_total", Help: "Received RTP datagrams dropped, by reason.",
		}, []string{"reason"}),
		deviation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hotline_rtp_send_interval_deviation_seconds",
			Help:    "Absolute deviation of the gap between two paced RTP sends from 20 ms.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05},
		}),
		late: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hotline_media_pacer_lateness_seconds",
			Help:    "How late the media pacer woke for its slot (every 2 ms); late wake-ups delay frames.",
			Buckets: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02},
		}),
		work: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hotline_media_pacer_work_seconds",
			Help:    "How long the media pacer worked per wake-up (sending frames, draining sockets).",
			Buckets: []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02},
		}),
	}
	reg.MustRegister(packets, r.dropped, r.deviation, r.late, r.work)
	return r
}

// PacketReceived counts one received RTP packet.
func (r *RTP) PacketReceived() { r.received.Inc() }

// PacketSent counts one sent RTP packet.
func (r *RTP) PacketSent() { r.sent.Inc() }

// PacketDropped counts one received datagram that was not usable.
func (r *RTP) PacketDropped(reason string) { r.dropped.WithLabelValues(reason).Inc() }

// PacerWake records one wake-up of the media pacer (media.PacerObserver).
func (r *RTP) PacerWake(late, work time.Duration) {
	r.late.Observe(late.Seconds())
	r.work.Observe(work.Seconds())
}

// SendInterval records how far one paced send gap was from the 20 ms frame time.
func (r *RTP) SendInterval(d time.Duration) {
	dev := d - 20*time.Millisecond
	if dev < 0 {
		dev = -dev
	}
	r.deviation.Observe(dev.Seconds())
}

// Calls tracks calls, digits and IVR outcomes.
type Calls struct {
	active   prometheus.Gauge
	total    *prometheus.CounterVec
	digits   *prometheus.CounterVec
	outcomes *prometheus.CounterVec
}

func newCalls(reg prometheus.Registerer) *Calls {
	c := &Calls{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hotline_calls_active", Help: "Calls in progress now.",
		}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_calls_total", Help: "Ended calls, by outcome.",
		}, []string{"outcome"}),
		digits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_dtmf_digits_total", Help: "DTMF digits taken, by source (rfc4733, info, inband).",
		}, []string{"source"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_ivr_outcomes_total", Help: "IVR flow results, by flow and outcome.",
		}, []string{"flow", "outcome"}),
	}
	reg.MustRegister(c.active, c.total, c.digits, c.outcomes)
	return c
}

// CallStarted counts a call in.
func (c *Calls) CallStarted() { c.active.Inc() }

// CallEnded counts a call out with its final outcome.
func (c *Calls) CallEnded(outcome string) {
	c.active.Dec()
	c.total.WithLabelValues(outcome).Inc()
}

// Digit counts one de-duplicated DTMF digit by the way it arrived.
func (c *Calls) Digit(source string) { c.digits.WithLabelValues(source).Inc() }

// IVROutcome counts how a flow ended; flow names come from the config, so the
// label stays bounded.
func (c *Calls) IVROutcome(flow, outcome string) { c.outcomes.WithLabelValues(flow, outcome).Inc() }

// Store watches the record writer.
type Store struct {
	pending prometheus.Gauge
}

func newStore(reg prometheus.Registerer) *Store {
	s := &Store{pending: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hotline_store_pending", Help: "Records waiting to be written to the store.",
	})}
	reg.MustRegister(s.pending)
	return s
}

// SetPending reports the writer's backlog.
func (s *Store) SetPending(n int) { s.pending.Set(float64(n)) }

// Queues exposes the ACD: raw counters, a wait histogram and a handle-time
// histogram from which any service level, ASA, abandon rate or AHT can be
// computed in PromQL (see KPI.md), and the live figures as gauges: waiting
// now, longest wait now, and agents by state, overall and per queue. The
// dashboard and alert rules in deploy/ are written against these names. It
// satisfies switchboard.QueueMetrics (Left); cmd feeds the gauges from the
// ACD's snapshot and the handle times from the desk's agent state changes.
type Queues struct {
	wait     *prometheus.HistogramVec
	offered  *prometheus.CounterVec
	left     *prometheus.CounterVec
	waiting  *prometheus.GaugeVec
	longest  *prometheus.GaugeVec
	agents   *prometheus.GaugeVec
	staffed  *prometheus.GaugeVec
	statesMu sync.Mutex
	states   map[string]bool // agent states seen, so a state with no agent left reads 0

	handle      *prometheus.HistogramVec // per queue and part (talk, hold, wrapup)
	queueAgents *prometheus.GaugeVec     // per queue and state
	queueMu     sync.Mutex
	queueStates map[string]map[string]bool // per queue, the states seen (see states)
	queuesSeen  map[string]bool            // queues whose series SetQueue created at zero
	handlingMu  sync.Mutex
	handling    map[string]*handling // by agent id: the call each agent is handling now
}

func newQueues(reg prometheus.Registerer) *Queues {
	q := &Queues{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotline_queue_wait_seconds",
			Help:    "Time from joining a queue to leaving it, by queue and outcome (answered, abandoned, overflow).",
			Buckets: []float64{5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200},
		}, []string{"queue", "outcome"}),
		offered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_queue_offered_total",
			Help: "Calls that joined a queue's line (KPI.md: offered), counted as they join; a transfer into a queue joins it again.",
		}, []string{"queue"}),
		left: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_queue_calls_total", Help: "Calls that left a queue, by queue and outcome.",
		}, []string{"queue", "outcome"}),
		waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_queue_waiting", Help: "Calls waiting in the queue now (not yet ringing).",
		}, []string{"queue"}),
		longest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_queue_longest_wait_seconds", Help: "Age of the oldest call waiting in the queue now.",
		}, []string{"queue"}),
		staffed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_queue_agents_staffed", Help: "Members ready, ringing, talking or in wrap-up now.",
		}, []string{"queue"}),
		agents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_agents", Help: "Agents by state now.",
		}, []string{"state"}),
		states: map[string]bool{},
		handle: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hotline_queue_handle_seconds",
			Help: "Handle time of the calls agents finished (wrap-up over), by queue and part (talk, hold, wrapup); " +
				"each handled call is observed once per part, so AHT = sum of _sum over parts / _count of one part.",
			Buckets: []float64{5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 3600},
		}, []string{"queue", "part"}),
		queueAgents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_queue_agents",
			Help: "Members of the queue by agent state now (an agent in two queues counts in both).",
		}, []string{"queue", "state"}),
		queueStates: map[string]map[string]bool{},
		queuesSeen:  map[string]bool{},
		handling:    map[string]*handling{},
	}
	reg.MustRegister(q.wait, q.offered, q.left, q.waiting, q.longest, q.staffed, q.agents, q.handle, q.queueAgents)
	for _, st := range agentStates {
		q.states[st] = true
		q.agents.WithLabelValues(st)
	}
	return q
}

// Joined records a call joining a queue's line (an offered call).
func (q *Queues) Joined(queue string) { q.offered.WithLabelValues(queue).Inc() }

// Left records a call leaving a queue after waiting wait.
func (q *Queues) Left(queue, outcome string, wait time.Duration) {
	q.wait.WithLabelValues(queue, outcome).Observe(wait.Seconds())
	q.left.WithLabelValues(queue, outcome).Inc()
}

// queueOutcomes are the outcomes of hotline_queue_wait_seconds and
// hotline_queue_calls_total (switchboard.Outcome* of a queue stay).
var queueOutcomes = []string{"answered", "abandoned", "overflow"}

// SetQueue sets a queue's live figures. The first time it sees a queue it
// also creates the queue's wait, outcome and handle-time series at zero, so
// increase() in PromQL counts a queue's first calls and a service level
// divides by zero abandons rather than by a missing series.
func (q *Queues) SetQueue(queue string, waiting, staffed int, longest time.Duration) {
	q.queueMu.Lock()
	first := !q.queuesSeen[queue]
	q.queuesSeen[queue] = true
	q.queueMu.Unlock()
	if first {
		q.offered.WithLabelValues(queue)
		for _, o := range queueOutcomes {
			q.wait.WithLabelValues(queue, o)
			q.left.WithLabelValues(queue, o)
		}
		for _, p := range []string{PartTalk, PartHold, PartWrapup} {
			q.handle.WithLabelValues(queue, p)
		}
	}
	q.waiting.WithLabelValues(queue).Set(float64(waiting))
	q.staffed.WithLabelValues(queue).Set(float64(staffed))
	q.longest.WithLabelValues(queue).Set(longest.Seconds())
}

// SetAgents sets the number of agents in each state.
func (q *Queues) SetAgents(byState map[string]int) {
	q.statesMu.Lock()
	defer q.statesMu.Unlock()
	for st := range byState {
		q.states[st] = true
	}
	for st := range q.states {
		q.agents.WithLabelValues(st).Set(float64(byState[st]))
	}
}
