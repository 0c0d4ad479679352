package acd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// machine is the ACD's whole state and logic, single-threaded and
// deterministic: the same inputs at the same times give the same decisions.
// The actor (ACD.Run) owns one; tests drive one directly.
type machine struct {
	now     time.Time
	queues  []*queue
	byName  map[string]*queue
	agents  map[string]*agent
	calls   map[string]*call
	skills  map[string]int32 // interned skill names
	reasons map[string]bool  // allowed not-ready reasons
	timers  timerHeap
	rng     *rand.Rand
	callSeq uint64
	timeSeq uint64
	decSeq  uint64
	out     []Decision // decisions not yet taken by the owner
	scratch []*agent
}

// maxBackdate bounds how far in the past an input's At may put a join.
const maxBackdate = 24 * time.Hour

type callState uint8

const (
	callWaiting callState = iota + 1
	callOffered
	callConnected
	callReserved // transferred to an agent, not yet offered to them: in their FIFO, in no bucket
)

type call struct {
	id       string
	q        *queue
	prio     int
	skills   []string // sorted, unique
	skillIDs []int32  // parallel to skills
	lang     string
	joined   time.Time // joined the current queue: its place in line, and widening
	seq      uint64    // order of joining; ties on joined
	state    callState
	waitFrom time.Time // MaxWait counts from here: joining, or the last transfer to an agent

	// A call transferred to an agent is reserved for them (target) until it
	// is answered or the reservation lapses: at reserveEnd while it waits in
	// their FIFO, or when an offer to them fails.
	target     *agent
	reserveEnd time.Time

	b   *bucket // while waiting
	idx int     // index in b.calls

	offers      []*agent  // ringing agents
	offers1     [1]*agent // backing array for the usual single offer
	agent       *agent    // connected agent
	stage       int       // widening stages applied
	req         []skillReq
	nextAnn     time.Time
	annPos      int
	annEWT      time.Duration
	announced   bool
	timerGen    uint64
	timerAt     time.Time
	timerLive   bool
	answeredVia *membership

	consult *consultation // a consultation under way (consult.go)
}

type skillReq struct {
	id  int32
	min int
}

type queue struct {
	idx      int
	cfg      QueueConfig
	members  []*membership
	baseReq  []skillReq      // from RequiredSkills, by skill id
	widen    []map[int32]int // per stage
	overflow string          // normalised target
	ovQueue  *queue          // set for queue:NAME targets
	buckets  []*bucket
	byKey    map[bucketKey]*bucket
	waiting  int // in buckets
	reserved int // reserved for an agent, not ringing
	ringing  int
	talking  int
	rr       int
	aht      time.Duration
}

type membership struct {
	q        *queue
	a        *agent
	order    int
	levels   []int // by skill id
	answered int
}

func (m *membership) level(id int32) int {
	if id >= 0 && int(id) < len(m.levels) {
		return m.levels[id]
	}
	return 0
}

type agent struct {
	id        string
	state     State
	reason    string
	since     time.Time
	idleSince time.Time
	members   []*membership
	connected bool

	offer         *call
	offerDeadline time.Time
	call          *call
	handleStart   time.Time
	handleQ       *queue
	wrapEnd       time.Time

	pendingSignOut bool
	pendingNR      bool
	pendingReason  string

	// reserved are the calls transferred to this agent, oldest first; each
	// is callReserved. Routing the agent offers these before any queue call,
	// so the list is empty whenever the agent is ready.
	reserved []*call

	// consultOf is the call this agent is consulted on (consult.go): they
	// are the target, ringing or talking to the agent on it.
	consultOf *call

	timerGen uint64
}

// newMachine builds the state for a validated, normalised configuration.
func newMachine(cfg Config, seed uint64) *machine {
	m := &machine{
		byName:  map[string]*queue{},
		agents:  map[string]*agent{},
		calls:   map[string]*call{},
		skills:  map[string]int32{},
		reasons: map[string]bool{"": true, ReasonMissedCall: true, ReasonDisconnected: true, ReasonRejected: true, ReasonAudio: true},
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	for _, r := range cfg.NotReadyReasons {
		m.reasons[r] = true
	}
	// Intern every configured skill first, in a stable order, so ids and
	// member level tables do not depend on map iteration.
	var names []string
	for _, q := range cfg.Queues {
		names = append(names, sortedKeys(q.RequiredSkills)...)
		for _, w := range q.Widen {
			names = append(names, sortedKeys(w.Skills)...)
		}
		for _, mb := range q.Members {
			names = append(names, sortedKeys(mb.Skills)...)
		}
	}
	for _, n := range names {
		m.skillID(n)
	}
	for i, qc := range cfg.Queues {
		q := &queue{idx: i, cfg: qc, byKey: map[bucketKey]*bucket{}, aht: DefaultHandleTime}
		for s, l := range qc.RequiredSkills {
			q.baseReq = append(q.baseReq, skillReq{m.skillID(s), l})
		}
		slices.SortFunc(q.baseReq, func(x, y skillReq) int { return int(x.id - y.id) })
		for _, w := range qc.Widen {
			st := map[int32]int{}
			for s, l := range w.Skills {
				st[m.skillID(s)] = l
			}
			q.widen = append(q.widen, st)
		}
		q.overflow = qc.Overflow
		if q.overflow == "" {
			q.overflow = TargetHangup
		}
		m.queues = append(m.queues, q)
		m.byName[qc.Name] = q
	}
	for _, q := range m.queues {
		if kind, arg, _ := parseTarget(q.overflow); kind == "queue" {
			q.ovQueue = m.byName[arg]
		}
		for j, mc := range q.cfg.Members {
			a := m.agent(mc.Agent)
			mb := &membership{q: q, a: a, order: j, levels: make([]int, len(m.skills))}
			for s, l := range mc.Skills {
				mb.levels[m.skills[s]] = l
			}
			q.members = append(q.members, mb)
			a.members = append(a.members, mb)
		}
	}
	return m
}

func (m *machine) skillID(name string) int32 {
	if id, ok := m.skills[name]; ok {
		return id
	}
	id := int32(len(m.skills))
	m.skills[name] = id
	return id
}

// agent returns the agent with id, creating it signed out.
func (m *machine) agent(id string) *agent {
	a := m.agents[id]
	if a == nil {
		a = &agent{id: id, state: StateSignedOut}
		m.agents[id] = a
	}
	return a
}

func (m *machine) emit(d Decision) {
	m.decSeq++
	d.Seq = m.decSeq
	d.At = m.now
	m.out = append(m.out, d)
}

func (m *machine) reject(in Input, format string, args ...any) {
	m.emit(Decision{Kind: Rejected, Input: in.Kind, Call: in.Call, Agent: in.Agent, Queue: in.Queue, Reason: fmt.Sprintf(format, args...)})
}

// setState moves a to st and reports it.
func (m *machine) setState(a *agent, st State, reason string, c *call) {
	a.state, a.reason, a.since = st, reason, m.now
	if st == StateReady {
		a.idleSince = m.now
	}
	d := Decision{Kind: AgentStateChanged, Agent: a.id, State: st, Reason: reason}
	if c != nil {
		d.Call, d.Queue = c.id, c.q.cfg.Name
	}
	m.emit(d)
}

// apply runs the timers due by now, then one input.
func (m *machine) apply(in Input, now time.Time) {
	m.advance(now)
	switch in.Kind {
	case Tick:
	case CallQueued:
		m.callQueued(in)
	case CallerHungUp, CallEnded, CallHeld, CallResumed, CallTransferred:
		c := m.calls[in.Call]
		if c == nil {
			m.reject(in, "no call %q in the ACD", in.Call)
			return
		}
		m.callInput(in, c)
	case AgentSignedIn, AgentReady, AgentNotReady, AgentSignedOut, AgentDisconnected, WrapUpDone:
		if in.Agent == "" {
			m.reject(in, "no agent given")
			return
		}
		m.agentInput(in)
	case OfferAccepted, OfferRejected:
		m.offerAnswer(in)
	case ConsultRequested, ConsultAccepted, ConsultRejected, ConsultCompleted, ConsultCancelled:
		m.consultInput(in)
	default:
		m.reject(in, "unknown input kind %q", in.Kind)
	}
}

func (m *machine) callQueued(in Input) {
	switch {
	case in.Call == "":
		m.reject(in, "no call id given")
		return
	case m.calls[in.Call] != nil:
		m.reject(in, "call %q is already in the ACD", in.Call)
		return
	}
	q := m.byName[in.Queue]
	if q == nil {
		m.reject(in, "no queue %q", in.Queue)
		return
	}
	skills := slices.Clone(in.Skills)
	slices.Sort(skills)
	skills = slices.Compact(skills)
	c := &call{id: in.Call, prio: in.Priority, skills: skills, lang: in.Language}
	c.offers = c.offers1[:0]
	for _, s := range skills {
		c.skillIDs = append(c.skillIDs, m.skillID(s))
	}
	// A join time from the past (a call handed over after a failover) counts;
	// one from the future, or absurdly old, does not.
	joined := in.At
	if joined.IsZero() || joined.After(m.now) || joined.Before(m.now.Add(-maxBackdate)) {
		joined = m.now
	}
	m.calls[c.id] = c
	m.join(c, q, joined)
}

// join puts c into q, or overflows it when q refuses it.
func (m *machine) join(c *call, q *queue, joined time.Time) {
	c.q = q
	if !q.cfg.JoinWhenEmpty && q.signedIn() == 0 {
		m.overflow(c, "queue empty")
		return
	}
	if q.cfg.MaxLen > 0 && q.waiting+q.reserved+q.ringing >= q.cfg.MaxLen {
		m.overflow(c, "queue full")
		return
	}
	m.callSeq++
	c.seq, c.joined, c.waitFrom, c.stage, c.announced = m.callSeq, joined, joined, 0, false
	c.nextAnn = joined
	m.widen(c)
	c.state = callWaiting
	m.push(c)
	m.routeCall(c)
	m.callTimer(c)
}

// overflow sends c out of its queue to the queue's overflow target.
func (m *machine) overflow(c *call, reason string) {
	q := c.q
	m.detach(c)
	m.emit(Decision{Kind: Overflow, Call: c.id, Queue: q.cfg.Name, Target: q.overflow, Reason: reason, Language: c.lang})
	if q.ovQueue != nil { // Validate rules out loops, so this ends
		m.calls[c.id] = c
		m.join(c, q.ovQueue, m.now)
	}
}

// detach removes c from its queue and the ACD, wherever it was.
func (m *machine) detach(c *call) {
	switch c.state {
	case callWaiting:
		m.pop(c)
	case callReserved:
		m.unreserve(c)
	case callOffered:
		c.q.ringing--
	case callConnected:
		c.q.talking--
	}
	c.state = 0
	c.target = nil
	c.timerGen++
	c.timerLive = false
	delete(m.calls, c.id)
}

func (m *machine) callInput(in Input, c *call) {
	switch in.Kind {
	case CallerHungUp, CallEnded:
		m.callGone(c, "caller hung up")
	case CallHeld, CallResumed:
		a := c.agent
		switch {
		case c.state != callConnected:
			m.reject(in, "call %q is not connected", c.id)
		case in.Kind == CallHeld && a.state == StateOnCall:
			m.setState(a, StateOnHold, "", c)
		case in.Kind == CallResumed && a.state == StateOnHold:
			m.setState(a, StateOnCall, "", c)
		}
	case CallTransferred:
		q := m.byName[in.Queue]
		switch {
		case c.state != callConnected:
			m.reject(in, "call %q is not connected", c.id)
		case c.consult != nil:
			m.reject(in, "a consultation on call %q is under way; complete or cancel it", c.id)
		case in.Agent != "" && in.Queue != "":
			m.reject(in, "transfer to a queue or to an agent, not both")
		case in.Agent != "":
			m.transferToAgent(in, c)
		case q == nil:
			m.reject(in, "no queue %q", in.Queue)
		default:
			a := c.agent
			m.emit(Decision{Kind: Transferred, Call: c.id, Agent: a.id, Queue: q.cfg.Name, Target: "queue:" + q.cfg.Name})
			m.detach(c)
			c.agent = nil
			m.endCall(a, c)
			m.calls[c.id] = c
			m.join(c, q, m.now)
		}
	}
}

// transferToAgent reserves a connected call for the agent in.Agent: it stays
// in its queue, offered to that agent alone and before any queue call, until
// they take it or the reservation lapses (see lapse).
func (m *machine) transferToAgent(in Input, c *call) {
	from, to := c.agent, m.agents[in.Agent]
	switch {
	case to == nil:
		m.reject(in, "no agent %q", in.Agent)
		return
	case to == from:
		m.reject(in, "agent %q is already on the call", in.Agent)
		return
	case to.state == StateSignedOut:
		m.reject(in, "agent %q is not signed in", in.Agent)
		return
	case !to.connected:
		m.reject(in, "agent %q is not connected", in.Agent)
		return
	case to.pendingSignOut:
		m.reject(in, "agent %q is signing out", in.Agent)
		return
	}
	q := c.q
	m.emit(Decision{Kind: Transferred, Call: c.id, Agent: from.id, Queue: q.cfg.Name, Target: "agent:" + to.id})
	q.talking--
	q.reserved++
	c.agent = nil
	c.state = callReserved
	c.target, c.reserveEnd, c.waitFrom = to, m.now.Add(q.cfg.TransferWait), m.now
	to.reserved = append(to.reserved, c)
	m.endCall(from, c)
	m.callTimer(c) // arms the end of the transfer wait
	m.routeAgent(to)
}

// unreserve takes a reserved call out of its target's FIFO.
func (m *machine) unreserve(c *call) {
	t := c.target
	if i := slices.Index(t.reserved, c); i >= 0 {
		t.reserved = slices.Delete(t.reserved, i, i+1)
	}
	c.q.reserved--
}

// lapse ends the reservation of c, reserved for its target or ringing for
// them alone: the call goes back to normal routing in its queue, where its
// join time (it has waited already) puts it ahead of the calls that joined
// after it. MaxWait counts from the transfer.
func (m *machine) lapse(c *call, reason string) {
	q, t := c.q, c.target
	switch c.state {
	case callReserved:
		m.unreserve(c)
	case callOffered:
		q.ringing--
	}
	c.target = nil
	m.emit(Decision{Kind: TransferLapsed, Call: c.id, Agent: t.id, Queue: q.cfg.Name, Reason: reason})
	c.state = callWaiting
	m.widen(c)
	m.push(c)
	switch {
	case q.cfg.MaxWait > 0 && !m.now.Before(c.waitFrom.Add(q.cfg.MaxWait)):
		m.overflow(c, "max wait")
	case q.cfg.LeaveWhenEmpty && q.signedIn() == 0:
		m.overflow(c, "queue empty")
	default:
		m.routeCall(c)
		m.callTimer(c)
	}
}

// lapseAll ends every reservation for a (it signed out or its browser went away).
func (m *machine) lapseAll(a *agent, reason string) {
	for len(a.reserved) > 0 {
		m.lapse(a.reserved[0], reason)
	}
}

// callGone handles a call that ended, whatever its state.
func (m *machine) callGone(c *call, reason string) {
	switch c.state {
	case callWaiting, callReserved:
		m.detach(c)
	case callOffered:
		offers := slices.Clone(c.offers)
		m.detach(c)
		for _, a := range offers {
			m.withdraw(a, reason)
			m.setState(a, StateReady, "", nil)
		}
		for _, a := range offers {
			m.routeAgent(a)
		}
	case callConnected:
		a := c.agent
		if k := c.consult; k != nil {
			m.endConsult(c, reason)
			m.finishWork(k.to)
		}
		m.detach(c)
		c.agent = nil
		m.endCall(a, c)
	}
}

// endCall moves a out of a finished call: to wrap-up, or straight on.
func (m *machine) endCall(a *agent, c *call) {
	a.call = nil
	switch {
	case a.pendingSignOut:
		m.finishWork(a)
	case !a.connected:
		m.sample(a)
		m.setState(a, StateNotReady, ReasonDisconnected, nil)
	case c.q.cfg.WrapUp > 0:
		a.wrapEnd = m.now.Add(c.q.cfg.WrapUp)
		m.setState(a, StateWrapUp, "", c)
		m.agentTimer(a, a.wrapEnd)
	default:
		m.finishWork(a)
	}
}

// sample feeds the handle time of a's last call into its queue's AHT.
func (m *machine) sample(a *agent) {
	if a.handleQ == nil {
		return
	}
	ht := m.now.Sub(a.handleStart)
	a.handleQ.aht = (3*a.handleQ.aht + ht) / 4
	a.handleQ = nil
}

// finishWork ends after-call work: the agent goes where it asked to go.
func (m *machine) finishWork(a *agent) {
	m.sample(a)
	switch {
	case a.pendingSignOut:
		m.signOut(a)
	case a.pendingNR:
		a.pendingNR = false
		m.setState(a, StateNotReady, a.pendingReason, nil)
	default:
		m.setState(a, StateReady, "", nil)
		m.routeAgent(a)
	}
}

func (m *machine) signOut(a *agent) {
	a.pendingSignOut, a.pendingNR, a.connected = false, false, false
	m.setState(a, StateSignedOut, "", nil)
	if len(a.members) == 0 {
		delete(m.agents, a.id) // nothing to remember about an agent of no queue
	}
	for _, mb := range a.members {
		q := mb.q
		if q.cfg.LeaveWhenEmpty && q.waiting > 0 && q.signedIn() == 0 {
			for q.waiting > 0 {
				m.overflow(m.oldest(q), "queue empty")
			}
		}
	}
}

func (m *machine) agentInput(in Input) {
	a := m.agents[in.Agent]
	if a == nil {
		if in.Kind != AgentSignedIn {
			if in.Kind != AgentSignedOut && in.Kind != AgentDisconnected {
				m.reject(in, "agent %q is not signed in", in.Agent)
			}
			return
		}
		a = m.agent(in.Agent) // a member of no queue: may sign in, gets no calls
	}
	if a.state == StateSignedOut && in.Kind != AgentSignedIn {
		if in.Kind != AgentSignedOut && in.Kind != AgentDisconnected {
			m.reject(in, "agent %q is not signed in", a.id)
		}
		return
	}
	switch in.Kind {
	case AgentSignedIn:
		a.connected = true
		if a.state == StateSignedOut {
			m.setState(a, StateNotReady, "", nil)
		}
	case AgentReady:
		a.connected = true
		a.pendingNR = false
		switch a.state {
		case StateNotReady:
			m.setState(a, StateReady, "", nil)
			m.routeAgent(a)
		case StateWrapUp:
			m.finishWork(a)
		}
	case AgentNotReady:
		if !m.reasons[in.Reason] {
			m.reject(in, "%q is not a configured not-ready reason", in.Reason)
			return
		}
		switch a.state {
		case StateReady:
			m.setState(a, StateNotReady, in.Reason, nil)
		case StateNotReady:
			if a.reason != in.Reason {
				m.setState(a, StateNotReady, in.Reason, nil)
			}
		case StateOffered:
			m.dropOffer(a, "agent not ready", StateNotReady, in.Reason)
		case StateOnCall, StateOnHold, StateConsult:
			a.pendingNR, a.pendingReason = true, in.Reason
		case StateWrapUp:
			m.sample(a)
			m.setState(a, StateNotReady, in.Reason, nil)
		}
	case WrapUpDone:
		if a.state != StateWrapUp {
			m.reject(in, "agent %q is not in wrap-up", a.id)
			return
		}
		m.finishWork(a)
	case AgentSignedOut:
		m.lapseAll(a, "agent signed out")
		switch a.state {
		case StateOffered:
			m.dropOffer(a, "agent signed out", StateSignedOut, "")
		case StateConsult:
			if m.consultGone(a, "agent signed out") {
				m.signOut(a) // the target leaves now
			} else {
				a.pendingSignOut = true // the first agent leaves when the call ends
			}
		case StateOnCall, StateOnHold:
			a.pendingSignOut = true // leaves when the call ends
		default:
			m.sample(a)
			m.signOut(a)
		}
	case AgentDisconnected:
		a.connected = false
		m.lapseAll(a, "agent disconnected")
		switch a.state {
		case StateOffered:
			m.dropOffer(a, "agent disconnected", StateNotReady, ReasonDisconnected)
		case StateConsult:
			// The consultation ends; the call goes on with the first agent.
			if m.consultGone(a, "agent disconnected") {
				m.setState(a, StateNotReady, ReasonDisconnected, nil)
			}
		case StateOnCall, StateOnHold:
			// The call goes on; a reload re-attaches the agent to it.
		default:
			m.sample(a)
			m.setState(a, StateNotReady, ReasonDisconnected, nil)
		}
	}
}

// dropOffer withdraws a's offer, moves a to st, and lets the call go on to
// the next agent.
func (m *machine) dropOffer(a *agent, why string, st State, reason string) {
	c := a.offer
	m.withdraw(a, why)
	if st == StateSignedOut {
		m.signOut(a)
	} else {
		m.setState(a, st, reason, nil)
	}
	m.requeueIfUnoffered(c, why)
}

func (m *machine) offerAnswer(in Input) {
	c := m.calls[in.Call]
	a := m.agents[in.Agent]
	if c == nil || a == nil || a.offer != c {
		m.reject(in, "no live offer of call %q to agent %q", in.Call, in.Agent)
		return
	}
	if in.Kind == OfferRejected {
		m.withdraw(a, "rejected")
		m.setState(a, StateNotReady, ReasonRejected, nil)
		m.requeueIfUnoffered(c, "rejected")
		return
	}
	var others []*agent // ring-all: everyone else who rang
	if len(c.offers) > 1 {
		others = slices.DeleteFunc(slices.Clone(c.offers), func(o *agent) bool { return o == a })
	}
	c.offers = c.offers[:0]
	a.offer = nil
	a.timerGen++
	c.q.ringing--
	c.q.talking++
	c.state, c.agent, c.target = callConnected, a, nil
	c.timerGen++
	c.timerLive = false
	a.call, a.handleStart, a.handleQ = c, m.now, c.q
	for _, mb := range a.members {
		if mb.q == c.q {
			mb.answered++
		}
	}
	m.emit(Decision{Kind: Connected, Call: c.id, Agent: a.id, Queue: c.q.cfg.Name})
	m.setState(a, StateOnCall, "", c)
	for _, o := range others {
		o.offer = nil
		o.timerGen++
		m.emit(Decision{Kind: OfferWithdrawn, Call: c.id, Agent: o.id, Queue: c.q.cfg.Name, Reason: "answered elsewhere"})
		m.setState(o, StateReady, "", nil)
	}
	for _, o := range others {
		m.routeAgent(o)
	}
}

// withdraw cancels a's offer and reports it; the caller sets a's new state.
func (m *machine) withdraw(a *agent, reason string) {
	c := a.offer
	a.offer = nil
	a.timerGen++
	if i := slices.Index(c.offers, a); i >= 0 {
		c.offers = slices.Delete(c.offers, i, i+1)
	}
	m.emit(Decision{Kind: OfferWithdrawn, Call: c.id, Agent: a.id, Queue: c.q.cfg.Name, Reason: reason})
}

// requeueIfUnoffered puts c back in its place once nobody rings for it; a
// call transferred to an agent goes back to its queue (why: the offer ended).
func (m *machine) requeueIfUnoffered(c *call, why string) {
	if c.state != callOffered || len(c.offers) > 0 {
		return
	}
	if c.target != nil {
		m.lapse(c, why)
		return
	}
	c.q.ringing--
	c.state = callWaiting
	m.push(c)
	switch {
	case c.q.cfg.MaxWait > 0 && !m.now.Before(c.waitFrom.Add(c.q.cfg.MaxWait)):
		m.overflow(c, "max wait")
	case c.q.cfg.LeaveWhenEmpty && c.q.signedIn() == 0:
		m.overflow(c, "queue empty") // the last member left while it rang for them
	default:
		m.routeCall(c)
		m.callTimer(c)
	}
}

// offer rings agents with c.
func (m *machine) offer(c *call, agents []*agent) {
	switch c.state {
	case callWaiting:
		m.pop(c)
	case callReserved:
		m.unreserve(c)
	}
	c.state = callOffered
	c.q.ringing++
	ring := c.q.cfg.RingTimeout
	for _, a := range agents {
		a.offer, a.offerDeadline = c, m.now.Add(ring)
		c.offers = append(c.offers, a)
		m.emit(Decision{Kind: Offer, Call: c.id, Agent: a.id, Queue: c.q.cfg.Name, Deadline: a.offerDeadline, Language: c.lang})
		m.setState(a, StateOffered, "", c)
		m.agentTimer(a, a.offerDeadline)
	}
}

// widen recomputes c's skill requirements for the stage its wait has reached.
func (m *machine) widen(c *call) {
	q := c.q
	for c.stage < len(q.cfg.Widen) && !m.now.Before(c.joined.Add(q.cfg.Widen[c.stage].After)) {
		c.stage++
	}
	c.req = c.req[:0]
	add := func(id int32, lvl int) {
		for _, st := range q.widen[:c.stage] {
			if l, ok := st[id]; ok {
				lvl = l
			}
		}
		if lvl > 0 {
			c.req = append(c.req, skillReq{id, lvl})
		}
	}
	for _, r := range q.baseReq {
		if !slices.Contains(c.skillIDs, r.id) {
			add(r.id, r.min)
		}
	}
	for _, id := range c.skillIDs {
		l := 1
		for _, r := range q.baseReq {
			if r.id == id {
				l = r.min
			}
		}
		add(id, l)
	}
}

func (q *queue) signedIn() int {
	n := 0
	for _, mb := range q.members {
		if mb.a.state != StateSignedOut {
			n++
		}
	}
	return n
}

func (q *queue) staffed() int {
	n := 0
	for _, mb := range q.members {
		switch mb.a.state {
		case StateSignedOut, StateNotReady:
		default:
			n++
		}
	}
	return n
}

// oldest is the first waiting call of q by priority then join order.
func (m *machine) oldest(q *queue) *call {
	var best *call
	for _, b := range q.buckets {
		if h := b.calls[0]; best == nil || h.prio > best.prio || (h.prio == best.prio && before(h, best)) {
			best = h
		}
	}
	return best
}

func bucketKeyOf(c *call) bucketKey {
	return bucketKey{skills: strings.Join(c.skills, "\x00"), prio: c.prio}
}
