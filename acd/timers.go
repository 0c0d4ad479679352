package acd

import "time"

// advance runs every timer due by now, each at its own time.
func (m *machine) advance(now time.Time) {
	for len(m.timers) > 0 && !m.timers[0].at.After(now) {
		t := m.timers.pop()
		if t.at.After(m.now) {
			m.now = t.at
		}
		switch {
		case t.c != nil && t.gen == t.c.timerGen && t.c.state != 0:
			t.c.timerLive = false
			m.callTimer(t.c)
		case t.a != nil && t.gen == t.a.timerGen:
			m.agentDue(t.a)
		}
	}
	if now.After(m.now) {
		m.now = now
	}
}

// nextTimer is when advance next has work, if ever.
func (m *machine) nextTimer() (time.Time, bool) {
	for len(m.timers) > 0 {
		t := m.timers[0]
		if (t.c != nil && (t.gen != t.c.timerGen || t.c.state == 0)) || (t.a != nil && t.gen != t.a.timerGen) {
			m.timers.pop() // stale
			continue
		}
		return t.at, true
	}
	return time.Time{}, false
}

func (m *machine) agentTimer(a *agent, at time.Time) {
	a.timerGen++
	m.timeSeq++
	m.timers.push(timer{at: at, seq: m.timeSeq, a: a, gen: a.timerGen})
}

func (m *machine) agentDue(a *agent) {
	switch {
	case a.state == StateOffered && !m.now.Before(a.offerDeadline):
		m.dropOffer(a, "ring timeout", StateNotReady, ReasonMissedCall)
	case a.state == StateWrapUp && !m.now.Before(a.wrapEnd):
		m.finishWork(a)
	case a.state == StateConsult && a.consultOf != nil && !a.consultOf.consult.talking:
		m.consultGone(a, "ring timeout")
		m.setState(a, StateNotReady, ReasonMissedCall, nil)
	}
}

// callTimer handles whatever is due for c (end of a transfer wait,
// widening, maximum wait, announcement) and arms its next timer.
func (m *machine) callTimer(c *call) {
	q := c.q
	if c.state == callConnected || c.state == 0 {
		return
	}
	if c.state == callReserved && !m.now.Before(c.reserveEnd) {
		m.lapse(c, "transfer wait")
		return
	}
	if c.stage < len(q.cfg.Widen) && !m.now.Before(c.joined.Add(q.cfg.Widen[c.stage].After)) {
		m.widen(c)
		if c.state == callWaiting {
			m.routeCall(c)
		}
	}
	if c.state == callWaiting && q.cfg.MaxWait > 0 && !m.now.Before(c.waitFrom.Add(q.cfg.MaxWait)) {
		m.overflow(c, "max wait")
		return
	}
	if every := q.cfg.AnnounceEvery; every > 0 && !m.now.Before(c.nextAnn) {
		if c.state == callWaiting {
			m.announce(c)
		}
		for !m.now.Before(c.nextAnn) { // one or two rounds: skip missed slots
			c.nextAnn = c.nextAnn.Add(every * (m.now.Sub(c.nextAnn)/every + 1))
		}
	}
	m.armCall(c)
}

func (m *machine) armCall(c *call) {
	q := c.q
	var next time.Time
	consider := func(t time.Time) {
		if t.After(m.now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if c.stage < len(q.cfg.Widen) {
		consider(c.joined.Add(q.cfg.Widen[c.stage].After))
	}
	if q.cfg.MaxWait > 0 {
		consider(c.waitFrom.Add(q.cfg.MaxWait))
	}
	if c.state == callReserved {
		consider(c.reserveEnd)
	}
	if q.cfg.AnnounceEvery > 0 {
		consider(c.nextAnn)
	}
	if next.IsZero() || (c.timerLive && c.timerAt.Equal(next)) {
		return
	}
	c.timerGen++
	c.timerAt, c.timerLive = next, true
	m.timeSeq++
	m.timers.push(timer{at: next, seq: m.timeSeq, c: c, gen: c.timerGen})
}

// announce tells a waiting caller its position and EWT when either changed.
func (m *machine) announce(c *call) {
	pos := m.position(c)
	ewt := m.ewt(c.q, pos)
	if c.announced && pos == c.annPos && ewt == c.annEWT {
		return
	}
	c.announced, c.annPos, c.annEWT = true, pos, ewt
	m.emit(Decision{Kind: Announce, Call: c.id, Queue: c.q.cfg.Name, Position: pos, EWT: ewt, Language: c.lang})
}

// position is 1 + the number of waiting calls of c's queue ahead of it:
// higher priority, or the same priority and joined earlier.
func (m *machine) position(c *call) int {
	pos := 1
	for _, b := range c.q.buckets {
		switch {
		case b.key.prio > c.prio:
			pos += len(b.calls)
		case b.key.prio == c.prio:
			for _, o := range b.calls {
				if o != c && before(o, c) {
					pos++
				}
			}
		}
	}
	return pos
}

// ewt estimates the wait of the caller at pos: pos × AHT ÷ agents staffed,
// rounded up to whole minutes and capped at MaxEWT.
func (m *machine) ewt(q *queue, pos int) time.Duration {
	staffed := max(1, q.staffed())
	est := float64(max(pos, 0)) * float64(max(q.aht, 0)) / float64(staffed)
	if est >= float64(MaxEWT) {
		return MaxEWT
	}
	return min(MaxEWT, (time.Duration(est) + time.Minute - 1).Truncate(time.Minute))
}
