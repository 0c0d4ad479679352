package acd

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchCenter is a large call center: 2,000 agents in 50 queues (each agent
// in two queues, with skill levels), every agent on a call, and `waiting`
// calls queued with mixed priorities and skills.
type benchCenter struct {
	m      *machine
	now    time.Time
	onCall map[string]string // agent → call
	agents []string
	next   int
	shapes map[string]Input // call → how it was queued
}

func newBenchCenter(b testing.TB, waiting int) *benchCenter {
	b.Helper()
	const nQueues, nAgents = 50, 2000
	cfg := Config{}
	for q := range nQueues {
		qc := QueueConfig{
			Name: fmt.Sprintf("q%02d", q), JoinWhenEmpty: true, MaxWait: time.Hour,
			Widen: []Widening{{After: 10 * time.Minute, Skills: map[string]int{"tech": 1}}},
		}
		switch q % 5 {
		case 0:
			qc.RequiredSkills = map[string]int{"tech": 3}
		case 1, 2:
			qc.RequiredSkills = map[string]int{"tech": 2}
		}
		cfg.Queues = append(cfg.Queues, qc)
	}
	c := &benchCenter{onCall: map[string]string{}, shapes: map[string]Input{}}
	for i := range nAgents {
		id := fmt.Sprintf("agent%04d", i)
		c.agents = append(c.agents, id)
		skills := map[string]int{"tech": 2 + i%2, "ru": min(1, i%4), "en": 1}
		for _, q := range []int{i % nQueues, (i*7 + 3) % nQueues} {
			if !slices.ContainsFunc(cfg.Queues[q].Members, func(m Member) bool { return m.Agent == id }) {
				cfg.Queues[q].Members = append(cfg.Queues[q].Members, Member{Agent: id, Skills: skills})
			}
		}
	}
	a, err := New(cfg, Options{Now: func() time.Time { return time.Unix(1_000_000, 0) }})
	if err != nil {
		b.Fatal(err)
	}
	c.m, c.now = a.m, a.m.now
	for _, id := range c.agents {
		c.apply(Input{Kind: AgentSignedIn, Agent: id})
	}
	for c.m.queuedTotal() < waiting+nAgents {
		c.addCall()
	}
	for _, id := range c.agents { // everyone takes a call
		c.apply(Input{Kind: AgentReady, Agent: id})
	}
	for c.m.waitingTotal() < waiting {
		c.addCall()
	}
	if len(c.onCall) < nAgents*9/10 {
		b.Fatalf("only %d agents got a call", len(c.onCall))
	}
	return c
}

var benchSkills = [][]string{nil, {"en"}, {"ru"}, {"tech"}, {"en", "tech"}}

func (c *benchCenter) addCall() {
	n := c.next
	c.addLike(Input{Queue: fmt.Sprintf("q%02d", n%50), Priority: n % 3, Skills: benchSkills[n%len(benchSkills)]})
}

// addLike queues a new call shaped like in (queue, priority, skills), so
// replacing each answered call with one like it keeps the mix of waiting
// calls steady.
func (c *benchCenter) addLike(in Input) {
	c.next++
	in.Kind, in.Call = CallQueued, fmt.Sprintf("call%07d", c.next)
	c.shapes[in.Call] = in
	c.apply(in)
}

// apply runs one input and answers every offer it produced.
func (c *benchCenter) apply(in Input) {
	c.m.apply(in, c.now)
	c.answer()
}

func (c *benchCenter) answer() {
	for i := 0; i < len(c.m.out); i++ {
		if d := c.m.out[i]; d.Kind == Offer {
			c.m.apply(Input{Kind: OfferAccepted, Call: d.Call, Agent: d.Agent}, c.now)
			c.onCall[d.Agent] = d.Call
		}
	}
	c.m.out = c.m.out[:0]
}

func (m *machine) waitingTotal() int {
	n := 0
	for _, q := range m.queues {
		n += q.waiting
	}
	return n
}

func (m *machine) queuedTotal() int { return len(m.calls) }

// BenchmarkRouteAgentReady measures one routing decision: an agent's call
// ends, the agent becomes ready and is offered the best waiting call of its
// queues. Between decisions (also timed, but not in the p99 figure) the
// offer is accepted and a call like the one that ended is queued, so the
// number and mix of waiting calls stay put.
func BenchmarkRouteAgentReady(b *testing.B) {
	for _, waiting := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("waiting=%d", waiting), func(b *testing.B) {
			c := newBenchCenter(b, waiting)
			lat := make([]time.Duration, 0, min(b.N, 1<<20))
			busy := make([]string, 0, len(c.onCall))
			for _, a := range c.agents {
				if c.onCall[a] != "" {
					busy = append(busy, a)
				}
			}
			offers := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				agent := busy[i%len(busy)]
				call := c.onCall[agent]
				if call == "" { // it was left ready with nothing it may take
					c.addCall()
					continue
				}
				start := time.Now()
				c.m.apply(Input{Kind: CallEnded, Call: call}, c.now)
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(start))
				}
				delete(c.onCall, agent)
				for _, d := range c.m.out {
					if d.Kind == Offer {
						offers++
					}
				}
				c.answer()
				c.addLike(c.shapes[call])
				delete(c.shapes, call)
			}
			b.StopTimer()
			if w := c.m.waitingTotal(); w < waiting*9/10 {
				b.Fatalf("waiting calls fell to %d", w)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns/decision")
			b.ReportMetric(float64(offers)/float64(b.N), "offers/op")
		})
	}
}

// TestRoutingDoesNotAllocate checks that a routing decision (call ends,
// agent ready, best call offered) allocates nothing with 10,000 calls waiting.
func TestRoutingDoesNotAllocate(t *testing.T) {
	c := newBenchCenter(t, 10000)
	var busy []string
	for _, a := range c.agents {
		if c.onCall[a] != "" {
			busy = append(busy, a)
		}
	}
	k, offers := 0, 0
	allocs := testing.AllocsPerRun(500, func() {
		agent := busy[k]
		k++
		c.m.apply(Input{Kind: CallEnded, Call: c.onCall[agent]}, c.now)
		for _, d := range c.m.out {
			if d.Kind == Offer {
				offers++
			}
		}
		c.m.out = c.m.out[:0]
	})
	require.Greater(t, offers, 450, "nearly every freed agent finds a call")
	require.Zero(t, allocs)
}
