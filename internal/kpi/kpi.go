// Package kpi computes the call-center KPIs of KPI.md from raw per-call
// timestamps and agent state events, for an interval split into buckets
// (15 minutes, an hour or a day in a time zone), per queue, per agent and in
// total. It is pure logic: Compute takes slices and a Config and returns a
// Report, with no clock and no I/O, so the same data always gives the same
// figures.
//
// Every figure names its KPI, its variant and the thresholds it used (see
// Figure and the Key* constants), because vendors disagree on the
// definitions. What the engine counts:
//
//   - A call belongs to the bucket in which it entered a queue (QueuedAt);
//     calls that never entered a queue (IVR only) are not offered.
//   - Answered: a queued call connected to an agent (ConnectedAt set); its
//     wait runs from QueuedAt to ConnectedAt (not from IVR start).
//   - Abandoned: a queued call not connected whose Outcome is "abandoned"
//     (the caller hung up waiting or while it rang); its wait runs from
//     QueuedAt to EndedAt. It is short when that wait is under
//     Config.ShortAbandon.
//   - Overflow: Outcome "overflow". Other: any other ended call that left
//     the queue unanswered (voicemail, shutdown, crash, ...). Waiting: not
//     connected and not ended as of Config.AsOf.
//   - Handle time comes from agent events (states on_call, on_hold,
//     wrap_up carrying the call id): a state lasts until the agent's next
//     event, the last one until AsOf. An agent's handle of a call belongs to
//     the bucket in which the agent's first on_call for it began; its talk,
//     hold and wrap-up time count whole, even past the bucket's end.
//   - Occupancy and utilization are time in state, clipped to each bucket.
//
// Live figures (waiting now, longest wait now) come from the ACD's
// snapshot, not from here; EWT offers the estimate the ACD announces.
package kpi

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultThreshold    = 20 * time.Second // service level T
	DefaultShortAbandon = 5 * time.Second  // abandons under this are short
	MaxBuckets          = 10000            // Compute refuses more buckets than this
)

// Outcomes of a call (the call row's outcome, set by the switchboard) the
// engine tells apart.
const (
	OutcomeAbandoned = "abandoned"
	OutcomeOverflow  = "overflow"
)

// Agent states (the ACD's state names) the engine reads; "on-call" style
// spellings are read as "on_call".
const (
	StateSignedOut = "signed_out"
	StateReady     = "ready"
	StateNotReady  = "not_ready"
	StateOffered   = "offered"
	StateOnCall    = "on_call"
	StateOnHold    = "on_hold"
	StateWrapUp    = "wrap_up"
	StateConsult   = "consult" // consulting another agent about a call, or consulted
)

// ErrConfig marks a Config Compute cannot report on.
var ErrConfig = errors.New("kpi: bad config")

// Call is one call as the engine reads it; a zero time means the call
// never reached that point.
type Call struct {
	ID          string
	Queue       string
	Agent       string // the agent who answered (informational)
	Outcome     string
	ArrivedAt   time.Time
	QueuedAt    time.Time
	ConnectedAt time.Time
	EndedAt     time.Time
}

// AgentEvent is one agent state transition: from At the agent is in State.
// CallID names the call an on_call, on_hold or wrap_up state is about; when
// empty, the agent's previous call is assumed.
type AgentEvent struct {
	Agent  string
	At     time.Time
	State  string
	CallID string
}

// BucketSize is how Compute splits the interval.
type BucketSize int

// Bucket sizes. Day buckets begin at midnight in Config.Location, so a day
// with a daylight saving change lasts 23 or 25 hours.
const (
	Whole     BucketSize = iota // one bucket: the whole interval
	Minutes15                   // quarter hours of the local clock
	Hour                        // hours of the local clock
	Day                         // local calendar days
)

// ParseBucketSize reads "15m", "1h", "1d" or "" (Whole).
func ParseBucketSize(s string) (BucketSize, error) {
	switch s {
	case "":
		return Whole, nil
	case "15m":
		return Minutes15, nil
	case "1h":
		return Hour, nil
	case "1d":
		return Day, nil
	}
	return Whole, fmt.Errorf("%w: bucket %q: want 15m, 1h or 1d", ErrConfig, s)
}

// String is the name ParseBucketSize reads ("whole" for Whole).
func (b BucketSize) String() string {
	switch b {
	case Minutes15:
		return "15m"
	case Hour:
		return "1h"
	case Day:
		return "1d"
	}
	return "whole"
}

// Config says what to report on.
type Config struct {
	From, To time.Time      // the interval [From, To)
	Bucket   BucketSize     // how to split it
	Location *time.Location // where buckets begin; nil: UTC
	// Threshold is the service level T (DefaultThreshold when 0);
	// QueueThresholds overrides it per queue.
	Threshold       time.Duration
	QueueThresholds map[string]time.Duration
	// ShortAbandon: abandons that waited less are short
	// (DefaultShortAbandon when 0; negative: no abandon is short).
	ShortAbandon time.Duration
	// Queues, when set, are the queues reported (each one, even without
	// calls), and the only ones whose calls count in handle times;
	// occupancy and utilization count all of an agent's time.
	Queues []string
	// AsOf is when the data was read: calls not yet ended wait until then
	// and the agents' last states last until then. Zero: To.
	AsOf time.Time
	// EventsTo, when set, is where the agent events given end (excluded):
	// an agent's last state then lasts until EventsTo, not AsOf. A reader
	// that fetches events up to some bound sets it, so a call running past
	// the bound is not taken to run until AsOf.
	EventsTo time.Time
}

// threshold is T for queue.
func (c Config) threshold(queue string) time.Duration {
	if t, ok := c.QueueThresholds[queue]; ok && t > 0 {
		return t
	}
	return c.defaultThreshold()
}

// defaultThreshold is T for queues QueueThresholds does not name.
func (c Config) defaultThreshold() time.Duration {
	if c.Threshold > 0 {
		return c.Threshold
	}
	return DefaultThreshold
}

// shortAbandon is the short-abandon threshold in force.
func (c Config) shortAbandon() time.Duration {
	switch {
	case c.ShortAbandon < 0:
		return 0
	case c.ShortAbandon == 0:
		return DefaultShortAbandon
	}
	return c.ShortAbandon
}

func (c Config) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// end is when the data ends: AsOf, or To when AsOf is zero or later.
func (c Config) end() time.Time {
	if c.AsOf.IsZero() || c.AsOf.After(c.To) {
		return c.To
	}
	if c.AsOf.Before(c.From) {
		return c.From
	}
	return c.AsOf
}

// eventsEnd is where an agent's last state ends.
func (c Config) eventsEnd() time.Time {
	if !c.EventsTo.IsZero() && c.EventsTo.Before(c.asOf()) {
		return c.EventsTo
	}
	return c.asOf()
}

// asOf is the instant live calls and open states run to.
func (c Config) asOf() time.Time {
	if c.AsOf.IsZero() {
		return c.To
	}
	return c.AsOf
}

// Thresholds echoes the thresholds a Report used.
type Thresholds struct {
	ServiceLevelS   float64            `json:"service_level_s"`              // the default T
	QueuesS         map[string]float64 `json:"queues_s,omitempty"`           // T per queue, where set
	ShortAbandonS   float64            `json:"short_abandon_s"`              // abandons under this are short
	OccupancyIdle   string             `json:"occupancy_available_states"`   // states counted as available
	UtilizationBase string             `json:"utilization_signed_in_states"` // states counted as signed in
}

// Report is the KPIs of an interval.
type Report struct {
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"`
	TimeZone   string     `json:"tz"`
	Bucket     string     `json:"bucket"`
	AsOf       time.Time  `json:"as_of"`
	Thresholds Thresholds `json:"thresholds"`
	Buckets    []Bucket   `json:"buckets"`
	Total      Bucket     `json:"total"` // the whole interval
}

// Bucket is the KPIs of one part of the interval, [Start, End).
type Bucket struct {
	Start  time.Time    `json:"start"`
	End    time.Time    `json:"end"`
	Queues []QueueStats `json:"queues"` // by queue name
	// AllQueues is the reported queues together; its handle figures count
	// each call once, summing the time of all agents who handled it.
	AllQueues QueueStats   `json:"all_queues"`
	Agents    []AgentStats `json:"agents"` // by agent
	// AllAgents is the agents together; its handled counts each agent's
	// handle of a call (a transferred call counts once per agent).
	AllAgents AgentStats `json:"all_agents"`
}

// Compute reports on calls and events as cfg asks. Calls and events outside
// the interval may be passed: calls queued earlier only name the queue of
// calls agents handle in the interval, and earlier events give the agents'
// states at its start (pass a lookback of events to know them).
func Compute(cfg Config, calls []Call, events []AgentEvent) (Report, error) {
	if cfg.From.IsZero() || !cfg.To.After(cfg.From) {
		return Report{}, fmt.Errorf("%w: the interval must have from before to", ErrConfig)
	}
	starts, err := bucketStarts(cfg)
	if err != nil {
		return Report{}, err
	}
	e := newEngine(cfg, starts)
	for _, c := range calls {
		e.addCall(c)
	}
	e.addEvents(events)
	return e.report(), nil
}

// bucketStarts returns the start of every bucket, the first being From.
func bucketStarts(cfg Config) ([]time.Time, error) {
	starts := []time.Time{cfg.From}
	if cfg.Bucket == Whole {
		return starts, nil
	}
	loc := cfg.location()
	next := func(t time.Time) time.Time {
		switch cfg.Bucket {
		case Day:
			l := t.In(loc)
			return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
		case Hour:
			return alignedNext(t, time.Hour)
		default:
			return alignedNext(t, 15*time.Minute)
		}
	}
	for t := next(cfg.From); t.Before(cfg.To); t = next(t) {
		if len(starts) >= MaxBuckets {
			return nil, fmt.Errorf("%w: more than %d buckets; choose a larger bucket or a shorter interval", ErrConfig, MaxBuckets)
		}
		starts = append(starts, t)
	}
	return starts, nil
}

// alignedNext is the first instant after t on a multiple of size of t's
// local clock (t's zone offset counted).
func alignedNext(t time.Time, size time.Duration) time.Time {
	_, off := t.Zone()
	shift := time.Duration(off) * time.Second
	return t.Add(shift).Truncate(size).Add(size - shift)
}

// EWTVariant names the estimate EWT makes.
const EWTVariant = "position_x_aht_div_staffed"

// EWT estimates the wait of a caller at position (1 = next) as position ×
// aht ÷ staffed (at least 1 agent), the variant EWTVariant of KPI.md; it is
// never negative. Feed it the ACD snapshot's position, AHT and staffed
// agents.
func EWT(position int, aht time.Duration, staffed int) time.Duration {
	if position <= 0 || aht <= 0 {
		return 0
	}
	return time.Duration(float64(position) * float64(aht) / float64(max(1, staffed)))
}

// normState reads "on-call" as "on_call".
func normState(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// index is the bucket holding t, or -1 when t is outside [From, To).
func index(starts []time.Time, to, t time.Time) int {
	if t.Before(starts[0]) || !t.Before(to) {
		return -1
	}
	return sort.Search(len(starts), func(i int) bool { return starts[i].After(t) }) - 1
}
