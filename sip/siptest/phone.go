// Package siptest is a scriptable SIP test phone for the hotline's tests: it
// dials over loopback (UDP or TCP) with sipgo, streams 20 ms G.711 frames
// through a media.Endpoint (silence, or in-band DTMF tones), presses digits in
// all three ways (RFC 4733, SIP INFO, in-band), holds and unholds with
// re-INVITE, and records what it hears so a test can tell which tone plays.
package siptest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/hotline/hotline/internal/media"
)

// PhoneOptions configure a Phone.
type PhoneOptions struct {
	// Transport is "udp" (default) or "tcp".
	Transport string
	// Codecs are offered in this order of preference (default PCMU, PCMA).
	Codecs []media.Codec
	// DTMFType is the RFC 4733 payload type offered; 0 offers no telephone-event.
	DTMFType uint8
	// Logger receives the phone's logs; nil discards them.
	Logger *slog.Logger
}

// DialOptions change one Dial.
type DialOptions struct {
	// NoSDP sends the INVITE without a body (late offer): the offer comes in
	// the 200 and the phone answers in the ACK.
	NoSDP bool
	// Headers are added to the INVITE.
	Headers map[string]string
	// Username and Password answer a digest challenge (401) to the INVITE.
	Username, Password string
}

// ResponseError is a final non-2xx answer to an INVITE.
type ResponseError struct {
	Code   int
	Reason string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("siptest: call refused: %d %s", e.Code, e.Reason)
}

// Phone is a SIP user agent bound to 127.0.0.1.
type Phone struct {
	opt   PhoneOptions
	log   *slog.Logger
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	cli   *sipgo.Client
	dua   *sipgo.DialogUA
	ports *media.Ports
	conn  net.PacketConn // udp
	ln    net.Listener   // tcp
	wg    sync.WaitGroup

	mu     sync.Mutex
	calls  map[string]*PhoneCall
	closed bool
}

// NewPhone starts a phone listening on a free 127.0.0.1 port.
func NewPhone(opt PhoneOptions) (*Phone, error) {
	if opt.Transport == "" {
		opt.Transport = "udp"
	}
	opt.Transport = strings.ToLower(opt.Transport)
	if opt.Transport != "udp" && opt.Transport != "tcp" {
		return nil, fmt.Errorf("siptest: transport %q is not udp or tcp", opt.Transport)
	}
	if len(opt.Codecs) == 0 {
		opt.Codecs = []media.Codec{media.PCMU, media.PCMA}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ports, err := media.NewPorts(media.PortsConfig{IP: netip.MustParseAddr("127.0.0.1"), Quarantine: -1})
	if err != nil {
		return nil, err
	}
	p := &Phone{opt: opt, log: log.With("component", "siptest"), ports: ports, calls: map[string]*PhoneCall{}}
	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("siptest"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(p.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(p.log)))
	if err != nil {
		return nil, err
	}
	var laddr *net.UDPAddr
	var port int
	switch opt.Transport {
	case "udp":
		p.conn, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err == nil {
			laddr = p.conn.LocalAddr().(*net.UDPAddr)
			port = laddr.Port
		}
	case "tcp":
		p.ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			port = p.ln.Addr().(*net.TCPAddr).Port
		}
	}
	if err != nil {
		_ = p.ua.Close()
		return nil, fmt.Errorf("siptest: listen: %w", err)
	}
	p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(p.log))
	if err == nil {
		p.cli, err = sipgo.NewClient(p.ua, sipgo.WithClientLogger(p.log), sipgo.WithClientHostname("127.0.0.1"))
	}
	if err != nil {
		p.closeListeners()
		_ = p.ua.Close()
		return nil, err
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: port}}
	if opt.Transport == "tcp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	p.dua = &sipgo.DialogUA{Client: p.cli, ContactHDR: contact, RewriteContact: true}
	p.srv.OnBye(p.onBye)
	p.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	if p.conn != nil {
		p.wg.Go(func() { _ = p.srv.ServeUDP(p.conn) })
	} else {
		p.wg.Go(func() { _ = p.srv.ServeTCP(p.ln) })
	}
	return p, nil
}

func (p *Phone) closeListeners() {
	if p.conn != nil {
		_ = p.conn.Close()
	}
	if p.ln != nil {
		_ = p.ln.Close()
	}
}

// Close hangs up nothing: it stops every call's media and the user agent. Idempotent.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	calls := make([]*PhoneCall, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		c.stop()
	}
	p.closeListeners()
	err := p.ua.Close()
	p.wg.Wait()
	return err
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	c := p.calls[callID(req)]
	p.mu.Unlock()
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if err := c.sess.ReadBye(req, tx); err != nil {
		p.log.Debug("read bye", "err", err)
	}
	<-c.ready // a BYE may overtake our ACK: let Dial finish setting the call up
	c.stop()
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// Dial calls uri (e.g. "sip:100@127.0.0.1:5060") and returns once the call is
// answered and ACKed. A final non-2xx answer returns *ResponseError; if ctx
// ends before the answer, the phone sends CANCEL and returns ctx's error.
func (p *Phone) Dial(ctx context.Context, uri string, o DialOptions) (*PhoneCall, error) {
	var recipient sip.Uri
	if err := sip.ParseUri(uri, &recipient); err != nil {
		return nil, fmt.Errorf("siptest: uri %q: %w", uri, err)
	}
	if p.opt.Transport == "tcp" {
		if recipient.UriParams == nil {
			recipient.UriParams = sip.NewParams()
		}
		recipient.UriParams.Add("transport", "tcp")
	}
	ep, err := p.ports.Open(media.EndpointConfig{Logger: p.log})
	if err != nil {
		return nil, err
	}
	c := &PhoneCall{phone: p, ep: ep, done: make(chan struct{}), ready: make(chan struct{}), stopSend: make(chan struct{}), rec: newRecorder(5 * time.Second)}
	c.sdp = newSDPSession(ep.LocalAddr())
	var body []byte
	var hdrs []sip.Header
	if !o.NoSDP {
		body = c.sdp.build(p.opt.Codecs, p.opt.DTMFType, "sendrecv")
		hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	}
	for k, v := range o.Headers {
		hdrs = append(hdrs, sip.NewHeader(k, v))
	}
	sess, err := p.dua.Invite(ctx, recipient, body, hdrs...)
	if err != nil {
		_ = ep.Close()
		return nil, fmt.Errorf("siptest: invite: %w", err)
	}
	c.sess = sess
	p.mu.Lock()
	p.calls[callID(sess.InviteRequest)] = c
	p.mu.Unlock()
	fail := func(err error) (*PhoneCall, error) {
		defer close(c.ready)
		p.forget(c)
		_ = ep.Close()
		_ = sess.Close()
		return nil, err
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{Username: o.Username, Password: o.Password}); err != nil {
		var re *sipgo.ErrDialogResponse
		if errors.As(err, &re) {
			return fail(&ResponseError{Code: re.Res.StatusCode, Reason: re.Res.Reason})
		}
		if ctx.Err() != nil {
			return fail(fmt.Errorf("siptest: dial cancelled: %w", ctx.Err()))
		}
		return fail(fmt.Errorf("siptest: invite: %w", err))
	}
	res := sess.InviteResponse
	remote, err := parseSDP(res.Body(), p.opt.Codecs)
	if err != nil {
		_ = sess.Ack(ctx)
		_ = sess.Bye(ctx)
		return fail(fmt.Errorf("siptest: answer sdp: %w", err))
	}
	if o.NoSDP {
		// Late offer: the 200 carried the offer; we answer in the ACK.
		ack := sip.NewRequest(sip.ACK, res.Contact().Address)
		ack.SetBody(c.sdp.build([]media.Codec{remote.Codec}, remote.DTMFType, "sendrecv"))
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		err = sess.WriteAck(ctx, ack)
	} else {
		err = sess.Ack(ctx)
	}
	if err != nil {
		return fail(fmt.Errorf("siptest: ack: %w", err))
	}
	c.remote = remote
	ep.SetRemote(remote)
	ep.SetSink(c.rec)
	c.wg.Go(c.sendLoop)
	close(c.ready)
	return c, nil
}

func (p *Phone) forget(c *PhoneCall) {
	p.mu.Lock()
	delete(p.calls, callID(c.sess.InviteRequest))
	p.mu.Unlock()
}

// PhoneCall is one answered call of a Phone.
type PhoneCall struct {
	phone *Phone
	sess  *sipgo.DialogClientSession
	ep    *media.Endpoint
	sdp   *sdpSession
	rec   *recorder

	mu     sync.Mutex
	remote media.Remote
	queue  [][]int16 // frames to send before returning to silence
	paused bool      // RFC 4733 events in flight: no audio

	sent     chan struct{} // signalled when the queue drains
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopSend chan struct{}
	ready    chan struct{} // closed when Dial has finished with the call
	done     chan struct{}
}

// Endpoint is the call's RTP endpoint.
func (c *PhoneCall) Endpoint() *media.Endpoint { return c.ep }

// Codec is the codec the server chose.
func (c *PhoneCall) Codec() media.Codec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote.Codec
}

// Done is closed when the call is over (the server sent BYE, or we hung up).
func (c *PhoneCall) Done() <-chan struct{} { return c.done }

// stop ends media and marks the call done. Idempotent.
func (c *PhoneCall) stop() {
	c.stopOnce.Do(func() {
		close(c.stopSend)
		c.wg.Wait()
		_ = c.ep.Close()
		c.phone.forget(c)
		close(c.done)
	})
}

// Hangup sends BYE and ends the call.
func (c *PhoneCall) Hangup(ctx context.Context) error {
	select {
	case <-c.done:
		return errors.New("siptest: call already ended")
	default:
	}
	err := c.sess.Bye(ctx)
	c.stop()
	if err != nil {
		return fmt.Errorf("siptest: bye: %w", err)
	}
	return nil
}

// sendLoop sends one frame every 20 ms: queued audio, else silence, so the
// server's media timeout never fires while the call is up.
func (c *PhoneCall) sendLoop() {
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	silence := make([]int16, media.FrameSamples)
	for {
		select {
		case <-c.stopSend:
			return
		case <-t.C:
		}
		c.mu.Lock()
		frame := silence
		if c.paused {
			frame = nil
		} else if len(c.queue) > 0 {
			frame = c.queue[0]
			c.queue = c.queue[1:]
			if len(c.queue) == 0 && c.sent != nil {
				close(c.sent)
				c.sent = nil
			}
		}
		c.mu.Unlock()
		if frame != nil {
			_ = c.ep.WriteFrame(frame)
		}
	}
}

// play queues samples (cut in 20 ms frames) and waits until they are sent.
func (c *PhoneCall) play(ctx context.Context, samples []int16) error {
	sent := make(chan struct{})
	c.mu.Lock()
	for i := 0; i < len(samples); i += media.FrameSamples {
		f := make([]int16, media.FrameSamples)
		copy(f, samples[i:min(len(samples), i+media.FrameSamples)])
		c.queue = append(c.queue, f)
	}
	c.sent = sent
	c.mu.Unlock()
	select {
	case <-sent:
		return nil
	case <-c.done:
		return errors.New("siptest: call ended")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// digitGap is the pause between two keys, for every method.
const digitGap = 80 * time.Millisecond

// SendDigits presses each key of digits (0-9 * # A-D) by the given method:
// RFC 4733 events, SIP INFO (application/dtmf-relay) or in-band tones.
func (c *PhoneCall) SendDigits(ctx context.Context, digits string, how media.DigitSource) error {
	for i := 0; i < len(digits); i++ {
		key := digits[i]
		var err error
		switch how {
		case media.SourceRFC4733:
			c.setPaused(true)
			err = c.ep.SendDigit(ctx, key, 100*time.Millisecond)
			c.setPaused(false)
		case media.SourceINFO:
			err = c.SendINFO(ctx, "application/dtmf-relay", fmt.Sprintf("Signal=%c\r\nDuration=100\r\n", key))
		case media.SourceInband:
			tone := media.DTMFTone(key, 100*time.Millisecond)
			gap := make([]int16, media.SampleRate*int(digitGap/time.Millisecond)/1000)
			if err := c.play(ctx, append(append([]int16(nil), tone.Samples...), gap...)); err != nil {
				return fmt.Errorf("siptest: digit %q: %w", key, err)
			}
			continue
		default:
			return fmt.Errorf("siptest: unknown digit source %q", how)
		}
		if err != nil {
			return fmt.Errorf("siptest: digit %q: %w", key, err)
		}
		if err := wait(ctx, digitGap); err != nil {
			return err
		}
	}
	return nil
}

func (c *PhoneCall) setPaused(on bool) {
	c.mu.Lock()
	c.paused = on
	c.mu.Unlock()
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendINFO sends an in-dialog INFO with the given body and fails unless it gets 200.
func (c *PhoneCall) SendINFO(ctx context.Context, contentType, body string) error {
	req := sip.NewRequest(sip.INFO, c.sess.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	req.SetBody([]byte(body))
	res, err := c.sess.Do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return &ResponseError{Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// Hold puts the call on hold (re-INVITE with a=sendonly) or takes it off (a=sendrecv).
func (c *PhoneCall) Hold(ctx context.Context, on bool) error {
	dir := "sendrecv"
	if on {
		dir = "sendonly"
	}
	return c.ReInvite(ctx, c.ep.LocalAddr(), dir)
}

// ReInvite sends an in-dialog INVITE announcing local as our media address
// with direction dir, and ACKs the 200. A non-2xx answer is a *ResponseError.
func (c *PhoneCall) ReInvite(ctx context.Context, local netip.AddrPort, dir string) error {
	c.mu.Lock()
	codec, dtmf := c.remote.Codec, c.remote.DTMFType
	c.mu.Unlock()
	c.sdp.local = local
	req := sip.NewRequest(sip.INVITE, c.sess.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(c.sdp.build([]media.Codec{codec}, dtmf, dir))
	res, err := c.sess.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("siptest: re-invite: %w", err)
	}
	ack := sip.NewRequest(sip.ACK, c.sess.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.HeaderClone(res.CSeq()))
	ack.CSeq().MethodName = sip.ACK
	if err := c.sess.WriteRequest(ack); err != nil {
		return fmt.Errorf("siptest: re-invite ack: %w", err)
	}
	if res.StatusCode != 200 {
		return &ResponseError{Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// Level is the Goertzel power at freq over the last window of received audio
// (about 0.5 for a full-scale sine, 0 for silence).
func (c *PhoneCall) Level(freq float64, window time.Duration) float64 {
	return media.Power(c.rec.last(window), freq)
}

// WaitTone waits until a tone at freq has been heard for at least min
// (dominant in the received audio), or ctx ends.
func (c *PhoneCall) WaitTone(ctx context.Context, freq float64, min time.Duration) error {
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("siptest: no %g Hz tone for %s: %w", freq, min, ctx.Err())
		case <-c.done:
			return fmt.Errorf("siptest: call ended while waiting for %g Hz", freq)
		case now := <-t.C:
			w := c.rec.last(60 * time.Millisecond)
			e := media.Energy(w)
			if e > 1e-5 && media.Power(w, freq) > 0.3*e {
				if since.IsZero() {
					since = now
				}
				if now.Sub(since) >= min {
					return nil
				}
			} else {
				since = time.Time{}
			}
		}
	}
}

// recorder keeps the last few seconds of received audio (a ring buffer).
type recorder struct {
	mu  sync.Mutex
	buf []int16
	pos int // next write index
	n   int // valid samples
}

func newRecorder(d time.Duration) *recorder {
	return &recorder{buf: make([]int16, int(d.Seconds()*media.SampleRate))}
}

// WriteFrame implements media.FrameWriter.
func (r *recorder) WriteFrame(pcm []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range pcm {
		r.buf[r.pos] = s
		r.pos = (r.pos + 1) % len(r.buf)
	}
	r.n = min(len(r.buf), r.n+len(pcm))
	return nil
}

// last copies the most recent d of audio.
func (r *recorder) last(d time.Duration) []int16 {
	want := int(d.Seconds() * media.SampleRate)
	r.mu.Lock()
	defer r.mu.Unlock()
	want = min(want, r.n)
	out := make([]int16, want)
	start := (r.pos - want + len(r.buf)) % len(r.buf)
	for i := range out {
		out[i] = r.buf[(start+i)%len(r.buf)]
	}
	return out
}

// Say sends the prompt's audio to the hotline (instead of silence) and
// returns once it has been sent: a caller speaking, for tests that check
// audio reaches an agent.
func (c *PhoneCall) Say(ctx context.Context, p *media.Prompt) error {
	return c.play(ctx, p.Samples)
}
