// Package switchboard runs one call's life: IVR, then (for now) the queue's
// hold music, with every step written to the call record. It is the only
// package that knows sip, ivr, media and the store together; the call's own
// goroutine (the sip Handler) owns everything a call starts.
package switchboard

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/store"
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

// QueueMetrics counts calls leaving a queue and how long they waited;
// *metrics.Queues is one.
type QueueMetrics interface {
	Left(queue, outcome string, wait time.Duration)
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
	Logger       *slog.Logger
	Now          func() time.Time
}

// Outcomes written to the call record and the hotline_calls_total label.
const (
	OutcomeCallerHungUpInIVR = "ivr-abandoned" // caller hung up before the flow finished
	OutcomeIVRHangup         = "ivr-hangup"    // the flow ended the call
	OutcomeQueued            = "queued"        // routed to a queue (the ACD arrives later)
	OutcomeError             = "error"         // the flow failed; the caller heard goodbye
	OutcomeShutdown          = "shutdown"      // hung up by a graceful stop
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
// server in the call's own goroutine.
func (s *Switchboard) HandleCall(ctx context.Context, c *sip.Call) {
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

	ch := newChannel(c, a, s.opt.MediaObserver, func(d media.Digit) {
		s.opt.Metrics.Digit(string(d.Source))
		rec.event("digit", string(d.Key)+" "+string(d.Source))
	})
	var tp *tape
	if s.opt.Recordings != nil {
		tp = newTape(s.opt.Recordings, s.opt.RecordPolicy, c.Media(), c.ID(), log, rec.event)
		tp.answered()
	}
	outcome := s.run(ctx, c, a, ch, rec, tp, log)
	ch.close()

	<-ctx.Done() // the sip server cancels ctx once the call has ended, whoever ended it
	tp.close()
	side, cause := c.End()
	if cause == "shutdown" && (outcome == OutcomeQueued || outcome == OutcomeAbandoned) {
		outcome = OutcomeShutdown
	}
	rec.finish(outcome, side, cause)
	s.opt.Metrics.CallEnded(outcome)
	log.Info("call ended", "outcome", outcome, "side", side, "cause", cause)
}

// run takes the call through the IVR and whatever follows it, and returns the
// call's outcome once the call is over or hung up.
func (s *Switchboard) run(ctx context.Context, c *sip.Call, a *Assets, ch *channel, rec *record, tp *tape, log *slog.Logger) string {
	flow := rec.flow()
	out, err := a.Engine.Run(ctx, flow, ch, ivr.RunOptions{
		Language: a.DefaultLanguage,
		Now:      s.opt.Now,
		OnEvent: func(e ivr.Event) {
			rec.event("ivr."+e.Kind, e.Node+" "+e.Detail)
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
			return s.queue(ctx, c, a, rec, tp, out, log)
		}
		s.hold(ctx, c, a)
		return OutcomeQueued
	default:
		c.Hangup("ivr-" + out.Kind)
		return OutcomeIVRHangup
	}
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
