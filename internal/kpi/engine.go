package kpi

import (
	"slices"
	"time"
)

// callAcc sums the queue side of calls.
type callAcc struct {
	offered, answered, abandoned, short, overflow, other, waiting int
	answeredWait, abandonWait                                     time.Duration
	answeredIn, abandonedIn, leftIn                               int // within their queue's T
	maxQueued                                                     time.Duration
	anyQueued                                                     bool
}

func (a *callAcc) merge(b callAcc) {
	a.offered += b.offered
	a.answered += b.answered
	a.abandoned += b.abandoned
	a.short += b.short
	a.overflow += b.overflow
	a.other += b.other
	a.waiting += b.waiting
	a.answeredWait += b.answeredWait
	a.abandonWait += b.abandonWait
	a.answeredIn += b.answeredIn
	a.abandonedIn += b.abandonedIn
	a.leftIn += b.leftIn
	if b.anyQueued {
		a.maxQueued, a.anyQueued = max(a.maxQueued, b.maxQueued), true
	}
}

// handleAcc sums handle times.
type handleAcc struct {
	handled          int
	talk, hold, wrap time.Duration
}

func (a *handleAcc) add(h handle) {
	a.handled++
	a.talk += h.talk
	a.hold += h.hold
	a.wrap += h.wrap
}

func (a *handleAcc) merge(b handleAcc) {
	a.handled += b.handled
	a.talk += b.talk
	a.hold += b.hold
	a.wrap += b.wrap
}

// timeAcc sums an agent's time in state.
type timeAcc struct {
	handling, available, signedIn time.Duration
}

func (a *timeAcc) merge(b timeAcc) {
	a.handling += b.handling
	a.available += b.available
	a.signedIn += b.signedIn
}

// handle is one agent's part in one call.
type handle struct {
	agent, call      string
	first            time.Time // the agent's first on_call for the call; zero: none seen
	talk, hold, wrap time.Duration
}

// engine accumulates a report: per bucket, per queue and per agent.
type engine struct {
	cfg    Config
	starts []time.Time
	end    time.Time // data end within the interval: min(To, AsOf)
	asOf   time.Time
	short  time.Duration

	only      map[string]bool      // Config.Queues; nil: all queues
	callQueue map[string]string    // call id → queue, of every call given
	queues    map[string][]callAcc // per queue, per bucket
	handles   map[string][]handleAcc
	agentH    map[string][]handleAcc // per agent, per bucket
	agentT    map[string][]timeAcc
}

func newEngine(cfg Config, starts []time.Time) *engine {
	e := &engine{
		cfg: cfg, starts: starts, end: cfg.end(), asOf: cfg.asOf(), short: cfg.shortAbandon(),
		callQueue: map[string]string{}, queues: map[string][]callAcc{}, handles: map[string][]handleAcc{},
		agentH: map[string][]handleAcc{}, agentT: map[string][]timeAcc{},
	}
	if len(cfg.Queues) > 0 {
		e.only = map[string]bool{}
		for _, q := range cfg.Queues {
			e.only[q] = true
			e.queue(q)
		}
	}
	return e
}

func (e *engine) reported(queue string) bool { return e.only == nil || e.only[queue] }

// queue returns queue's accumulators, adding the queue to the report.
func (e *engine) queue(name string) ([]callAcc, []handleAcc) {
	if _, ok := e.queues[name]; !ok {
		e.queues[name] = make([]callAcc, len(e.starts))
		e.handles[name] = make([]handleAcc, len(e.starts))
	}
	return e.queues[name], e.handles[name]
}

func (e *engine) agent(name string) ([]handleAcc, []timeAcc) {
	if _, ok := e.agentH[name]; !ok {
		e.agentH[name] = make([]handleAcc, len(e.starts))
		e.agentT[name] = make([]timeAcc, len(e.starts))
	}
	return e.agentH[name], e.agentT[name]
}

func (e *engine) bucket(t time.Time) int { return index(e.starts, e.cfg.To, t) }

// addCall counts c in the bucket it was queued in.
func (e *engine) addCall(c Call) {
	if c.QueuedAt.IsZero() {
		return
	}
	e.callQueue[c.ID] = c.Queue
	i := e.bucket(c.QueuedAt)
	if i < 0 || !e.reported(c.Queue) {
		return
	}
	accs, _ := e.queue(c.Queue)
	a := &accs[i]
	t := e.cfg.threshold(c.Queue)
	a.offered++
	var left time.Time // when the call left the queue
	switch {
	case !c.ConnectedAt.IsZero():
		left = c.ConnectedAt
		w := left.Sub(c.QueuedAt)
		a.answered++
		a.answeredWait += w
		if w <= t {
			a.answeredIn++
		}
	case c.EndedAt.IsZero():
		a.waiting++
	default:
		left = c.EndedAt
		w := left.Sub(c.QueuedAt)
		switch c.Outcome {
		case OutcomeAbandoned:
			a.abandoned++
			a.abandonWait += w
			if w < e.short {
				a.short++
			}
			if w <= t {
				a.abandonedIn++
			}
		case OutcomeOverflow:
			a.overflow++
		default:
			a.other++
		}
	}
	if !left.IsZero() && left.Sub(c.QueuedAt) <= t {
		a.leftIn++
	}
	if left.IsZero() {
		left = e.asOf
	}
	a.maxQueued, a.anyQueued = max(a.maxQueued, left.Sub(c.QueuedAt), 0), true
}

// addEvents turns each agent's events into time in state and handles.
func (e *engine) addEvents(events []AgentEvent) {
	byAgent := map[string][]AgentEvent{}
	for _, ev := range events {
		byAgent[ev.Agent] = append(byAgent[ev.Agent], ev)
	}
	var handles []handle
	for _, agent := range sortedKeys(byAgent) {
		evs := byAgent[agent]
		slices.SortStableFunc(evs, func(x, y AgentEvent) int { return x.At.Compare(y.At) })
		handles = append(handles, e.agentSpans(agent, evs)...)
	}
	// Per agent: each handle in the bucket of the agent's first on_call.
	byCall := map[string]*handle{}
	var order []string
	for _, h := range handles {
		if h.first.IsZero() {
			continue
		}
		if q, known := e.callQueue[h.call]; e.only != nil && (!known || !e.only[q]) {
			continue // a filter keeps only the handles of its queues' calls
		}
		if i := e.bucket(h.first); i >= 0 {
			ah, _ := e.agent(h.agent)
			ah[i].add(h)
		}
		c, ok := byCall[h.call]
		if !ok {
			c = &handle{call: h.call, first: h.first}
			byCall[h.call] = c
			order = append(order, h.call)
		}
		c.first = minTime(c.first, h.first)
		c.talk += h.talk
		c.hold += h.hold
		c.wrap += h.wrap
	}
	// Per queue: each call once, in the bucket of its first on_call.
	for _, id := range order {
		c := byCall[id]
		queue, known := e.callQueue[id]
		i := e.bucket(c.first)
		if !known || i < 0 {
			continue
		}
		_, hs := e.queue(queue)
		hs[i].add(*c)
	}
}

// agentSpans counts one agent's time in state per bucket and returns the
// agent's handles. evs are in time order.
func (e *engine) agentSpans(agent string, evs []AgentEvent) []handle {
	var (
		cur     string // the call the agent is on
		handles []handle
		byCall  = map[string]int{}
	)
	for k, ev := range evs {
		st := normState(ev.State)
		from := ev.At
		to := e.cfg.eventsEnd()
		if k+1 < len(evs) {
			to = evs[k+1].At
		}
		if ev.CallID != "" {
			cur = ev.CallID
		}
		if !to.After(from) {
			continue
		}
		// Consulting another agent, the agent on the call has the caller on
		// hold: it counts as hold for them; the consulted agent's handle
		// starts when they take the call.
		handling := st == StateOnCall || st == StateOnHold || st == StateWrapUp || st == StateConsult
		if handling && cur != "" {
			j, ok := byCall[cur]
			if !ok {
				j = len(handles)
				byCall[cur] = j
				handles = append(handles, handle{agent: agent, call: cur})
			}
			h := &handles[j]
			d := to.Sub(from)
			switch st {
			case StateOnCall:
				if h.first.IsZero() {
					h.first = from
				}
				h.talk += d
			case StateOnHold:
				h.hold += d
			case StateConsult:
				if !h.first.IsZero() {
					h.hold += d
				}
			case StateWrapUp:
				h.wrap += d
			}
		}
		if st != StateSignedOut {
			e.addTime(agent, st, from, to)
		}
	}
	return handles
}

// addTime spreads a state's span [from, to) over the buckets it overlaps.
func (e *engine) addTime(agent, st string, from, to time.Time) {
	from, to = maxTime(from, e.cfg.From), minTime(to, e.end)
	if !to.After(from) {
		return
	}
	_, ts := e.agent(agent)
	for i := e.bucket(from); i >= 0 && i < len(e.starts); i++ {
		bEnd := e.cfg.To
		if i+1 < len(e.starts) {
			bEnd = e.starts[i+1]
		}
		s, t := maxTime(from, e.starts[i]), minTime(to, bEnd)
		if !t.After(s) {
			break
		}
		d := t.Sub(s)
		a := &ts[i]
		a.signedIn += d
		switch st {
		case StateOnCall, StateOnHold, StateWrapUp, StateConsult:
			a.handling += d
		case StateReady, StateOffered:
			a.available += d
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// report turns the sums into figures.
func (e *engine) report() Report {
	loc := e.cfg.location()
	r := Report{
		From: e.cfg.From.In(loc), To: e.cfg.To.In(loc), TimeZone: loc.String(), Bucket: e.cfg.Bucket.String(),
		AsOf: e.asOf.In(loc),
		Thresholds: Thresholds{
			ServiceLevelS: e.cfg.defaultThreshold().Seconds(), ShortAbandonS: e.short.Seconds(),
			OccupancyIdle: StateReady + "," + StateOffered, UtilizationBase: "all but " + StateSignedOut,
		},
	}
	for _, q := range sortedKeys(e.cfg.QueueThresholds) {
		if r.Thresholds.QueuesS == nil {
			r.Thresholds.QueuesS = map[string]float64{}
		}
		r.Thresholds.QueuesS[q] = e.cfg.threshold(q).Seconds()
	}
	queues, agents := sortedKeys(e.queues), sortedKeys(e.agentH)
	n := len(e.starts)
	var (
		totalQ  = map[string]*callAcc{}
		totalQH = map[string]*handleAcc{}
		totalAH = map[string]*handleAcc{}
		totalAT = map[string]*timeAcc{}
	)
	for _, q := range queues {
		totalQ[q], totalQH[q] = &callAcc{}, &handleAcc{}
	}
	for _, a := range agents {
		totalAH[a], totalAT[a] = &handleAcc{}, &timeAcc{}
	}
	build := func(start, end time.Time, qc func(string) callAcc, qh func(string) handleAcc,
		ah func(string) handleAcc, at func(string) timeAcc) Bucket {
		b := Bucket{Start: start.In(loc), End: end.In(loc), Queues: []QueueStats{}, Agents: []AgentStats{}}
		var allC callAcc
		var allH handleAcc
		var allT thresholds
		for _, q := range queues {
			c, h := qc(q), qh(q)
			var thr thresholds
			thr.add(e.cfg.threshold(q))
			allT.add(e.cfg.threshold(q))
			b.Queues = append(b.Queues, e.queueStats(q, c, h, thr))
			allC.merge(c)
			allH.merge(h)
		}
		if !allT.set {
			allT.add(e.cfg.defaultThreshold())
		}
		b.AllQueues = e.queueStats("", allC, allH, allT)
		var allAH handleAcc
		var allAT timeAcc
		for _, a := range agents {
			h, t := ah(a), at(a)
			b.Agents = append(b.Agents, agentStats(a, h, t))
			allAH.merge(h)
			allAT.merge(t)
		}
		b.AllAgents = agentStats("", allAH, allAT)
		return b
	}
	for i := range n {
		end := e.cfg.To
		if i+1 < n {
			end = e.starts[i+1]
		}
		for _, q := range queues {
			totalQ[q].merge(e.queues[q][i])
			totalQH[q].merge(e.handles[q][i])
		}
		for _, a := range agents {
			totalAH[a].merge(e.agentH[a][i])
			totalAT[a].merge(e.agentT[a][i])
		}
		r.Buckets = append(r.Buckets, build(e.starts[i], end,
			func(q string) callAcc { return e.queues[q][i] }, func(q string) handleAcc { return e.handles[q][i] },
			func(a string) handleAcc { return e.agentH[a][i] }, func(a string) timeAcc { return e.agentT[a][i] }))
	}
	r.Total = build(e.cfg.From, e.cfg.To,
		func(q string) callAcc { return *totalQ[q] }, func(q string) handleAcc { return *totalQH[q] },
		func(a string) handleAcc { return *totalAH[a] }, func(a string) timeAcc { return *totalAT[a] })
	return r
}

func (e *engine) queueStats(name string, c callAcc, h handleAcc, thr thresholds) QueueStats {
	s := e.short
	maxQ := fig(KeyMaxQueuedTime)
	if c.anyQueued {
		maxQ.Value = ptr(c.maxQueued.Seconds())
	}
	long := c.abandoned - c.short
	return QueueStats{
		Queue:          name,
		Offered:        count(KeyOffered, c.offered),
		Answered:       count(KeyAnswered, c.answered),
		Abandoned:      count(KeyAbandoned, c.abandoned),
		AbandonedShort: withShort(count(KeyAbandonedShort, c.short), s),
		Overflow:       count(KeyOverflow, c.overflow),
		LeftOther:      count(KeyLeftOther, c.other),
		Waiting:        count(KeyWaiting, c.waiting),

		ASA:             mean(KeyASA, c.answeredWait, c.answered),
		SLAnswered:      thr.apply(ratio(KeySLAnswered, c.answeredIn, c.answered)),
		SLDefault:       withShort(thr.apply(ratio(KeySLDefault, c.answeredIn, c.answered+long)), s),
		SLWithAbandons:  thr.apply(ratio(KeySLWithAbandons, c.answeredIn+c.abandonedIn, c.answered+c.abandoned)),
		SLLeftQueue:     thr.apply(ratio(KeySLLeftQueue, c.leftIn, c.offered)),
		AbandonRate:     ratio(KeyAbandonRate, c.abandoned, c.offered),
		AbandonRateLong: withShort(ratio(KeyAbandonRateLong, long, c.offered-c.short), s),
		AvgAbandonTime:  mean(KeyAvgAbandonTime, c.abandonWait, c.abandoned),
		MaxQueuedTime:   maxQ,

		Handled:   count(KeyHandled, h.handled),
		AHT:       mean(KeyAHT, h.talk+h.hold+h.wrap, h.handled),
		AvgTalk:   mean(KeyAvgTalk, h.talk, h.handled),
		AvgHold:   mean(KeyAvgHold, h.hold, h.handled),
		AvgWrapUp: mean(KeyAvgWrapUp, h.wrap, h.handled),
	}
}

func agentStats(name string, h handleAcc, t timeAcc) AgentStats {
	return AgentStats{
		Agent:       name,
		Handled:     count(KeyHandled, h.handled),
		AHT:         mean(KeyAHT, h.talk+h.hold+h.wrap, h.handled),
		AvgTalk:     mean(KeyAvgTalk, h.talk, h.handled),
		AvgHold:     mean(KeyAvgHold, h.hold, h.handled),
		AvgWrapUp:   mean(KeyAvgWrapUp, h.wrap, h.handled),
		Occupancy:   timeRatio(KeyOccupancy, t.handling, t.handling+t.available),
		Utilization: timeRatio(KeyUtilization, t.handling, t.signedIn),
	}
}
