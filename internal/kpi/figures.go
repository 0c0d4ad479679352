package kpi

import "time"

// Units of a Figure's value.
const (
	UnitCalls   = "calls"
	UnitRatio   = "ratio"   // 0..1
	UnitSeconds = "seconds" // the value, numerator of an average and max times
)

// Keys of the figures: stable names in JSON (the field names of QueueStats
// and AgentStats) and in CSV column headers. Definition gives each one's
// KPI name and variant.
const (
	KeyOffered         = "offered"           // offered/entered_queue: calls that entered a queue (IVR-only calls not counted)
	KeyAnswered        = "answered"          // answered/connected: queued calls connected to an agent
	KeyAbandoned       = "abandoned"         // abandoned/incl_short: queued calls the caller left before an answer, short ones included
	KeyAbandonedShort  = "abandoned_short"   // abandoned/short: of those, the ones that waited less than the short-abandon threshold
	KeyOverflow        = "overflow"          // overflow/overflow: calls the queue could not take or keep
	KeyLeftOther       = "left_other"        // left_other/ended_unanswered: other ended unanswered calls (voicemail, shutdown, crash, ...)
	KeyWaiting         = "waiting"           // waiting/as_of: calls still waiting when the data was read
	KeyASA             = "asa"               // asa/from_enqueue: Σ wait of answered ÷ answered, the wait starting at enqueue
	KeySLAnswered      = "sl_answered"       // service_level/a: answered ≤ T ÷ answered (Asterisk "SL", Wazo "QoS")
	KeySLDefault       = "sl_default"        // service_level/b: answered ≤ T ÷ (answered + abandoned after the short-abandon threshold) — hotline's default
	KeySLWithAbandons  = "sl_with_abandons"  // service_level/c: (answered ≤ T + abandoned ≤ T) ÷ (answered + abandoned), short abandons included (Asterisk "SL2")
	KeySLLeftQueue     = "sl_left_queue"     // service_level/d: calls that left the queue in any way ≤ T ÷ offered (Amazon Connect)
	KeyAbandonRate     = "abandon_rate"      // abandon_rate/incl_short: abandoned ÷ offered
	KeyAbandonRateLong = "abandon_rate_long" // abandon_rate/excl_short: (abandoned − short) ÷ (offered − short)
	KeyAvgAbandonTime  = "avg_abandon_time"  // avg_abandon_time/incl_short: mean wait of abandoned calls
	KeyMaxQueuedTime   = "max_queued_time"   // max_queued_time/in_interval: longest time in queue of the calls queued in the bucket
	KeyHandled         = "handled"           // handled/agent_on_call: calls (per agent: the agent's handles) whose first on_call began in the bucket
	KeyAHT             = "aht"               // aht/talk_hold_wrap_up: (talk + hold + wrap-up) ÷ handled
	KeyAvgTalk         = "avg_talk"          // avg_talk/on_call: talk ÷ handled
	KeyAvgHold         = "avg_hold"          // avg_hold/on_hold: hold ÷ handled
	KeyAvgWrapUp       = "avg_wrap_up"       // avg_wrap_up/wrap_up: wrap-up ÷ handled
	KeyOccupancy       = "occupancy"         // occupancy/handling_div_available: handling ÷ (handling + ready + offered) time
	KeyUtilization     = "utilization"       // utilization/handling_div_signed_in: handling ÷ all signed-in time (not ready included)
)

// Definition returns the KPI name, variant and unit of the figure key.
func Definition(key string) (name, variant, unit string) {
	switch key {
	case KeyOffered:
		return "offered", "entered_queue", UnitCalls
	case KeyAnswered:
		return "answered", "connected", UnitCalls
	case KeyAbandoned:
		return "abandoned", "incl_short", UnitCalls
	case KeyAbandonedShort:
		return "abandoned", "short", UnitCalls
	case KeyOverflow:
		return "overflow", "overflow", UnitCalls
	case KeyLeftOther:
		return "left_other", "ended_unanswered", UnitCalls
	case KeyWaiting:
		return "waiting", "as_of", UnitCalls
	case KeyASA:
		return "asa", "from_enqueue", UnitSeconds
	case KeySLAnswered:
		return "service_level", "a", UnitRatio
	case KeySLDefault:
		return "service_level", "b", UnitRatio
	case KeySLWithAbandons:
		return "service_level", "c", UnitRatio
	case KeySLLeftQueue:
		return "service_level", "d", UnitRatio
	case KeyAbandonRate:
		return "abandon_rate", "incl_short", UnitRatio
	case KeyAbandonRateLong:
		return "abandon_rate", "excl_short", UnitRatio
	case KeyAvgAbandonTime:
		return "avg_abandon_time", "incl_short", UnitSeconds
	case KeyMaxQueuedTime:
		return "max_queued_time", "in_interval", UnitSeconds
	case KeyHandled:
		return "handled", "agent_on_call", UnitCalls
	case KeyAHT:
		return "aht", "talk_hold_wrap_up", UnitSeconds
	case KeyAvgTalk:
		return "avg_talk", "on_call", UnitSeconds
	case KeyAvgHold:
		return "avg_hold", "on_hold", UnitSeconds
	case KeyAvgWrapUp:
		return "avg_wrap_up", "wrap_up", UnitSeconds
	case KeyOccupancy:
		return "occupancy", "handling_div_available", UnitRatio
	case KeyUtilization:
		return "utilization", "handling_div_signed_in", UnitRatio
	}
	return key, "", ""
}

// Figure is one KPI value with its definition: the KPI's name, the variant
// and the thresholds it used, and for ratios and averages the numerator and
// denominator it was divided from (seconds for times). Value is nil when
// the denominator is 0.
type Figure struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Variant string `json:"variant"`
	Unit    string `json:"unit"`
	// ThresholdS is the service level T in seconds. When the calls counted
	// come from queues with different T, it is nil and ThresholdPerQueue is
	// set: each call was judged by its own queue's T.
	ThresholdS        *float64 `json:"threshold_s,omitempty"`
	ThresholdPerQueue bool     `json:"threshold_per_queue,omitempty"`
	// ShortAbandonS is the short-abandon threshold the figure used.
	ShortAbandonS *float64 `json:"short_abandon_s,omitempty"`
	Value         *float64 `json:"value"`
	Numerator     *float64 `json:"numerator,omitempty"`
	Denominator   *float64 `json:"denominator,omitempty"`
}

// QueueStats is the figures of one queue (or of all, in Bucket.AllQueues).
type QueueStats struct {
	Queue string `json:"queue"`

	Offered        Figure `json:"offered"`
	Answered       Figure `json:"answered"`
	Abandoned      Figure `json:"abandoned"`
	AbandonedShort Figure `json:"abandoned_short"`
	Overflow       Figure `json:"overflow"`
	LeftOther      Figure `json:"left_other"`
	Waiting        Figure `json:"waiting"`

	ASA             Figure `json:"asa"`
	SLAnswered      Figure `json:"sl_answered"`
	SLDefault       Figure `json:"sl_default"`
	SLWithAbandons  Figure `json:"sl_with_abandons"`
	SLLeftQueue     Figure `json:"sl_left_queue"`
	AbandonRate     Figure `json:"abandon_rate"`
	AbandonRateLong Figure `json:"abandon_rate_long"`
	AvgAbandonTime  Figure `json:"avg_abandon_time"`
	MaxQueuedTime   Figure `json:"max_queued_time"`

	Handled   Figure `json:"handled"`
	AHT       Figure `json:"aht"`
	AvgTalk   Figure `json:"avg_talk"`
	AvgHold   Figure `json:"avg_hold"`
	AvgWrapUp Figure `json:"avg_wrap_up"`
}

// Figures lists q's figures in the order of the JSON fields.
func (q QueueStats) Figures() []Figure {
	return []Figure{q.Offered, q.Answered, q.Abandoned, q.AbandonedShort, q.Overflow, q.LeftOther, q.Waiting,
		q.ASA, q.SLAnswered, q.SLDefault, q.SLWithAbandons, q.SLLeftQueue, q.AbandonRate, q.AbandonRateLong,
		q.AvgAbandonTime, q.MaxQueuedTime, q.Handled, q.AHT, q.AvgTalk, q.AvgHold, q.AvgWrapUp}
}

// AgentStats is the figures of one agent (or of all, in Bucket.AllAgents).
type AgentStats struct {
	Agent string `json:"agent"`

	Handled     Figure `json:"handled"` // calls per agent
	AHT         Figure `json:"aht"`
	AvgTalk     Figure `json:"avg_talk"`
	AvgHold     Figure `json:"avg_hold"`
	AvgWrapUp   Figure `json:"avg_wrap_up"`
	Occupancy   Figure `json:"occupancy"`
	Utilization Figure `json:"utilization"`
}

// Figures lists a's figures in the order of the JSON fields.
func (a AgentStats) Figures() []Figure {
	return []Figure{a.Handled, a.AHT, a.AvgTalk, a.AvgHold, a.AvgWrapUp, a.Occupancy, a.Utilization}
}

// fig starts the figure key.
func fig(key string) Figure {
	name, variant, unit := Definition(key)
	return Figure{Key: key, Name: name, Variant: variant, Unit: unit}
}

func ptr(v float64) *float64 { return &v }

func count(key string, n int) Figure {
	f := fig(key)
	f.Value = ptr(float64(n))
	return f
}

func ratio(key string, num, den int) Figure {
	f := fig(key)
	f.Numerator, f.Denominator = ptr(float64(num)), ptr(float64(den))
	if den > 0 {
		f.Value = ptr(float64(num) / float64(den))
	}
	return f
}

func timeRatio(key string, num, den time.Duration) Figure {
	f := fig(key)
	f.Numerator, f.Denominator = ptr(num.Seconds()), ptr(den.Seconds())
	if den > 0 {
		f.Value = ptr(num.Seconds() / den.Seconds())
	}
	return f
}

func mean(key string, sum time.Duration, n int) Figure {
	f := fig(key)
	f.Numerator, f.Denominator = ptr(sum.Seconds()), ptr(float64(n))
	if n > 0 {
		f.Value = ptr(sum.Seconds() / float64(n))
	}
	return f
}

// thresholds tells which service level T the calls of a figure met.
type thresholds struct {
	t          time.Duration
	set, mixed bool
}

func (s *thresholds) add(t time.Duration) {
	switch {
	case !s.set:
		s.t, s.set = t, true
	case s.t != t:
		s.mixed = true
	}
}

func (s thresholds) apply(f Figure) Figure {
	if s.mixed {
		f.ThresholdPerQueue = true
	} else {
		f.ThresholdS = ptr(s.t.Seconds())
	}
	return f
}

func withShort(f Figure, short time.Duration) Figure {
	f.ShortAbandonS = ptr(short.Seconds())
	return f
}
