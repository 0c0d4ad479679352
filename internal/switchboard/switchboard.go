// Package switchboard runs one call's life: IVR, then (for now) the queue's
// hold music, with every step written to the call record. It is the only
// package that knows sip, ivr, media and the store together; the call's own
// goroutine (the sip Handler) owns everything a call starts.
package switchboard

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/store"
	"github.com/hotline/hotline/internal/tickets"
	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/sip"
)

// Recorder takes call records without ever blocking; *store.Writer is one.
type Recorder interface {
	SaveCall(c store.Call)
	AppendEvent(e store.Event)
}

// Metrics counts what the switchboard sees; *metrics.Calls is one.
type Metrics interface {
	CallStarted()
	CallEnded(outcome string)
	Digit(source string)
	IVROutcome(flow, outcome string)
}

// QueueMetrics counts calls joining and leaving a queue and how long they
// waited; *metrics.Queues is one.
type QueueMetrics interface {
	Joined(queue string)
	Left(queue, outcome string, wait time.Duration)
}

// Tickets is the helpdesk as calls see it; *tickets.Service is one.
type Tickets interface {
	// ScreenPop returns the caller's open tickets for the ringing agent.
	ScreenPop(ctx context.Context, phone, serial string) ([]store.Ticket, error)
	// CallEnded logs a call nobody answered (missed says why) against a
	// ticket; it returns at once.
	CallEnded(c store.Call, missed string)
	// WrapupEnded logs an answered call against a ticket when its agent
	// linked none; it returns at once.
	WrapupEnded(c store.Call)
	// TicketStatus is what the IVR's ticket_status node reads to a caller.
	ivr.TicketLookup
}

// CallerHistory is the calls table's view of a caller; store.Store is one.
type CallerHistory interface {
	CallerCalls(ctx context.Context, from string, since time.Time, except string) (store.CallerCalls, error)
}

// Assets is everything a call reads from the configuration: swapped as one
// value on reload, so a call keeps the flows and prompts it started with.
type Assets struct {
	Engine          *ivr.Engine
	Prompts         *Prompts
	HoldMusic       *media.Prompt
	DefaultLanguage string
}

// Options wires a Switchboard.
type Options struct {
	Recorder      Recorder
	Metrics       Metrics
	MediaObserver media.Observer // pacing of prompts; may be nil
	Desk          *Desk          // the ACD and agents; nil: queued callers hear hold music until they hang up
	QueueMetrics  QueueMetrics   // may be nil
	// Recordings records calls as RecordPolicy says per queue; nil records
	// nothing.
	Recordings   Recordings
	RecordPolicy RecordPolicy
	// Tickets logs every call against a ticket and finds the caller's open
	// ones; nil: no tickets.
	Tickets Tickets
	// History finds the caller's earlier calls of the day for the ring
	// ("called 3 times today, last 20 s ago, abandoned"); nil: none shown.
	History CallerHistory
	Logger  *slog.Logger
	Now     func() time.Time
}

// Outcomes written to the call record and the hotline_calls_total label.
const (
	OutcomeCallerHungUpInIVR = "ivr-abandoned" // caller hung up before the flow finished
	OutcomeIVRHangup         = "ivr-hangup"    // the flow ended the call
	OutcomeQueued            = "queued"        // routed to a queue (the ACD arrives later)
	OutcomeError             = "error"         // the flow failed; the caller heard goodbye
	OutcomeShutdown          = "shutdown"      // hung up by a graceful stop
	OutcomeVoicemail         = "voicemail"     // the caller left (or began) a message
)

// Voicemail prompts: the beep before the message and the thanks after it,
// from the prompt library. A message ends at '#', at the hang-up or after
// the voicemail node's max_length.
const (
	promptBeep            = "beep"
	promptVoicemailThanks = "voicemail-thanks"
)

// Switchboard implements sip.Handler.
type Switchboard struct {
	assets atomic.Pointer[Assets]
	opt    Options
}

// New builds a Switchboard over the first set of assets.
func New(a *Assets, opt Options) *Switchboard {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Switchboard{opt: opt}
	s.assets.Store(a)
	return s
}

// Reload swaps in new assets for calls that arrive from now on.
func (s *Switchboard) Reload(a *Assets) { s.assets.Store(a) }

// HandleCall runs one answered call until it ends. It is called by the sip
// server in the call's own goroutine, which waits here for the whole call:
// what is set up before and settled after runs in functions of their own,
// so that their locals do not stay on that goroutine's stack.
func (s *Switchboard) HandleCall(ctx context.Context, c *sip.Call) {
	cs := s.begin(c)
	outcome := s.run(ctx, c, cs.assets, cs.ch, cs.rec, cs.tp, &cs.afterHours, cs.log)
	cs.ch.close()
	<-ctx.Done() // the sip server cancels ctx once the call has ended, whoever ended it
	s.end(c, cs, outcome)
}

// callState is what HandleCall keeps for one call.
type callState struct {
	assets     *Assets
	log        *slog.Logger
	rec        *record
	ch         *channel
	tp         *tape // nil: recordings are off
	afterHours bool  // the flow found the line closed
}

// begin opens the call's record, its IVR channel and its recording.
func (s *Switchboard) begin(c *sip.Call) *callState {
	a := s.assets.Load()
	log := s.opt.Logger.With("call_id", c.ID())
	flow := c.Trunk().Flow
	rec := newRecord(s.opt.Recorder, s.opt.Now, store.Call{
		ID: c.ID(), SIPCallID: c.SIPCallID(), From: c.From(), To: c.To(), Trunk: c.Trunk().Name,
		Source: c.Source().String(), ArrivedAt: c.ArrivedAt(), AnsweredAt: timePtr(c.AnsweredAt()),
		Flow: flow, Language: a.DefaultLanguage,
	})
	rec.event("arrived", "from "+c.From()+" to "+c.To()+" via "+c.Trunk().Name)
	rec.event("answered", "")
	rec.save()
	s.opt.Metrics.CallStarted()
	log.Info("call answered", "from", c.From(), "to", c.To(), "trunk", c.Trunk().Name, "flow", flow)

	cs := &callState{assets: a, log: log, rec: rec}
	cs.ch = newChannel(c, a, s.opt.MediaObserver, func(d media.Digit) {
		s.opt.Metrics.Digit(string(d.Source))
		rec.event("digit", string(d.Key)+" "+string(d.Source))
	})
	if s.opt.Recordings != nil {
		cs.tp = newTape(s.opt.Recordings, s.opt.RecordPolicy, c.Media(), c.ID(), log, rec.event)
		cs.tp.answered()
	}
	return cs
}

// end closes the call's recording and record once the call is over, and
// tells the tickets and the metrics how it went.
func (s *Switchboard) end(c *sip.Call, cs *callState, outcome string) {
	cs.tp.close()
	side, cause := c.End()
	if cause == "shutdown" && (outcome == OutcomeQueued || outcome == OutcomeAbandoned) {
		outcome = OutcomeShutdown
	}
	cs.rec.finish(outcome, side, cause)
	if s.opt.Tickets != nil {
		s.opt.Tickets.CallEnded(cs.rec.snapshot(), missed(outcome, cs.afterHours))
	}
	s.opt.Metrics.CallEnded(outcome)
	cs.log.Info("call ended", "outcome", outcome, "side", side, "cause", cause)
}

// run takes the call through the IVR and whatever follows it, and returns the
// call's outcome once the call is over or hung up.
// afterHours is set when the flow found the line closed.
func (s *Switchboard) run(ctx context.Context, c *sip.Call, a *Assets, ch *channel, rec *record, tp *tape, afterHours *bool, log *slog.Logger) string {
	flow := rec.flow()
	var lookup ivr.TicketLookup
	if s.opt.Tickets != nil {
		lookup = s.opt.Tickets
	}
	out, err := a.Engine.Run(ctx, flow, ch, ivr.RunOptions{
		Language: a.DefaultLanguage,
		Now:      s.opt.Now,
		Caller:   c.From(),
		Tickets:  lookup,
		OnEvent: func(e ivr.Event) {
			if e.Kind == "hours" && e.Detail == "closed" {
				*afterHours = true
			}
			rec.event("ivr."+e.Kind, e.Node+" "+e.Detail)
			rec.ivrStep(e)
		},
	})
	rec.setIVR(out)
	switch {
	case ctx.Err() != nil:
		s.opt.Metrics.IVROutcome(flow, "abandoned")
		return OutcomeCallerHungUpInIVR
	case err != nil:
		log.Error("ivr flow failed", "flow", flow, "err", err)
		s.opt.Metrics.IVROutcome(flow, "error")
		rec.event("ivr.error", err.Error())
		c.Hangup("ivr-error")
		return OutcomeError
	}
	s.opt.Metrics.IVROutcome(flow, out.Kind)
	switch out.Kind {
	case ivr.KindQueue:
		rec.queued(out.Queue)
		tp.queued(out.Queue)
		log.Info("caller queued", "queue", out.Queue, "priority", out.Priority)
		if s.opt.Desk != nil {
			qc := s.joinQueue(ctx, c, rec, tp, out, log)
			return s.queue(ctx, c, a, rec, tp, out, qc, log)
		}
		s.hold(ctx, c, a)
		return OutcomeQueued
	case ivr.KindVoicemail:
		return s.voicemail(ctx, c, ch, rec, tp, out, log)
	default:
		c.Hangup("ivr-" + out.Kind)
		return OutcomeIVRHangup
	}
}

// voicemail records the caller's message: the flow has played its prompt;
// a beep, then everything the caller says until '#', the hang-up or the
// length limit, in the call's recording (the queue's retention), then the
// thanks and the hang-up.
func (s *Switchboard) voicemail(ctx context.Context, c *sip.Call, ch *channel, rec *record, tp *tape, out ivr.Outcome, log *slog.Logger) string {
	rec.voicemail(out.Queue)
	lang := rec.language()
	if err := ch.Play(ctx, lang, promptBeep); err != nil && ctx.Err() == nil {
		log.Warn("voicemail: no beep", "err", err)
	}
	if tp == nil {
		log.Warn("voicemail: recordings are off; the message is not kept")
	}
	tp.voicemail(out.Queue)
	limit := cmp.Or(out.MaxLength, ivr.DefaultVoicemailLength)
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for ended := false; !ended; {
		select {
		case <-ctx.Done():
			return OutcomeVoicemail
		case <-timer.C:
			rec.event("voicemail_limit", limit.String())
			ended = true
		case d := <-ch.Digits():
			ended = d == '#'
		}
	}
	tp.close()
	if err := ch.Play(ctx, lang, promptVoicemailThanks); err != nil && ctx.Err() == nil {
		log.Warn("voicemail: no thanks prompt", "err", err)
	}
	c.Hangup("voicemail")
	return OutcomeVoicemail
}

// missed says why a call nobody answered must leave a ticket, or "".
func missed(outcome string, afterHours bool) string {
	switch {
	case outcome == OutcomeVoicemail:
		return tickets.MissedVoicemail
	case afterHours:
		return tickets.MissedAfterHours
	case outcome == OutcomeAbandoned:
		return tickets.MissedAbandoned
	case outcome == OutcomeOverflow:
		return tickets.MissedOverflow
	}
	return ""
}

// hold plays the hold music in a loop until the call ends. The ACD replaces
// this with a real queue.
func (s *Switchboard) hold(ctx context.Context, c *sip.Call, a *Assets) {
	if a.HoldMusic == nil {
		<-ctx.Done()
		return
	}
	for ctx.Err() == nil {
		if err := media.Play(ctx, c.Media(), a.HoldMusic, s.opt.MediaObserver); err != nil && !errors.Is(err, context.Canceled) {
			<-ctx.Done()
		}
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
