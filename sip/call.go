package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/hotline/hotline/internal/media"
)

// Sides of a call, as reported by Call.End.
const (
	SideCaller  = "caller"
	SideHotline = "hotline"
)

// Causes reported by Call.End (a Hangup cause is reported as given).
const (
	CauseBye          = "bye"           // the caller sent BYE
	CauseCancel       = "cancel"        // the caller cancelled before answer
	CauseAckTimeout   = "ack-timeout"   // no ACK for our 200
	CauseMediaTimeout = "media-timeout" // no RTP for Options.MediaTimeout
	CauseShutdown     = "shutdown"      // the server closed
	CauseHangup       = "hangup"        // HandleCall returned with the call up
	CauseBadSDP       = "bad-sdp"       // the late-offer answer in the ACK was unusable
	CauseMediaError   = "media-error"   // no RTP port could be opened
)

// T1 and T2 of RFC 3261 §17.1.1.1, for our own 2xx retransmissions (§13.3.1.4).
const (
	timerT1 = 500 * time.Millisecond
	timerT2 = 4 * time.Second
)

// byeTimeout bounds how long teardown waits for the response to our BYE.
const byeTimeout = 4 * time.Second

// Call is one inbound call, handed to Handler.HandleCall once answered.
type Call struct {
	id       string
	srv      *Server
	log      *slog.Logger
	invite   *sip.Request
	tx       sip.ServerTransaction
	trunk    TrunkConfig
	source   netip.AddrPort
	arrived  time.Time
	localTag string
	key      string
	sdp      *sdpSession
	sdes     *sdesState // SRTP chosen at the INVITE; nil for plain RTP
	caller   identity   // who is calling, read once from the INVITE

	// dmu guards the digit state: the handler OnDigit set (nil: presses
	// wait in pending), and the last press, to drop its echo from a second
	// source.
	dmu       sync.Mutex
	onDigit   func(media.Digit)
	pending   []media.Digit
	lastDigit media.Digit

	ep       *media.Endpoint // set before answer, then read-only
	answered atomic.Int64    // unix nanos of the 200, 0 before
	ok200    *sip.Response
	ackCh    chan *sip.Request // first ACK for our 200
	cseq     atomic.Uint32     // our in-dialog CSeq

	expectAckSDP atomic.Bool // our 200 (or re-INVITE 200) carried an offer

	// confirmed ends the call's place in the source's unconfirmed count
	// (idempotent; set by the server before run, called at the ACK and at
	// the end, whichever is first).
	confirmed func()

	endOnce sync.Once
	// endCtx is cancelled by finish: the call is over, teardown runs;
	// ending is its Done channel.
	endCtx  context.Context
	ending  <-chan struct{}
	endNow  context.CancelFunc
	side    string // set once in finish, read after ending/done
	cause   string
	mu      sync.Mutex // guards remote
	remote  media.Remote
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when teardown is complete
	ackOnce sync.Once
}

func newCall(s *Server, req *sip.Request, tx sip.ServerTransaction, trunk TrunkConfig, src netip.AddrPort, log *slog.Logger) *Call {
	id := newCallID()
	tag := uuid.NewString()[:8] + uuid.NewString()[:8]
	ctx, cancel := context.WithCancel(context.Background())
	endCtx, endNow := context.WithCancel(context.Background())
	c := &Call{
		endCtx: endCtx, ending: endCtx.Done(), endNow: endNow,
		id: id, srv: s, invite: req, tx: tx, trunk: trunk, source: src,
		arrived: time.Now(), localTag: tag, key: dialogKey(callIDOf(req), tag),
		log:   log.With("call_id", id, "trunk", trunk.Name),
		ackCh: make(chan *sip.Request, 1),
		done:  make(chan struct{}), ctx: ctx, cancel: cancel,
		confirmed: func() {},
	}
	c.caller = identityOf(req, trunk.TrustAssertedIdentity)
	c.cseq.Store(1)
	return c
}

// ID is our call id (UUID v7), logged as call_id.
func (c *Call) ID() string { return c.id }

// SIPCallID is the Call-ID header of the INVITE.
func (c *Call) SIPCallID() string { return callIDOf(c.invite) }

// From is the calling number: P-Asserted-Identity's when the trunk trusts
// it (TrunkConfig.TrustAssertedIdentity) and the INVITE has a usable one,
// else the From user part, or the full From URI when it has no user part.
func (c *Call) From() string { return c.caller.number }

// CallerName is the caller's display name from the same header as From
// (From's own when P-Asserted-Identity gives none), "" when not given.
func (c *Call) CallerName() string { return c.caller.name }

// To is the dialled user part (the number), or the full To URI when it has no user part.
func (c *Call) To() string { return userOrURI(c.invite.To().Address) }

func userOrURI(u sip.Uri) string {
	if u.User != "" {
		return u.User
	}
	return u.String()
}

// Trunk is the trunk the call came in on (the first whose Allow matched the source).
func (c *Call) Trunk() TrunkConfig { return c.trunk }

// Source is the address the INVITE came from.
func (c *Call) Source() netip.AddrPort { return c.source }

// ArrivedAt is when the INVITE was accepted.
func (c *Call) ArrivedAt() time.Time { return c.arrived }

// AnsweredAt is when we sent 200 OK (zero before).
func (c *Call) AnsweredAt() time.Time {
	n := c.answered.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Media is the call's RTP endpoint.
func (c *Call) Media() *media.Endpoint { return c.ep }

// crossSourceWindow is how close in time the same key from two sources (a
// phone that sends both RFC 4733 and SIP INFO) counts as one press.
const crossSourceWindow = 200 * time.Millisecond

// maxPendingDigits bounds the presses kept until OnDigit is called.
const maxPendingDigits = 32

// OnDigit sets the function that takes the caller's key presses from all
// three sources (RFC 4733, in-band, SIP INFO), one per press: the same key
// from a second source within 200 ms is the same press. Presses that came
// before it are handed to f at once, in order; nil stops the delivery
// (later presses wait again). f runs on the goroutine that received the
// press (the media pacer's, or the INFO request's) and must not block.
func (c *Call) OnDigit(f func(media.Digit)) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.onDigit = f
	if f == nil {
		return
	}
	for _, d := range c.pending {
		f(d)
	}
	c.pending = nil
}

// digit takes one press from any source.
func (c *Call) digit(d media.Digit) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	last := c.lastDigit
	if d.Source != last.Source && d.Key == last.Key && d.At.Sub(last.At) < crossSourceWindow {
		return // the same press reported by a second source
	}
	c.lastDigit = d
	if c.onDigit != nil {
		c.onDigit(d)
		return
	}
	if len(c.pending) >= maxPendingDigits {
		c.log.Warn("dtmf dropped: nobody takes the call's digits", "key", string(d.Key))
		return
	}
	c.pending = append(c.pending, d)
}

// Hangup ends the call from our side with cause; the server sends BYE. Idempotent.
func (c *Call) Hangup(cause string) { c.finish(SideHotline, cause) }

// Done is closed once the call has ended and its teardown (BYE, media close) is complete.
func (c *Call) Done() <-chan struct{} { return c.done }

// End reports who ended the call and why; meaningful after Done.
func (c *Call) End() (side, cause string) {
	select {
	case <-c.ending:
		return c.side, c.cause
	default:
		return "", ""
	}
}

// finish records the first end of the call and starts teardown. Idempotent.
func (c *Call) finish(side, cause string) {
	c.endOnce.Do(func() {
		c.side, c.cause = side, cause
		c.endNow()
	})
}

// gotAck passes the first ACK (for our 200) to waitAck; a later ACK that
// answers the offer we made in an offerless re-INVITE updates the media.
func (c *Call) gotAck(req *sip.Request) {
	first := false
	c.ackOnce.Do(func() {
		first = true
		c.ackCh <- req
	})
	if first || !c.expectAckSDP.CompareAndSwap(true, false) || len(req.Body()) == 0 {
		return
	}
	off, err := parseOffer(req.Body(), []media.Codec{media.PCMU, media.PCMA})
	if err != nil {
		c.log.Warn("re-INVITE: unusable answer in ACK, media unchanged", "err", err)
		return
	}
	c.applyOffer(off)
}

func (c *Call) infoDigit(key byte) {
	c.log.Debug("dtmf", "key", string(key), "source", media.SourceINFO)
	c.digit(media.Digit{Key: key, Source: media.SourceINFO, At: time.Now()})
}

// applyOffer points the endpoint at what the peer's SDP says (re-INVITE,
// late-offer ACK). Old-style hold (c=0.0.0.0) keeps the previous address.
func (c *Call) applyOffer(o offer) {
	c.mu.Lock()
	if st := c.sdes; st != nil && c.ep != nil {
		// The first answer, or a re-INVITE (or its ACK) with a new key.
		if k := o.cryptoFor(st.local.Suite); k != nil && (st.remote == nil || string(k) != string(st.remote) || !c.ep.SRTP()) {
			st.remote = k
			if err := c.ep.SetSRTP(st.local.Suite, st.local.Key, k); err != nil {
				c.log.Error("srtp keys refused", "err", err)
			}
		}
	}
	r := media.Remote{Addr: o.Addr, Codec: o.Codec, DTMFType: o.DTMFType, InbandDTMF: c.inband(o),
		Paused: o.Direction == dirInactive || o.Direction == dirRecvOnly}
	if o.Addr.Addr().IsUnspecified() && c.remote.Addr.IsValid() {
		r.Addr = c.remote.Addr
	}
	changed := r != c.remote
	c.remote = r
	c.mu.Unlock()
	if o.onHold() {
		c.log.Info("call on hold", "direction", o.Direction)
	}
	if changed && c.ep != nil {
		c.log.Info("media remote", "addr", r.Addr.String(), "codec", r.Codec.String(), "dtmf_pt", r.DTMFType, "inband", r.InbandDTMF)
		c.ep.SetRemote(r)
	}
}

func (c *Call) inband(o offer) bool {
	switch c.trunk.InbandDTMF {
	case InbandOn:
		return true
	case InbandOff:
		return false
	}
	return o.DTMFType == 0
}

// contact is our Contact header, on the transport the call arrived on.
func (c *Call) contact() *sip.ContactHeader {
	a, tr := c.srv.addr, "tcp"
	if strings.EqualFold(c.invite.Transport(), "tls") {
		a, tr = c.srv.tlsAddr, "tls"
	}
	u := sip.Uri{Scheme: "sip", User: "hotline", Host: a.Addr().String(), Port: int(a.Port())}
	if t := c.invite.Transport(); t != "" && !strings.EqualFold(t, "udp") {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", tr)
	}
	return &sip.ContactHeader{Address: u}
}

// response builds a response to the INVITE carrying our To tag.
func (c *Call) response(code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(c.invite, code, reason, body)
	if to := res.To(); to != nil && code > 100 {
		to.Params.Add("tag", c.localTag)
	}
	return res
}

// run is the call's owner: ring, answer, wait for ACK, run the handler, tear down.
// It runs in the sipgo goroutine of the INVITE.
func (c *Call) run(hasOffer bool, off offer) {
	s := c.srv
	defer close(c.done)
	defer c.cancel()

	// Setting up and answering run in functions of their own: this goroutine
	// carries the call until it ends, and their locals must not stay on its
	// stack.
	cancelled := c.watchCancel()
	if !c.openMedia() {
		return
	}
	acked := false
	defer func() { c.closeMedia(acked) }()
	s.register(c)
	defer s.unregister(c)
	if !c.answer(hasOffer, off, cancelled) {
		return
	}

	if acked = c.waitAck(hasOffer); acked {
		c.log.Info("call answered", "codec", c.currentRemote().Codec.String())
		c.serve()
	} else {
		// Ended between 200 and ACK (ACK timeout, bad late answer, shutdown):
		// free the port and the source's unconfirmed slot now, then, as
		// RFC 3261 §13.3.1.4 says, hang up with BYE (up to byeTimeout).
		c.closeMedia(false)
		if bye := c.sendBye(); bye != nil {
			<-bye
		}
	}
	c.log.Info("call ended", "side", c.side, "cause", c.cause,
		"duration", time.Since(c.arrived).Round(time.Millisecond).String())
}

// watchCancel returns a channel closed when the caller CANCELs the INVITE.
func (c *Call) watchCancel() <-chan struct{} {
	cancelled := make(chan struct{})
	var cancelOnce sync.Once
	c.tx.OnCancel(func(*sip.Request) { cancelOnce.Do(func() { close(cancelled) }) })
	return cancelled
}

// openMedia sends 100 Trying and opens the call's RTP endpoint; without one
// it refuses the call with 503 and reports false.
func (c *Call) openMedia() bool {
	s := c.srv
	s.send(c.tx, sip.NewResponseFromRequest(c.invite, sip.StatusTrying, "Trying", nil))

	ep, err := s.opt.Ports.Open(media.EndpointConfig{Logger: c.log, MediaTimeout: s.opt.MediaTimeout,
		Observer: s.opt.MediaObserver, OnClose: c.mediaClosed, OnDigit: c.digit})
	if err != nil {
		if errors.Is(err, media.ErrNoPorts) {
			s.obs.Dropped(DropNoPort)
			c.log.Error("sip invite refused: no media port", "err", err)
		} else {
			// Most likely the file limit (EMFILE): say so, not "no free port".
			s.obs.Dropped(DropMediaSocket)
			c.log.Error("sip invite refused: cannot open an RTP socket", "err", err)
		}
		s.send(c.tx, c.response(sip.StatusServiceUnavailable, "Service Unavailable", nil))
		c.finish(SideHotline, CauseMediaError)
		return false
	}
	c.ep = ep
	local := ep.LocalAddr()
	if local.Addr().IsUnspecified() {
		local = netip.AddrPortFrom(s.addr.Addr(), local.Port())
	}
	c.sdp = newSDPSession(local)
	c.sdp.sdes = c.sdes
	return true
}

// answer rings (ring_time), answers with 200 OK and SDP, and reports false
// when the call ended before the 200 went out (CANCEL, shutdown, a failed
// answer).
func (c *Call) answer(hasOffer bool, off offer, cancelled <-chan struct{}) bool {
	s := c.srv
	c.log.Info("call arrived", "from", c.From(), "to", c.To(), "transport", c.invite.Transport(), "late_offer", !hasOffer, "asserted", c.caller.asserted)

	if s.cfg.RingTime > 0 {
		s.send(c.tx, c.response(sip.StatusRinging, "Ringing", nil))
		ring := time.NewTimer(s.cfg.RingTime)
		select {
		case <-ring.C:
		case <-cancelled:
			c.finish(SideCaller, CauseCancel)
		case <-c.tx.Done():
			c.finish(SideCaller, CauseCancel)
		case <-s.closing:
			s.send(c.tx, c.response(sip.StatusServiceUnavailable, "Service Unavailable", nil))
			c.finish(SideHotline, CauseShutdown)
		}
		ring.Stop()
		if c.ended() {
			if c.cause == CauseCancel {
				s.obs.Response(sip.StatusRequestTerminated) // sipgo's transaction sent the 487
			}
			c.log.Info("call ended before answer", "side", c.side, "cause", c.cause)
			return false
		}
	}

	var body []byte
	var err error
	if hasOffer {
		c.applyOffer(off)
		body, err = c.sdp.answer(off)
	} else {
		c.expectAckSDP.Store(false) // the first ACK is read by waitAck
		body, err = c.sdp.offerAll()
	}
	if err != nil {
		c.log.Error("sip answer failed", "err", err)
		s.send(c.tx, c.response(sip.StatusInternalServerError, "Server Internal Error", nil))
		c.finish(SideHotline, CauseMediaError)
		return false
	}
	ok := c.response(sip.StatusOK, "OK", body)
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ok.AppendHeader(c.contact())
	ok.AppendHeader(sip.NewHeader("Allow", allowMethods))
	c.ok200 = ok
	select {
	case <-cancelled:
		// CANCEL raced the answer: sipgo already sent 487.
		c.finish(SideCaller, CauseCancel)
		return false
	default:
	}
	if err := c.tx.Respond(ok); err != nil {
		c.log.Info("call ended before answer", "err", err)
		c.finish(SideCaller, CauseCancel)
		return false
	}
	s.obs.Response(sip.StatusOK)
	c.answered.Store(time.Now().UnixNano())
	return true
}

// closeMedia closes the endpoint and leaves the unconfirmed count. The port
// of a call never confirmed by ACK skips the quarantine: a flood of
// unanswered INVITEs must not hold the range for ack timeout + quarantine.
func (c *Call) closeMedia(acked bool) {
	if !acked {
		c.srv.opt.Ports.SkipQuarantine(c.ep)
	}
	_ = c.ep.Close()
	c.confirmed()
}

// overTCP tells a call that came in over a TCP (or TLS) connection.
func (c *Call) overTCP() bool {
	t := c.invite.Transport()
	return strings.EqualFold(t, "tcp") || strings.EqualFold(t, "tls")
}

// checkSRTP refuses a re-INVITE that would change the call's security: an
// SRTP call must go on with a key in its suite, a plain one stays plain.
func (c *Call) checkSRTP(o offer) error {
	if c.sdes == nil {
		if o.SAVP {
			return notAcceptable("the call is not SRTP")
		}
		return nil
	}
	if o.cryptoFor(c.sdes.local.Suite) == nil {
		return notAcceptable("an SRTP call needs a=crypto %s", c.sdes.local.Suite)
	}
	return nil
}

func (c *Call) ended() bool {
	select {
	case <-c.ending:
		return true
	default:
		return false
	}
}

func (c *Call) currentRemote() media.Remote {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote
}

// waitAck retransmits the 200 over UDP until the ACK (RFC 3261 §13.3.1.4)
// and reports whether the call is confirmed and still up.
func (c *Call) waitAck(hasOffer bool) bool {
	s := c.srv
	reliable := !strings.EqualFold(c.invite.Transport(), "udp")
	interval := timerT1
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	if reliable {
		retrans.Stop()
	}
	deadline := time.NewTimer(s.cfg.AckTimeout)
	defer deadline.Stop()
	for {
		select {
		case ack := <-c.ackCh:
			c.confirmed()
			if !hasOffer {
				off, err := parseOffer(ack.Body(), []media.Codec{media.PCMU, media.PCMA})
				if err != nil {
					c.log.Warn("late offer: unusable answer in ACK", "err", err)
					c.finish(SideHotline, CauseBadSDP)
					return false
				}
				c.applyOffer(off)
			}
			return !c.ended()
		case <-retrans.C:
			if err := c.tx.Respond(c.ok200); err != nil {
				c.log.Debug("200 retransmission failed", "err", err)
			}
			interval = min(2*interval, timerT2)
			retrans.Reset(interval)
		case <-deadline.C:
			c.log.Warn("no ACK for 200 OK", "ack_timeout", s.cfg.AckTimeout)
			c.finish(SideHotline, CauseAckTimeout)
			return false
		case <-c.ending:
			return false
		case <-s.closing:
			c.finish(SideHotline, CauseShutdown)
			return false
		}
	}
}

// mediaClosed is the endpoint's OnClose: media that ends (times out, or
// is closed by anything but our teardown) ends the call.
func (c *Call) mediaClosed(err error) {
	if errors.Is(err, media.ErrMediaTimeout) {
		c.finish(SideHotline, CauseMediaTimeout)
	} else {
		c.finish(SideHotline, "media-closed")
	}
}

// serve runs the handler on this goroutine, the INVITE's, until it returns.
// Whatever ends the call first (the caller's BYE, the handler's Hangup, the
// media's end, shutdown) calls finish, and the teardown registered here runs
// then: no goroutine of the call waits on the side while it is up, so a live
// call costs one goroutine's stack.
func (c *Call) serve() {
	s := c.srv
	var bye <-chan struct{} // written by the teardown before torn is closed
	torn := make(chan struct{})
	context.AfterFunc(c.endCtx, func() {
		// Signalling first, then media, then the handler (livekit/sip#404: BYE before media).
		bye = c.sendBye()
		_ = c.ep.Close()
		c.cancel()
		close(torn)
	})
	stopShutdown := context.AfterFunc(s.closingCtx, func() { c.finish(SideHotline, CauseShutdown) })
	defer stopShutdown()
	s.h.HandleCall(c.ctx, c)
	c.finish(SideHotline, CauseHangup) // a no-op when the call had already ended
	<-torn
	if bye != nil {
		<-bye
	}
}

// sendBye sends BYE when we end the call; the returned channel closes when the
// BYE transaction completes (or byeTimeout passes). It returns nil when the
// caller ended the call or a BYE was already sent.
func (c *Call) sendBye() <-chan struct{} {
	if c.side == SideCaller || c.ok200 == nil || !c.cseq.CompareAndSwap(1, 2) {
		return nil
	}
	bye := c.byeRequest()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), byeTimeout)
	tx, err := c.srv.cli.TransactionRequest(ctx, bye, keepDialogHeaders)
	if err != nil {
		cancel()
		c.log.Warn("sending BYE failed", "err", err)
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		defer tx.Terminate()
		for {
			select {
			case res := <-tx.Responses():
				if res.IsProvisional() {
					continue
				}
				c.log.Debug("BYE answered", "code", res.StatusCode)
				return
			case <-tx.Done():
				return
			case <-ctx.Done():
				c.log.Debug("BYE unanswered", "err", ctx.Err())
				return
			}
		}
	}()
	return done
}

// byeRequest builds our in-dialog BYE (RFC 3261 §12.2.1.1, §15.1.1), sent to
// where the INVITE came from so callers behind NAT get it.
func (c *Call) byeRequest() *sip.Request {
	inv := c.invite
	target := inv.From().Address
	if ct := inv.Contact(); ct != nil {
		target = ct.Address
	}
	bye := sip.NewRequest(sip.BYE, *target.Clone())
	from := c.ok200.To().AsFrom()
	to := inv.From().AsTo()
	bye.AppendHeader(&from)
	bye.AppendHeader(&to)
	bye.AppendHeader(sip.HeaderClone(inv.CallID()))
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: c.cseq.Load(), MethodName: sip.BYE})
	mf := sip.MaxForwardsHeader(70)
	bye.AppendHeader(&mf)
	for _, rr := range inv.GetHeaders("Record-Route") {
		bye.AppendHeader(sip.NewHeader("Route", rr.Value()))
	}
	bye.SetTransport(inv.Transport())
	bye.SetDestination(inv.Source())
	bye.SetBody(nil)
	return bye
}

// keepDialogHeaders stops sipgo's client from rewriting our dialog headers; it only adds Via.
func keepDialogHeaders(cl *sipgo.Client, req *sip.Request) error {
	return sipgo.ClientRequestAddVia(cl, req)
}

// String describes the call for logs.
func (c *Call) String() string {
	return fmt.Sprintf("call %s (sip %s) from %s", c.id, c.SIPCallID(), c.From())
}
