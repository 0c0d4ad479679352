package acd

import "time"

// Waiting calls live in buckets: one per (queue, priority, set of skills the
// caller asked for). Inside a bucket calls are a heap ordered by join time,
// so the head is the call that has waited longest. All calls of a bucket need
// the same skills, and widening only lowers levels as the wait grows, so if
// an agent may not take the head it may take no call of that bucket. Finding
// the best call for an agent therefore looks only at bucket heads: the cost
// depends on the number of buckets, never on the number of waiting calls.
type bucket struct {
	key   bucketKey
	calls []*call
}

type bucketKey struct {
	skills string
	prio   int
}

// before orders calls of one priority: joined earlier, then entered first.
func before(x, y *call) bool {
	if !x.joined.Equal(y.joined) {
		return x.joined.Before(y.joined)
	}
	return x.seq < y.seq
}

// push adds a waiting call to its bucket.
func (m *machine) push(c *call) {
	q := c.q
	key := bucketKeyOf(c)
	b := q.byKey[key]
	if b == nil {
		b = &bucket{key: key}
		q.byKey[key] = b
		q.buckets = append(q.buckets, b)
	}
	c.b, c.idx = b, len(b.calls)
	b.calls = append(b.calls, c)
	b.up(c.idx)
	q.waiting++
}

// pop removes a waiting call from its bucket, dropping the bucket when empty.
func (m *machine) pop(c *call) {
	b, q := c.b, c.q
	i, last := c.idx, len(b.calls)-1
	if i != last {
		b.swap(i, last)
	}
	b.calls[last] = nil
	b.calls = b.calls[:last]
	if i != last {
		if !b.down(i) {
			b.up(i)
		}
	}
	c.b, c.idx = nil, -1
	q.waiting--
	if len(b.calls) == 0 {
		delete(q.byKey, b.key)
		for j, o := range q.buckets {
			if o == b {
				q.buckets[j] = q.buckets[len(q.buckets)-1]
				q.buckets[len(q.buckets)-1] = nil
				q.buckets = q.buckets[:len(q.buckets)-1]
				break
			}
		}
	}
}

func (b *bucket) swap(i, j int) {
	b.calls[i], b.calls[j] = b.calls[j], b.calls[i]
	b.calls[i].idx, b.calls[j].idx = i, j
}

func (b *bucket) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !before(b.calls[i], b.calls[p]) {
			return
		}
		b.swap(i, p)
		i = p
	}
}

func (b *bucket) down(i int) bool {
	start, n := i, len(b.calls)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && before(b.calls[r], b.calls[l]) {
			j = r
		}
		if !before(b.calls[j], b.calls[i]) {
			break
		}
		b.swap(i, j)
		i = j
	}
	return i > start
}

// eligible says whether a member's skill levels meet c's current requirements.
func eligible(mb *membership, c *call) bool {
	for _, r := range c.req {
		if mb.level(r.id) < r.min {
			return false
		}
	}
	return true
}

// better is the cross-queue routing rule: higher priority first, then the
// call that joined its queue earlier, then the queue listed first in the
// configuration, then the call that joined first.
func better(x, y *call) bool {
	switch {
	case y == nil:
		return true
	case x.prio != y.prio:
		return x.prio > y.prio
	case !x.joined.Equal(y.joined):
		return x.joined.Before(y.joined)
	case x.q.idx != y.q.idx:
		return x.q.idx < y.q.idx
	}
	return x.seq < y.seq
}

// routeAgent offers a, if ready, the oldest call transferred to it, or else
// the best waiting call (see better) that it may take.
func (m *machine) routeAgent(a *agent) {
	if a.state != StateReady {
		return
	}
	if len(a.reserved) > 0 {
		m.scratch = append(m.scratch[:0], a)
		m.offer(a.reserved[0], m.scratch)
		return
	}
	var best *call
	for _, mb := range a.members {
		for _, b := range mb.q.buckets {
			if h := b.calls[0]; better(h, best) && eligible(mb, h) {
				best = h
			}
		}
	}
	switch {
	case best == nil:
	case best.q.cfg.Strategy == RingAll:
		m.routeCall(best) // rings a and any other eligible ready member
	default:
		m.scratch = append(m.scratch[:0], a)
		m.offer(best, m.scratch)
	}
}

// routeCall offers a waiting call to the ready member(s) its queue's
// strategy picks. No ready agent may take any other waiting call (routeAgent
// ran when each became ready), so c is the only candidate for them.
func (m *machine) routeCall(c *call) {
	if c.state != callWaiting {
		return
	}
	q := c.q
	var pick *membership
	cands := m.scratch[:0]
	n := len(q.members)
	for k := range n {
		i := k
		if q.cfg.Strategy == RoundRobin {
			i = (q.rr + k) % n
		}
		mb := q.members[i]
		if mb.a.state != StateReady || !eligible(mb, c) {
			continue
		}
		switch q.cfg.Strategy {
		case RingAll, Random:
			cands = append(cands, mb.a)
		case Linear, RoundRobin:
			if pick == nil {
				pick = mb
			}
		case FewestCalls:
			if pick == nil || mb.answered < pick.answered ||
				(mb.answered == pick.answered && idler(mb.a.idleSince, pick.a.idleSince)) {
				pick = mb
			}
		default: // LongestIdle
			if pick == nil || idler(mb.a.idleSince, pick.a.idleSince) {
				pick = mb
			}
		}
	}
	switch {
	case q.cfg.Strategy == Random && len(cands) > 0:
		cands[0] = cands[m.rng.IntN(len(cands))]
		cands = cands[:1]
	case pick != nil:
		if q.cfg.Strategy == RoundRobin {
			q.rr = (pick.order + 1) % n
		}
		cands = append(cands, pick.a)
	}
	m.scratch = cands
	if len(cands) > 0 {
		m.offer(c, cands)
	}
}

// idler says whether an agent ready since x has been idle longer than one
// ready since y; ties keep the earlier member.
func idler(x, y time.Time) bool { return x.Before(y) }

// timer is one entry of the machine's timer heap. Entries are never removed
// early: an entry whose gen no longer matches its owner's is stale and skipped.
type timer struct {
	at  time.Time
	seq uint64
	c   *call
	a   *agent
	gen uint64
}

type timerHeap []timer

func (h timerHeap) less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *timerHeap) pop() timer {
	s := *h
	t := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = timer{}
	s = s[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		j := l
		if r := l + 1; r < len(s) && s.less(r, l) {
			j = r
		}
		if !s.less(j, i) {
			break
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
	*h = s
	return t
}
