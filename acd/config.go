package acd

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Routing strategies: how a queue picks among several ready agents that may
// take a call.
const (
	LongestIdle = "longest-idle" // the agent ready for the longest time (the default)
	RoundRobin  = "round-robin"  // the next member after the one last offered a call, in member order
	RingAll     = "ring-all"     // every eligible ready member at once; the first to accept wins
	FewestCalls = "fewest-calls" // the member who answered the fewest calls of this queue, then longest idle
	Linear      = "linear"       // the first eligible ready member in member order
	Random      = "random"       // a uniformly random eligible ready member (seeded, so repeatable)
)

// Overflow targets other than "queue:NAME" and "node:FLOW:NODE".
const (
	TargetHangup = "hangup" // play the goodbye prompt and hang up
)

// Defaults applied by New to zero fields.
const (
	DefaultRingTimeout  = 15 * time.Second // offer (ring) timeout when a queue sets none
	DefaultTransferWait = 30 * time.Second // transfer wait when a queue sets none
	DefaultHandleTime   = 3 * time.Minute  // AHT assumed before a queue has handled a call
	MaxEWT              = 2 * time.Hour    // estimated waits are capped here
	DefaultHoldWarn     = time.Minute      // hold timer warning when a queue sets none
)

// Agent-state reasons set by the ACD itself.
const (
	ReasonMissedCall   = "missed call"  // an offer rang out
	ReasonDisconnected = "disconnected" // the agent's browser went away
	ReasonRejected     = "rejected"     // the agent rejected an offer
	ReasonAudio        = "audio"        // the agent's media connection failed and did not recover
)

// Config is the ACD's part of the YAML configuration.
type Config struct {
	Queues []QueueConfig `yaml:"queues" json:"queues"`
	// NotReadyReasons lists the reasons an agent may pick for not ready
	// (break, lunch, training…). An empty reason is always accepted, and so
	// are the automatic ones (ReasonMissedCall, ReasonDisconnected, ReasonRejected,
	// ReasonAudio).
	NotReadyReasons []string `yaml:"not_ready_reasons" json:"not_ready_reasons"`
	// NotReadyLabels are the reasons as agents and supervisors read them,
	// by reason and language code: {paperwork: {en: Paperwork, ru: Документы}}.
	// The ACD only carries them; a reason without one shows as written.
	NotReadyLabels map[string]map[string]string `yaml:"not_ready_labels" json:"not_ready_labels,omitempty"`
}

// QueueConfig describes one queue.
type QueueConfig struct {
	Name     string   `yaml:"name" json:"name"`
	Strategy string   `yaml:"strategy" json:"strategy"` // see LongestIdle and the other strategy names; empty = LongestIdle
	Members  []Member `yaml:"members" json:"members"`   // member order matters for linear and round-robin
	// RequiredSkills maps a skill to the minimum level an agent needs for any
	// call of this queue. A skill the caller's IVR outcome names needs the
	// level given here, or level 1 when the skill is not listed.
	RequiredSkills map[string]int `yaml:"required_skills" json:"required_skills,omitempty"`
	// Widen relaxes the skill levels the longer a call waits in the queue.
	// Stages have increasing After and may only lower levels (0 drops a skill).
	Widen          []Widening    `yaml:"widen" json:"widen,omitempty"`
	MaxWait        time.Duration `yaml:"max_wait" json:"max_wait,omitempty"`       // waiting longer overflows; 0 = no limit
	MaxLen         int           `yaml:"max_len" json:"max_len,omitempty"`         // calls waiting or ringing; a full queue overflows new calls; 0 = no limit
	Overflow       string        `yaml:"overflow" json:"overflow,omitempty"`       // "queue:NAME", "node:FLOW:NODE" or "hangup" (the default)
	JoinWhenEmpty  bool          `yaml:"join_when_empty" json:"join_when_empty"`   // a call may join while no member is signed in
	LeaveWhenEmpty bool          `yaml:"leave_when_empty" json:"leave_when_empty"` // waiting calls overflow once no member is signed in
	RingTimeout    time.Duration `yaml:"ring_timeout" json:"ring_timeout,omitempty"`
	WrapUp         time.Duration `yaml:"wrap_up" json:"wrap_up,omitempty"`               // after-call work; 0 = ready at once
	AnnounceEvery  time.Duration `yaml:"announce_every" json:"announce_every,omitempty"` // position/EWT announcements; 0 = off
	HoldMusic      string        `yaml:"hold_music" json:"hold_music,omitempty"`         // played by the switchboard; the ACD only carries it
	// HoldWarn is how long a caller may be on hold before the agent page
	// turns the hold timer amber; 0 = DefaultHoldWarn. The ACD only carries it.
	HoldWarn time.Duration `yaml:"hold_warn" json:"hold_warn,omitempty"`
	// TransferWait bounds how long a call of this queue that an agent
	// transferred to another agent is kept for that agent alone: if the
	// target has not become ready for it by then, it goes back to the queue.
	// 0 = DefaultTransferWait.
	TransferWait time.Duration `yaml:"transfer_wait" json:"transfer_wait,omitempty"`
	// Record and Retention are the queue's recording settings: what of its
	// calls is recorded (bridged, from_queue, whole, off; "" = bridged) and
	// how long recordings are kept ("90d"; "" = until deleted by hand). The
	// switchboard and the recorder use them; the ACD only carries them.
	Record    string `yaml:"record" json:"record,omitempty"`
	Retention string `yaml:"retention" json:"retention,omitempty"`
	// Dispositions are the wrap-up codes an agent picks from ("resolved",
	// "escalated", ...). When set, an agent cannot finish wrap-up without
	// one; the ACD only carries them.
	Dispositions []string `yaml:"dispositions" json:"dispositions,omitempty"`
}

// MaxDisposition is the longest disposition code, in bytes.
const MaxDisposition = 40

// Member is an agent in a queue with that queue's skill levels.
type Member struct {
	Agent  string         `yaml:"agent" json:"agent"`
	Skills map[string]int `yaml:"skills" json:"skills,omitempty"`
}

// Widening is one relaxation step: once a call has waited After in the
// queue, the listed skills need only the given level (0 = not needed).
type Widening struct {
	After  time.Duration  `yaml:"after" json:"after"`
	Skills map[string]int `yaml:"skills" json:"skills"`
}

// Validate reports every problem in c, joined, each prefixed with its path
// ("queues[1].strategy: …").
func (c Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	names := map[string]int{}
	for i, q := range c.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		switch {
		case q.Name == "":
			bad(p+".name", "is empty")
		case strings.ContainsAny(q.Name, ": \t"):
			bad(p+".name", "%q must not contain spaces or colons", q.Name)
		default:
			if j, dup := names[q.Name]; dup {
				bad(p+".name", "%q is already used by queues[%d]", q.Name, j)
			} else {
				names[q.Name] = i
			}
		}
		validateQueue(p, q, bad)
	}
	for i, q := range c.Queues {
		p := fmt.Sprintf("queues[%d].overflow", i)
		kind, arg, err := parseTarget(q.Overflow)
		if err != nil {
			bad(p, "%v", err)
			continue
		}
		if kind != "queue" {
			continue
		}
		if _, ok := names[arg]; !ok {
			bad(p, "queue %q is not configured", arg)
		} else if arg == q.Name {
			bad(p, "a queue cannot overflow into itself")
		}
	}
	if cyc := overflowCycle(c.Queues); cyc != "" {
		bad("queues", "overflow targets form a loop: %s", cyc)
	}
	seen := map[string]bool{}
	for i, r := range c.NotReadyReasons {
		p := fmt.Sprintf("not_ready_reasons[%d]", i)
		if strings.TrimSpace(r) == "" {
			bad(p, "is empty")
		} else if seen[r] {
			bad(p, "%q is listed twice", r)
		}
		seen[r] = true
	}
	for r := range c.NotReadyLabels {
		if !seen[r] {
			bad("not_ready_labels."+r, "%q is not one of not_ready_reasons", r)
		}
	}
	return errors.Join(errs...)
}

func validateQueue(p string, q QueueConfig, bad func(path, format string, args ...any)) {
	switch q.Strategy {
	case "", LongestIdle, RoundRobin, RingAll, FewestCalls, Linear, Random:
	default:
		bad(p+".strategy", "%q is not one of %s, %s, %s, %s, %s, %s",
			q.Strategy, LongestIdle, RoundRobin, RingAll, FewestCalls, Linear, Random)
	}
	codes := map[string]int{}
	for j, d := range q.Dispositions {
		dp := fmt.Sprintf("%s.dispositions[%d]", p, j)
		switch k, dup := codes[d]; {
		case d == "" || len(d) > MaxDisposition || strings.TrimSpace(d) != d:
			bad(dp, "%q must be 1 to %d characters without leading or trailing spaces", d, MaxDisposition)
		case dup:
			bad(dp, "%q is already dispositions[%d]", d, k)
		default:
			codes[d] = j
		}
	}
	agents := map[string]int{}
	for j, m := range q.Members {
		mp := fmt.Sprintf("%s.members[%d]", p, j)
		if m.Agent == "" {
			bad(mp+".agent", "is empty")
		} else if k, dup := agents[m.Agent]; dup {
			bad(mp+".agent", "%q is already members[%d]", m.Agent, k)
		} else {
			agents[m.Agent] = j
		}
		for _, s := range sortedKeys(m.Skills) {
			if m.Skills[s] < 0 {
				bad(mp+".skills."+s, "level must not be negative, got %d", m.Skills[s])
			}
		}
	}
	for _, s := range sortedKeys(q.RequiredSkills) {
		if q.RequiredSkills[s] < 0 {
			bad(p+".required_skills."+s, "level must not be negative, got %d", q.RequiredSkills[s])
		}
	}
	level := func(s string) int { // the level in force before the stage being checked
		if l, ok := q.RequiredSkills[s]; ok {
			return l
		}
		return 1
	}
	prev := map[string]int{}
	var after time.Duration
	for j, w := range q.Widen {
		wp := fmt.Sprintf("%s.widen[%d]", p, j)
		if w.After <= after {
			bad(wp+".after", "must be positive and later than the previous stage, got %s", w.After)
		}
		after = w.After
		for _, s := range sortedKeys(w.Skills) {
			was, ok := prev[s]
			if !ok {
				was = level(s)
			}
			if l := w.Skills[s]; l < 0 {
				bad(wp+".skills."+s, "level must not be negative, got %d", l)
			} else if l > was {
				bad(wp+".skills."+s, "widening may only lower a level: %d is above %d", l, was)
			}
			prev[s] = w.Skills[s]
		}
	}
	nonNeg := func(field string, d time.Duration) {
		if d < 0 {
			bad(p+"."+field, "must not be negative, got %s", d)
		}
	}
	nonNeg("max_wait", q.MaxWait)
	nonNeg("ring_timeout", q.RingTimeout)
	nonNeg("transfer_wait", q.TransferWait)
	nonNeg("wrap_up", q.WrapUp)
	nonNeg("announce_every", q.AnnounceEvery)
	if q.AnnounceEvery > 0 && q.AnnounceEvery < time.Second {
		bad(p+".announce_every", "must be at least 1s, got %s", q.AnnounceEvery)
	}
	if q.MaxLen < 0 {
		bad(p+".max_len", "must not be negative, got %d", q.MaxLen)
	}
}

// parseTarget splits an overflow target into its kind ("queue", "node",
// "hangup") and argument. An empty target means hangup.
func parseTarget(t string) (kind, arg string, err error) {
	switch {
	case t == "" || t == TargetHangup:
		return TargetHangup, "", nil
	case strings.HasPrefix(t, "queue:"):
		arg = strings.TrimPrefix(t, "queue:")
		if arg == "" {
			return "", "", fmt.Errorf("%q names no queue", t)
		}
		return "queue", arg, nil
	case strings.HasPrefix(t, "node:"):
		flow, node, ok := strings.Cut(strings.TrimPrefix(t, "node:"), ":")
		if !ok || flow == "" || node == "" || strings.Contains(node, ":") {
			return "", "", fmt.Errorf("%q is not node:FLOW:NODE", t)
		}
		return "node", flow + ":" + node, nil
	}
	return "", "", fmt.Errorf("%q is not queue:NAME, node:FLOW:NODE or hangup", t)
}

// overflowCycle returns a description of a loop among queue→queue overflow
// targets, or "" when there is none. A loop could bounce a call forever.
func overflowCycle(qs []QueueConfig) string {
	next := map[string]string{}
	for _, q := range qs {
		if kind, arg, err := parseTarget(q.Overflow); err == nil && kind == "queue" {
			next[q.Name] = arg
		}
	}
	for _, q := range qs {
		path := []string{q.Name}
		for cur := next[q.Name]; cur != ""; cur = next[cur] {
			if i := slices.Index(path, cur); i >= 0 {
				return strings.Join(append(path[i:], cur), " → ")
			}
			path = append(path, cur)
		}
	}
	return ""
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
