package switchboard

// Supervisors on live calls: monitor (listen), whisper and barge, from the
// supervisor's own softphone leg.
//
// A call with no supervisor is bridged exactly as it always was: the
// caller's endpoint feeds the relay to the agent, the agent's leg the relay
// to the caller. A supervisor on the call changes only the sinks, on the
// call goroutine (the one owner of the call's media): the caller's and the
// agent's audio are teed into a mixer whose relay feeds the supervisor's
// leg, and, when the supervisor talks, the agent's (whisper) and the
// caller's (barge) relays get a mixer in front that adds the supervisor's
// voice. Every output is still a relay on the node's pacer.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/hotline/hotline/internal/softphone"
)

// Errors of Monitor, besides ErrNoCall (no such live call).
var (
	// ErrNotBridged: the call is live but no agent is on it (it waits in
	// a queue, rings, or is being transferred).
	ErrNotBridged = errors.New("switchboard: no agent is on the call")
	// ErrNoSoftphone: the supervisor's softphone is not connected (no
	// socket and peer connection with its audio up).
	ErrNoSoftphone = errors.New("switchboard: the supervisor's softphone is not connected")
	// ErrMonitorBusy: another supervisor is on the call, the supervisor is
	// on another call (monitoring, or their own), or the call is theirs.
	ErrMonitorBusy = errors.New("switchboard: the supervisor or the call is busy")
	// ErrMonitorMode: the mode is not listen, whisper, barge or off.
	ErrMonitorMode = errors.New("switchboard: not a monitoring mode (listen, whisper, barge, off)")
)

// Reasons a supervisor left a call, in monitor_stop events and the
// supervisor's monitor message.
const (
	monitorAsked     = "off"       // the supervisor asked
	monitorTransfer  = "transfer"  // the agent transferred the call
	monitorHangup    = "hangup"    // the call ended
	monitorSoftphone = "softphone" // the supervisor's softphone went away
)

// monitorWait bounds how long Monitor waits for the call goroutine.
const monitorWait = 5 * time.Second

// monitorRequest is a supervisor's monitor command, carried to the call
// goroutine as a command; it never goes over the wire.
type monitorRequest struct {
	mode   string
	leg    *softphone.Leg // the supervisor's; set when they join
	reason string         // why, for mode off
	reply  chan error     // buffered; nil: nobody waits
}

// Type implements softphone.Message.
func (monitorRequest) Type() string { return softphone.TypeMonitor }

// Monitor puts supervisor on the live call callID in mode
// (softphone.MonitorListen, MonitorWhisper or MonitorBarge), changes their
// mode, or takes them off (MonitorOff; nothing to do when they are not on
// it). The supervisor's audio goes through their own softphone, which must
// be connected. It returns once the call carries the change, or with
// ErrNoCall (no such live call), ErrNotBridged (no agent on it),
// ErrNoSoftphone, ErrMonitorBusy or ErrMonitorMode. Neither the agent nor
// the caller is told.
func (d *Desk) Monitor(ctx context.Context, callID, supervisor, mode string) error {
	switch mode {
	case softphone.MonitorListen, softphone.MonitorWhisper, softphone.MonitorBarge, softphone.MonitorOff:
	default:
		return fmt.Errorf("%w: %q", ErrMonitorMode, mode)
	}
	d.mu.Lock()
	qc := d.calls[callID]
	phones := d.phones
	var agent string
	current := false
	if qc != nil {
		agent, current = qc.agent, qc.monitor == supervisor
	}
	d.mu.Unlock()
	switch {
	case qc == nil:
		return ErrNoCall
	case mode == softphone.MonitorOff:
		if !current {
			return nil
		}
	case agent == "":
		return ErrNotBridged
	case agent == supervisor:
		return fmt.Errorf("%w: the call is the supervisor's own", ErrMonitorBusy)
	}
	req := monitorRequest{mode: mode, reason: monitorAsked, reply: make(chan error, 1)}
	if mode != softphone.MonitorOff && !current {
		if phones == nil {
			return ErrNoSoftphone
		}
		leg, err := phones.Leg(supervisor)
		if err != nil || !leg.Connected() {
			return ErrNoSoftphone
		}
		req.leg = leg
	}
	select {
	case qc.commands <- command{agent: supervisor, m: req, supervisor: true}:
	default:
		return errors.New("switchboard: the call is busy with earlier commands; try again")
	}
	wait := time.NewTimer(monitorWait)
	defer wait.Stop()
	select {
	case err := <-req.reply:
		return err
	case <-qc.left:
		select {
		case err := <-req.reply:
			return err
		default:
			return ErrNoCall
		}
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
		return errors.New("switchboard: the call did not take the monitor command in time")
	}
}

// stopMonitor takes the supervisor off the call they monitor, if any,
// without waiting (their softphone is gone).
func (d *Desk) stopMonitor(supervisor, reason string) {
	d.mu.Lock()
	qc := d.calls[d.monitors[supervisor]]
	d.mu.Unlock()
	if qc == nil {
		return
	}
	select {
	case qc.commands <- command{agent: supervisor, m: monitorRequest{mode: softphone.MonitorOff, reason: reason}, supervisor: true}:
	default:
		d.log.Warn("call is not taking commands; the supervisor stays on it", "call_id", qc.id, "supervisor", supervisor)
	}
}

// claimMonitor makes supervisor the one monitoring qc in mode, unless they
// are busy elsewhere.
func (d *Desk) claimMonitor(qc *queuedCall, supervisor, mode string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if other := d.monitors[supervisor]; other != "" && other != qc.id {
		return fmt.Errorf("%w: the supervisor is monitoring call %s", ErrMonitorBusy, other)
	}
	if av := d.agents[supervisor]; av != nil && (av.call != "" || av.offer != "") {
		return fmt.Errorf("%w: the supervisor has a call of their own", ErrMonitorBusy)
	}
	d.monitors[supervisor] = qc.id
	qc.monitor, qc.monitorMode = supervisor, mode
	return nil
}

// setMonitorMode records the supervisor's new mode on qc.
func (d *Desk) setMonitorMode(qc *queuedCall, mode string) {
	d.mu.Lock()
	qc.monitorMode = mode
	d.mu.Unlock()
}

// releaseMonitor forgets that supervisor monitors qc.
func (d *Desk) releaseMonitor(qc *queuedCall, supervisor string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.releaseMonitorLocked(qc, supervisor)
}

// releaseMonitorLocked is releaseMonitor; the caller holds mu.
func (d *Desk) releaseMonitorLocked(qc *queuedCall, supervisor string) {
	if d.monitors[supervisor] == qc.id {
		delete(d.monitors, supervisor)
	}
	if qc.monitor == supervisor {
		qc.monitor, qc.monitorMode = "", ""
	}
}

// monitoring reports whether the user monitors a call.
func (d *Desk) monitoring(user string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.monitors[user] != ""
}

// monitorMessageLocked is the supervisor's monitor message for qc in mode;
// the caller holds mu.
func (d *Desk) monitorMessageLocked(qc *queuedCall, mode, reason string) softphone.Monitor {
	m := softphone.Monitor{CallID: qc.id, Mode: mode, Reason: reason}
	if mode != softphone.MonitorOff {
		m.From, m.Queue, m.Agent = qc.ring.From, qc.ring.Queue, qc.agent
	}
	return m
}

// monitorOfLocked is the welcome's monitor of a supervisor, nil when they
// monitor nothing; the caller holds mu.
func (d *Desk) monitorOfLocked(supervisor string) *softphone.Monitor {
	qc := d.calls[d.monitors[supervisor]]
	if qc == nil || qc.monitor != supervisor {
		return nil
	}
	m := d.monitorMessageLocked(qc, qc.monitorMode, "")
	return &m
}

// tellMonitor sends the supervisor their monitor message.
func (d *Desk) tellMonitor(qc *queuedCall, supervisor, mode, reason string) {
	d.mu.Lock()
	m := d.monitorMessageLocked(qc, mode, reason)
	d.mu.Unlock()
	d.send(supervisor, m)
}

// legs is a call's bridge as its goroutine has it now: the caller's
// endpoint, the agent's leg (nil: no agent) and the relays to each (nil
// while the call is held or not bridged).
type legs struct {
	ep       *media.Endpoint
	agent    *softphone.Leg
	toAgent  *media.Relay
	toCaller *media.Relay
	held     bool
}

// bridged reports whether caller and agent talk to each other now.
func (l legs) bridged() bool { return l.agent != nil && !l.held && l.toAgent != nil }

// plain sets the sinks of a call with no supervisor on it.
func (l legs) plain() {
	switch {
	case l.bridged():
		l.ep.SetSink(l.toAgent)
		l.agent.SetSink(l.toCaller)
	case l.agent != nil:
		l.agent.SetSink(nil)
	}
}

// monitor is one supervisor on a call, owned by the call goroutine.
type monitor struct {
	sup  string
	mode string
	leg  *softphone.Leg // the supervisor's
	obs  media.Observer
	// toSup paces everything the supervisor hears to their leg.
	toSup *media.Relay
	// toAgent paces the supervisor's voice to the agent while the caller
	// is on hold (the bridge's relays are closed then); nil otherwise.
	toAgent *media.Relay
	mixers  []*media.Mixer // the current wiring's
}

// talks reports whether the supervisor is heard (whisper, barge).
func (m *monitor) talks() bool {
	return m.mode == softphone.MonitorWhisper || m.mode == softphone.MonitorBarge
}

// wire sets every sink of the call for the supervisor's mode:
//
//	bridged   caller → agent (+ supervisor); agent → caller (+ supervisor);
//	          supervisor → agent (whisper, barge) and caller (barge)
//	on hold   agent → supervisor; supervisor → agent (whisper, barge);
//	          the caller hears the hold music only
//
// The mixers of the previous wiring are closed once the new sinks are set.
func (m *monitor) wire(ctx context.Context, l legs) {
	old := m.mixers
	m.mixers = nil
	if !l.bridged() {
		l.agent.SetSink(m.toSup)
		if m.talks() {
			if m.toAgent == nil {
				m.toAgent = l.ep.Relay(ctx, l.agent, m.obs)
			}
			m.leg.SetSink(m.toAgent)
		} else {
			m.leg.SetSink(nil)
			m.closeHoldRelay()
		}
		m.closeMixers(old)
		return
	}
	m.closeHoldRelay()
	hears := media.NewMixer(m.toSup, 2) // caller + agent
	m.mixers = append(m.mixers, hears)
	toAgent, toCaller := media.FrameWriter(l.toAgent), media.FrameWriter(l.toCaller)
	var voice []media.FrameWriter // where the supervisor's microphone goes
	if m.talks() {
		mx := media.NewMixer(l.toAgent, 2) // caller + supervisor
		m.mixers = append(m.mixers, mx)
		toAgent = mx.Input(0)
		voice = append(voice, mx.Input(1))
	}
	if m.mode == softphone.MonitorBarge {
		mx := media.NewMixer(l.toCaller, 2) // agent + supervisor
		m.mixers = append(m.mixers, mx)
		toCaller = mx.Input(0)
		voice = append(voice, mx.Input(1))
	}
	l.ep.SetSink(tee{toAgent, hears.Input(0)})
	l.agent.SetSink(tee{toCaller, hears.Input(1)})
	switch len(voice) {
	case 0:
		m.leg.SetSink(nil)
	case 1:
		m.leg.SetSink(voice[0])
	default:
		m.leg.SetSink(tee{voice[0], voice[1]})
	}
	m.closeMixers(old)
}

// closeMixers closes mixers no sink uses any more.
func (m *monitor) closeMixers(mixers []*media.Mixer) {
	for _, mx := range mixers {
		_ = mx.Close()
	}
}

// closeHoldRelay closes the relay of the supervisor's voice during a hold.
func (m *monitor) closeHoldRelay() {
	if m.toAgent != nil {
		_ = m.toAgent.Close()
		m.toAgent = nil
	}
}

// close ends the supervisor's part; the call's sinks no longer use it.
func (m *monitor) close() {
	m.leg.SetSink(nil)
	m.closeMixers(m.mixers)
	m.mixers = nil
	m.closeHoldRelay()
	_ = m.toSup.Close()
}

// tee writes each frame to two writers.
type tee struct{ a, b media.FrameWriter }

// WriteFrame implements media.FrameWriter.
func (t tee) WriteFrame(pcm []int16) error {
	if err := t.a.WriteFrame(pcm); err != nil {
		_ = t.b.WriteFrame(pcm)
		return err
	}
	return t.b.WriteFrame(pcm)
}

// onMonitor carries out a supervisor's monitor command on the call
// goroutine and returns the call's monitor from now on (nil: none).
func (s *Switchboard) onMonitor(ctx context.Context, qc *queuedCall, mon *monitor, sup string, req monitorRequest, l legs, rec *record, log *slog.Logger) *monitor {
	desk := s.opt.Desk
	reply := func(err error) {
		if req.reply != nil {
			req.reply <- err
		}
	}
	switch {
	case req.mode == softphone.MonitorOff:
		if mon != nil && mon.sup == sup {
			s.endMonitor(qc, mon, req.reason, l, rec, log)
			mon = nil
		}
		reply(nil)
		return mon
	case l.agent == nil:
		reply(ErrNotBridged)
		return mon
	case mon != nil && mon.sup != sup:
		reply(fmt.Errorf("%w: %s is monitoring the call", ErrMonitorBusy, mon.sup))
		return mon
	case mon != nil:
		if mon.mode != req.mode {
			mon.mode = req.mode
			mon.wire(ctx, l)
			desk.setMonitorMode(qc, req.mode)
			rec.event("monitor_mode", sup+" "+req.mode)
			desk.tellMonitor(qc, sup, req.mode, "")
			log.Info("supervisor changed monitoring mode", "supervisor", sup, "mode", req.mode)
		}
		reply(nil)
		return mon
	case req.leg == nil:
		reply(ErrNoSoftphone)
		return nil
	}
	if err := desk.claimMonitor(qc, sup, req.mode); err != nil {
		reply(err)
		return nil
	}
	mon = &monitor{sup: sup, mode: req.mode, leg: req.leg, obs: s.opt.MediaObserver}
	mon.toSup = l.ep.Relay(ctx, mon.leg, mon.obs)
	mon.wire(ctx, l)
	rec.event("monitor_start", sup+" "+req.mode)
	desk.tellMonitor(qc, sup, req.mode, "")
	log.Info("supervisor joined the call", "supervisor", sup, "mode", req.mode)
	reply(nil)
	return mon
}

// endMonitor takes the supervisor off the call: the sinks go back to the
// plain bridge, the supervisor's softphone hears of it, the call's events
// say why.
func (s *Switchboard) endMonitor(qc *queuedCall, mon *monitor, reason string, l legs, rec *record, log *slog.Logger) {
	l.plain()
	mon.close()
	s.opt.Desk.releaseMonitor(qc, mon.sup)
	rec.event("monitor_stop", mon.sup+" "+reason)
	s.opt.Desk.tellMonitor(qc, mon.sup, softphone.MonitorOff, reason)
	log.Info("supervisor left the call", "supervisor", mon.sup, "reason", reason)
}
