package switchboard

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/acd"
	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/tickets"
	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/recordings"
	"github.com/hotline/hotline/sip"
)

// Queue outcomes of a call (the call row's outcome and hotline_calls_total).
const (
	OutcomeAnswered  = "answered"  // an agent took the call
	OutcomeAbandoned = "abandoned" // the caller hung up while waiting or ringing
	OutcomeOverflow  = "overflow"  // the queue could not take or keep the call; goodbye and hang up
)

// Prompts the queue plays, from the prompt library of the caller's language.
const (
	promptPositionIs = "position-is"
	promptWaitIs     = "wait-is"
	promptWaitShort  = "wait-short"
	promptOverflow   = "overflow"
)

// queue waits in the ACD with hold music until an agent answers, then bridges
// the caller to the agent's browser and carries out the agent's commands,
// until the call ends. It returns the call's outcome. qc is the call's place
// in the queue (joinQueue).
func (s *Switchboard) queue(ctx context.Context, c *sip.Call, a *Assets, rec *record, tp *tape, out ivr.Outcome, qc *queuedCall, log *slog.Logger) string {
	desk := s.opt.Desk
	ep := c.Media()
	lang := rec.language()

	p := newPlayer(ep, s.opt.MediaObserver)
	defer p.stop()
	p.start(nil, a.HoldMusic)

	var (
		agent        string
		leg          *softphone.Leg
		held         bool
		transferring bool // a transfer was asked for; the ACD's verdict is due
		consulting   bool // a consultation is under way (consult.go): the caller is held
		endedBy      = "caller"
		outcome      = OutcomeAbandoned
		queue        = out.Queue
		// A stay in a queue, counted in the queue metrics, begins when the
		// call joins a queue's line: from the IVR, a transfer to a queue, or a
		// transfer to an agent that lapsed. Waiting for a named agent is not
		// a queue stay (KPI.md: answered = queued calls connected).
		inStay = true
		joined = s.opt.Now() // when the current stay began
	)
	join := func() { // a queue stay begins
		if inStay && s.opt.QueueMetrics != nil {
			s.opt.QueueMetrics.Joined(queue)
		}
	}
	join()
	left := func(outcome string) {
		if inStay && s.opt.QueueMetrics != nil {
			s.opt.QueueMetrics.Left(queue, outcome, s.opt.Now().Sub(joined))
		}
		inStay = false
	}
	// A bridge re-paces each direction through a relay on the caller's
	// endpoint, so both legs get one frame per 20 ms whatever the cadence
	// the audio arrives in.
	var toAgent, toCaller *media.Relay
	var mon *monitor      // a supervisor on the call (monitor.go); nil: none
	var cons *consultLegs // the two agents of a consultation, once they talk
	bridgeNow := func() legs {
		return legs{ep: ep, agent: leg, toAgent: toAgent, toCaller: toCaller, held: held}
	}
	closeRelays := func() {
		if toAgent != nil {
			_ = toAgent.Close()
			_ = toCaller.Close()
			toAgent, toCaller = nil, nil
		}
	}
	bridge := func() {
		closeRelays()
		toAgent = ep.Relay(ctx, leg, s.opt.MediaObserver)
		toCaller = ep.Relay(ctx, ep, s.opt.MediaObserver)
		ep.SetSink(toAgent)
		leg.SetSink(toCaller)
		if mon != nil {
			mon.wire(ctx, bridgeNow())
		}
	}
	unbridge := func() {
		if leg != nil {
			ep.SetSink(nil)
			leg.SetSink(nil)
		}
		closeRelays()
	}
	// holdMedia puts the caller on hold (the hold music, the recording's
	// hold marker) or back to the agent; the ACD and the page hear of it
	// from the caller of holdMedia.
	holdMedia := func(on bool) {
		held = on // before the wiring: bridgeNow says whether the call is held
		if on {
			tp.mark(recordings.MarkHold, agent)
			unbridge()
			if mon != nil {
				mon.wire(ctx, bridgeNow()) // the supervisor and the agent, apart from the caller
			}
			p.start(nil, a.HoldMusic)
		} else {
			p.stop()
			bridge()
			tp.unmark(recordings.MarkHold, agent)
		}
		desk.setHeld(qc, agent, held)
	}
	defer func() {
		cons.close()
		if mon != nil {
			s.endMonitor(qc, mon, monitorHangup, bridgeNow(), rec, log)
		}
		unbridge()
		if agent == "" {
			left(outcome) // abandoned or overflowed while waiting in a queue
		}
		desk.leave(qc, endedBy)
	}()

	// deferred is an agent's command that came in before the decision that
	// connected them: the desk tells the agent's page of the connection
	// before it hands this goroutine the decision, and select takes ready
	// channels in any order. It is handled once the decision is.
	var deferred *command
	for {
		if deferred != nil && deferred.agent == agent {
			select {
			case qc.commands <- *deferred:
			default:
				log.Warn("agent command dropped: the call's command queue is full", "agent", agent, "type", deferred.m.Type())
			}
			deferred = nil
		}
		select {
		case <-ctx.Done():
			return outcome
		case <-qc.decisions.ready():
			dec, ok := qc.decisions.take()
			if !ok {
				continue
			}
			switch dec.Kind {
			case acd.Offer:
				rec.offered(dec.Agent)
			case acd.OfferWithdrawn:
				rec.event("offer_withdrawn", dec.Agent+" "+dec.Reason)
			case acd.Connected:
				l, err := desk.phones.Leg(dec.Agent)
				if err != nil {
					log.Error("agent took the call but has no media leg", "agent", dec.Agent, "err", err)
					endedBy = "system"
					c.Hangup("agent-leg-missing")
					continue
				}
				p.stop()
				agent, leg, outcome = dec.Agent, l, OutcomeAnswered
				left(OutcomeAnswered)
				tp.connected(agent)
				bridge()
				rec.answeredBy(agent)
				log.Info("agent answered", "agent", agent, "queue", queue)
			case acd.Announce:
				if agent == "" {
					p.start(s.announcement(a, lang, dec), a.HoldMusic)
				}
			case acd.Transferred:
				// The agent is gone from the call (the desk told their page);
				// the caller waits in dec.Queue, for the target if it is an agent.
				if mon != nil {
					s.endMonitor(qc, mon, monitorTransfer, bridgeNow(), rec, log)
					mon = nil
				}
				unbridge()
				if held {
					tp.unmark(recordings.MarkHold, dec.Agent)
				}
				tp.left()
				kind, target, _ := strings.Cut(dec.Target, ":")
				rec.event("transferred", dec.Agent+" → "+kind+" "+target)
				log.Info("call transferred", "agent", dec.Agent, "target", dec.Target)
				agent, leg, held, transferring = "", nil, false, false
				outcome, queue = OutcomeAbandoned, dec.Queue
				inStay, joined = kind == "queue", s.opt.Now()
				join()
				p.start(nil, a.HoldMusic)
			case acd.ConsultOffer:
				// The caller waits on hold while the agent consults; a
				// supervisor listening in leaves (the call is apart).
				if mon != nil {
					s.endMonitor(qc, mon, monitorConsult, bridgeNow(), rec, log)
					mon = nil
				}
				consulting = true
				if !held {
					holdMedia(true)
				}
				rec.event("consult", dec.Agent+" → "+dec.Target)
				log.Info("agent consults", "agent", dec.Agent, "target", dec.Target)
			case acd.ConsultConnected:
				target := strings.TrimPrefix(dec.Target, "agent:")
				other, err := desk.phones.Leg(target)
				if err != nil || leg == nil {
					log.Error("consulted agent has no media leg", "target", target, "err", err)
					desk.submit(acd.Input{Kind: acd.ConsultRejected, Call: qc.id, Agent: target})
					continue
				}
				cons.close()
				cons = joinConsult(ctx, ep, leg, other, s.opt.MediaObserver)
				rec.event("consult_connected", dec.Agent+" → "+dec.Target)
			case acd.ConsultEnded:
				cons.close()
				cons, consulting = nil, false
				rec.event("consult_ended", dec.Agent+" → "+dec.Target+" "+dec.Reason)
				log.Info("consultation ended", "agent", dec.Agent, "target", dec.Target, "reason", dec.Reason)
				switch dec.Reason {
				case "completed":
					// The agent leaves as in a transfer; the ACD's Connected,
					// next, bridges the caller to the target.
					tp.unmark(recordings.MarkHold, agent)
					tp.left()
					agent, leg, held = "", nil, false
				case "caller hung up":
				default: // the call is the agent's again
					holdMedia(false)
					desk.send(agent, desk.status(qc, softphone.CallConnected, ""))
				}
			case acd.TransferLapsed:
				inStay, joined = true, s.opt.Now()
				join()
				rec.event("transfer_lapsed", dec.Agent+" "+dec.Reason)
				log.Info("transferred call back in the queue", "target", dec.Agent, "reason", dec.Reason)
			case acd.Rejected:
				if dec.Input == acd.CallTransferred {
					// Refused: nothing changed, the call stays with the agent.
					transferring = false
					desk.send(agent, softphone.Error{Code: softphone.CodeInvalid, Message: dec.Reason, Ref: softphone.TypeTransfer})
					log.Info("transfer refused", "agent", agent, "reason", dec.Reason)
					continue
				}
				fallthrough
			case acd.Overflow:
				if dec.Kind == acd.Overflow && strings.HasPrefix(dec.Target, "queue:") {
					rec.event("overflow", dec.Target+" "+dec.Reason) // the ACD moved the call; keep waiting
					continue
				}
				rec.event("overflow", dec.Target+" "+dec.Reason)
				log.Info("queue could not take the call", "queue", out.Queue, "target", dec.Target, "reason", dec.Reason)
				p.stop()
				if pr := a.Prompts.Get(lang, promptOverflow); pr != nil {
					_ = media.Play(ctx, ep, pr, s.opt.MediaObserver)
				}
				endedBy = "system"
				c.Hangup("overflow")
				outcome = OutcomeOverflow
			}
		case cmd := <-qc.commands:
			if cmd.agent != agent && !cmd.supervisor {
				if deferred == nil && desk.connectedTo(qc) == cmd.agent {
					deferred = &cmd // connected already; the decision is on its way
					continue
				}
				log.Debug("command from an agent no longer on the call", "agent", cmd.agent, "type", cmd.m.Type())
				continue
			}
			switch m := cmd.m.(type) {
			case softphone.Hangup:
				endedBy = "agent"
				rec.event("agent_hangup", agent)
				c.Hangup("agent-hangup")
			case softphone.Hold:
				if m.On == held {
					continue
				}
				if consulting {
					desk.send(agent, softphone.Error{Code: softphone.CodeState, Message: "a consultation is under way; complete or cancel it first", Ref: m.Type()})
					continue
				}
				holdMedia(m.On)
				if held {
					desk.submit(acd.Input{Kind: acd.CallHeld, Call: qc.id})
					desk.send(agent, desk.status(qc, softphone.CallHeld, ""))
					rec.event("held", agent)
				} else {
					desk.submit(acd.Input{Kind: acd.CallResumed, Call: qc.id})
					desk.send(agent, desk.status(qc, softphone.CallConnected, ""))
					rec.event("resumed", agent)
				}
			case softphone.DTMF:
				for i := 0; i < len(m.Digits); i++ {
					if err := ep.SendDigit(ctx, m.Digits[i], 100*time.Millisecond); err != nil {
						desk.send(agent, softphone.Error{Code: softphone.CodeState, Message: "the caller's phone takes no digits: " + err.Error(), Ref: m.Type()})
						break
					}
				}
				rec.event("agent_dtmf", m.Digits)
			case softphone.PauseRecording:
				if !tp.recording() {
					desk.send(agent, softphone.Error{Code: softphone.CodeState, Message: "this call is not recorded", Ref: m.Type()})
					continue
				}
				if m.On {
					tp.mark(recordings.MarkPCI, cmd.by())
				} else {
					tp.unmark(recordings.MarkPCI, cmd.by())
				}
				st := softphone.CallConnected
				if held {
					st = softphone.CallHeld
				}
				desk.send(agent, desk.status(qc, st, ""))
			case softphone.Mute:
				if m.On {
					tp.mark(recordings.MarkMute, agent)
				} else {
					tp.unmark(recordings.MarkMute, agent)
				}
			case monitorRequest:
				if consulting && m.mode != softphone.MonitorOff {
					if m.reply != nil {
						m.reply <- fmt.Errorf("%w: the agent is consulting another agent", ErrMonitorBusy)
					}
					continue
				}
				mon = s.onMonitor(ctx, qc, mon, cmd.agent, m, bridgeNow(), rec, log)
			case softphone.Transfer:
				// The ACD decides: Transferred (acted on above) or Rejected.
				// Until then the call goes on as it was.
				if transferring {
					desk.send(agent, softphone.Error{Code: softphone.CodeState, Message: "a transfer of this call is already under way", Ref: m.Type()})
					continue
				}
				transferring = true
				desk.submit(acd.Input{Kind: acd.CallTransferred, Call: qc.id, Queue: m.Queue, Agent: m.Agent})
			}
		}
	}
}

// joinQueue looks up the screen pop and puts the call in its queue's line.
// Its caller calls queue next, not the other way round: the look-up then
// runs without queue's large frame under it, and the call's goroutine keeps
// an 8 KiB stack.
func (s *Switchboard) joinQueue(ctx context.Context, c *sip.Call, rec *record, tp *tape, out ivr.Outcome, log *slog.Logger) *queuedCall {
	lang := rec.language()
	tickets, caller := s.screenPop(ctx, c.ID(), c.From(), out.Vars["serial"], log)
	if caller.Name == "" {
		caller.Name = c.CallerName() // no ticket knows them: the name they called with
	}
	return s.opt.Desk.join(softphone.Ring{
		From: c.From(), Queue: out.Queue, Language: lang, Vars: out.Vars, IVRPath: out.Path, IVRSteps: ivrSteps(out.Steps),
		Tickets: tickets, Caller: caller,
	}, acd.Input{
		Kind: acd.CallQueued, Call: c.ID(), Queue: out.Queue, Priority: out.Priority,
		Skills: out.Skills, Language: lang, At: s.opt.Now(),
	}, rec, tp)
}

// announcement is the position and estimated-wait message for a waiting
// caller, in their language; figures are read digit by digit.
func (s *Switchboard) announcement(a *Assets, lang string, dec acd.Decision) []*media.Prompt {
	var out []*media.Prompt
	add := func(name string) {
		if p := a.Prompts.Get(lang, name); p != nil {
			out = append(out, p)
		}
	}
	number := func(n int) {
		for _, d := range strconv.Itoa(n) {
			add("digit-" + string(d))
		}
	}
	if dec.Position > 0 {
		add(promptPositionIs)
		number(dec.Position)
	}
	if mins := int((dec.EWT + time.Minute - 1) / time.Minute); mins >= 1 {
		add(promptWaitIs)
		number(mins)
	} else {
		add(promptWaitShort)
	}
	return out
}

// screenPopWait bounds the ticket look-up before a call joins its queue: a
// slow database costs the agent the screen pop, never the caller their turn.
const screenPopWait = 500 * time.Millisecond

// screenPop looks up, for the ring message, the caller's open tickets
// and who they are: their name from a ticket, and their earlier calls of
// the day (leaving out call, the one ringing).
func (s *Switchboard) screenPop(ctx context.Context, call, phone, serial string, log *slog.Logger) ([]softphone.Ticket, *softphone.Caller) {
	caller := &softphone.Caller{Number: phone}
	if s.opt.Tickets == nil && s.opt.History == nil {
		return []softphone.Ticket{}, caller
	}
	ctx, cancel := context.WithTimeout(ctx, screenPopWait)
	defer cancel()
	// The look-ups run on a goroutine of their own, which this one waits
	// for: the embedded database's driver runs deep on its caller's stack,
	// and a call's goroutine would keep that grown stack for the whole call
	// (about 16 KiB a call in make bench-load).
	var (
		ts      []store.Ticket
		hist    store.CallerCalls
		err     error
		histErr error
		done    = make(chan struct{})
	)
	now := s.opt.Now()
	go func() {
		defer close(done)
		if s.opt.Tickets != nil {
			ts, err = s.opt.Tickets.ScreenPop(ctx, phone, serial)
		}
		if s.opt.History != nil && phone != "" {
			hist, histErr = s.opt.History.CallerCalls(ctx, phone, now.Add(-callerHistorySpan), call)
		}
	}()
	<-done
	if histErr != nil {
		log.Warn("screen pop: the caller's earlier calls not found in time", "err", histErr)
	} else if hist.Count > 0 {
		caller.CallsToday = hist.Count
		caller.LastCallAt = hist.Last.ArrivedAt.UnixMilli()
		caller.LastOutcome = hist.Last.Outcome
	}
	if err != nil {
		log.Warn("screen pop: tickets not found in time", "err", err)
		return []softphone.Ticket{}, caller
	}
	for _, t := range ts {
		if t.CallerName != "" {
			caller.Name = t.CallerName
			break
		}
	}
	return ringTickets(ts), caller
}

// callerHistorySpan is how far back the ring's "called N times" looks: a
// day, so the look-up stays a short index range.
const callerHistorySpan = 24 * time.Hour

// ivrSteps is the ring's view of the IVR steps.
func ivrSteps(steps []ivr.Step) []softphone.IVRStep {
	out := make([]softphone.IVRStep, 0, len(steps))
	for _, st := range steps {
		out = append(out, softphone.IVRStep{Node: st.Node, Type: st.Type, Label: st.Label, Var: st.Var, Value: st.Value})
	}
	return out
}

// maxLastNote is how much of a ticket's newest note the ring shows.
const maxLastNote = 200

// ringTickets is the screen-pop view of tickets.
func ringTickets(ts []store.Ticket) []softphone.Ticket {
	out := make([]softphone.Ticket, 0, len(ts))
	for _, t := range ts {
		v := softphone.Ticket{
			Number: tickets.FormatNumber(t.Number), Subject: t.Subject, Status: t.Status, Priority: t.Priority,
			Product: t.Product, Serial: t.Serial, Updated: t.UpdatedAt.UnixMilli(), Missed: t.Missed,
		}
		if len(t.Notes) > 0 {
			v.LastNote = shorten(t.Notes[len(t.Notes)-1].Text, maxLastNote)
		}
		out = append(out, v)
	}
	return out
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
