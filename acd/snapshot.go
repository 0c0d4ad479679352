package acd

import (
	"cmp"
	"slices"
)

// snapshot copies the state. It costs time in proportion to all calls and
// agents, so it is for supervisor views and tests, not per-call use.
func (m *machine) snapshot() Snapshot {
	s := Snapshot{At: m.now}
	byQueue := make([][]*call, len(m.queues))
	for _, c := range m.calls {
		byQueue[c.q.idx] = append(byQueue[c.q.idx], c)
	}
	for _, q := range m.queues {
		qs := QueueSnapshot{
			Name: q.cfg.Name, Waiting: q.waiting + q.reserved, Reserved: q.reserved, Ringing: q.ringing, Talking: q.talking,
			Staffed: q.staffed(), SignedIn: q.signedIn(), AHT: q.aht,
		}
		calls := byQueue[q.idx]
		slices.SortFunc(calls, func(x, y *call) int {
			if x.state != y.state {
				return cmp.Compare(x.state, y.state)
			}
			if x.prio != y.prio {
				return cmp.Compare(y.prio, x.prio)
			}
			if before(x, y) {
				return -1
			}
			return 1
		})
		for i, c := range calls {
			cs := CallSnapshot{
				Call: c.id, Priority: c.prio, Waited: m.now.Sub(c.joined),
				Language: c.lang, Skills: slices.Clone(c.skills),
			}
			switch c.state {
			case callWaiting:
				cs.State, cs.Position = "waiting", i+1
				qs.LongestWait = max(qs.LongestWait, cs.Waited)
			case callOffered:
				cs.State = "ringing"
				for _, a := range c.offers {
					cs.Agents = append(cs.Agents, a.id)
				}
			case callConnected:
				cs.State = "connected"
				cs.Agents = []string{c.agent.id}
				if c.consult != nil {
					cs.Consult = c.consult.to.id
				}
			case callReserved:
				cs.State = "reserved"
				cs.Agents = []string{c.target.id}
			}
			qs.Calls = append(qs.Calls, cs)
		}
		s.Queues = append(s.Queues, qs)
	}
	for _, a := range m.agents {
		as := AgentSnapshot{Agent: a.id, State: a.state, Reason: a.reason, Since: a.since, Connected: a.connected}
		switch {
		case a.call != nil:
			as.Call = a.call.id
		case a.offer != nil:
			as.Call = a.offer.id
		case a.consultOf != nil:
			as.Call = a.consultOf.id
		}
		for _, mb := range a.members {
			as.Queues = append(as.Queues, mb.q.cfg.Name)
		}
		s.Agents = append(s.Agents, as)
	}
	slices.SortFunc(s.Agents, func(x, y AgentSnapshot) int { return cmp.Compare(x.Agent, y.Agent) })
	return s
}
