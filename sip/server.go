package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/hotline/hotline/internal/media"
)

// Handler runs one answered call. HandleCall runs for the call's whole life in
// its own goroutine; ctx ends when the call ends (remote BYE, media timeout,
// Hangup, server Close). When HandleCall returns and the call is still up, the
// server hangs up with BYE.
type Handler interface {
	HandleCall(ctx context.Context, c *Call)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Call)

// HandleCall calls f(ctx, c).
func (f HandlerFunc) HandleCall(ctx context.Context, c *Call) { f(ctx, c) }

// Observer receives SIP counters (implemented by the metrics package).
type Observer interface {
	// Request counts one received request by method.
	Request(method string)
	// Response counts one response we sent by status code.
	Response(code int)
	// Dropped counts a refused or discarded message, call or TCP
	// connection by reason: one of the Drop* constants (a fixed set, never
	// an address).
	Dropped(reason string)
}

// Options are the server's collaborators.
type Options struct {
	// Logger is the parent logger; nil discards logs.
	Logger *slog.Logger
	// Ports allocates one RTP endpoint per call (required).
	Ports *media.Ports
	// MediaTimeout hangs a call up when no RTP arrives for this long (0 = off).
	MediaTimeout time.Duration
	// MediaObserver receives RTP counters; may be nil.
	MediaObserver media.Observer
	// Observer receives SIP counters; may be nil.
	Observer Observer
	// TLSConfig is the server side of SIP over TLS (certificate and
	// versions), required when Config.TLSListen is set; cmd builds it from
	// the same certificate holder as HTTPS, so SIGHUP renews both.
	TLSConfig *tls.Config
}

// Reasons passed to Observer.Dropped.
const (
	DropMalformed = "malformed"
	DropACL       = "acl"
	DropRateLimit = "rate_limit"
	DropMaxCalls  = "max_calls"
	DropDraining  = "draining"
	DropNoPort    = "no_media_port"
	// DropMediaSocket: an RTP socket could not be opened for another reason
	// than a full port range, e.g. the process is out of file descriptors.
	DropMediaSocket = "media_socket"
	// DropUnconfirmed: the source already has MaxUnconfirmedPerSource calls
	// not yet confirmed by ACK.
	DropUnconfirmed = "unconfirmed"
	// DropVersion: the request line is not SIP/2.0 (answered 505).
	DropVersion = "sip_version"
	// DropTCPSource and DropTCPTotal: a new TCP connection over the
	// per-source or the total cap, closed at once.
	DropTCPSource = "tcp_source_limit"
	DropTCPTotal  = "tcp_connection_limit"
	// DropTCPIdle: a TCP connection with no message and no live call for TCPIdleTimeout.
	DropTCPIdle = "tcp_idle"
	// DropTCPSlow: a TCP connection whose message took over TCPMessageTimeout.
	DropTCPSlow = "tcp_message_timeout"
	// DropTCPAccept: accepting a TCP connection failed (EMFILE, ...).
	DropTCPAccept = "tcp_accept_error"
)

func init() {
	// sipgo refuses to send a UDP message over UDPMTUSize-200 bytes. For
	// requests RFC 3261 §18.1.1 says to use TCP then, but a response must
	// go back the way the request came (§18.2.2), however long: the answer
	// to a request with many Via headers (RFC 4475 longreq) is otherwise
	// never sent. Our own requests (BYE) are far below the limit.
	sip.UDPMTUSize = 65535 + 200
}

// allowMethods is our Allow header: everything we answer.
const allowMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"

// knownMethod tells RFC methods we recognise but do not serve (405, not 501).
func knownMethod(m sip.RequestMethod) bool {
	switch m {
	case sip.REGISTER, sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.MESSAGE, sip.PUBLISH, sip.PRACK, sip.UPDATE:
		return true
	}
	return false
}

// Server is the SIP edge: one sipgo user agent listening on UDP and TCP.
type Server struct {
	cfg     Config
	h       Handler
	opt     Options
	log     *slog.Logger
	obs     Observer
	trunks  trunkTable
	auth    *authenticator
	limiter *rateLimiter
	unconf  *unconfirmedTable
	thr     *logThrottle // per-source refusal logs
	malThr  *logThrottle // per-source logs of requests refused before parsing

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client

	udp     net.PacketConn
	tcp     net.Listener
	tls     net.Listener // nil unless cfg.TLSListen
	addr    netip.AddrPort
	tlsAddr netip.AddrPort
	serveWG sync.WaitGroup // listener goroutines

	draining atomic.Bool
	started  atomic.Bool
	// closingCtx is cancelled by Close: no new calls, live calls hang up;
	// closing is its Done channel.
	closingCtx context.Context
	closing    <-chan struct{}
	stopCalls  context.CancelFunc
	once       sync.Once
	closeErr   error

	mu       sync.Mutex
	calls    map[string]*Call // by dialog key (Call-ID + our tag)
	tcpCalls map[string]int   // live calls by the TCP connection (remote address) they came on
	reserved int              // calls admitted and not yet torn down; compared with MaxCalls
	released chan struct{}    // poked (never blocks) each time a call is torn down
}

// NewServer validates cfg and builds a server; Start makes it listen.
func NewServer(cfg Config, h Handler, opt Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("sip: nil Handler")
	}
	if opt.Ports == nil {
		return nil, errors.New("sip: Options.Ports is required")
	}
	if cfg.TLSListen != "" && opt.TLSConfig == nil {
		return nil, errors.New("sip: tls_listen is set but Options.TLSConfig is nil")
	}
	trunks, err := newTrunkTable(cfg.Trunks)
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	obs := opt.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	cfg.Trunks = append([]TrunkConfig(nil), cfg.Trunks...)
	closingCtx, stopCalls := context.WithCancel(context.Background())
	return &Server{
		closingCtx: closingCtx, closing: closingCtx.Done(), stopCalls: stopCalls,
		cfg: cfg, h: h, opt: opt, log: log.With("component", "sip"), obs: obs,
		trunks: trunks, auth: newAuthenticator(cfg.AuthNonceExpiry), limiter: newRateLimiter(cfg.InviteRate, cfg.InviteBurst),
		unconf: newUnconfirmedTable(cfg.MaxUnconfirmedPerSource), thr: newLogThrottle(logEvery), malThr: newLogThrottle(logEvery),
		calls: map[string]*Call{}, tcpCalls: map[string]int{},
		released: make(chan struct{}, 1),
	}, nil
}

// Start binds UDP and TCP on cfg.Addr (the same port for both; port 0 picks
// one) and returns once both listen. ctx bounds the start only; stop with Close.
func (s *Server) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("sip: server already started")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	hook := slog.New(&parseErrorHook{next: s.log.Handler(), obs: s.obs})
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("hotline"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(hook), sip.WithTransportLayerReadFilter(s.screenUDP)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(hook)),
	)
	if err != nil {
		return fmt.Errorf("sip: user agent: %w", err)
	}
	s.ua = ua
	if err := s.listen(ctx); err != nil {
		_ = ua.Close()
		return err
	}
	host := s.addr.Addr().String()
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(s.log))
	if err == nil {
		s.cli, err = sipgo.NewClient(ua, sipgo.WithClientLogger(s.log),
			sipgo.WithClientHostname(host), sipgo.WithClientPort(int(s.addr.Port())))
	}
	if err != nil {
		s.closeListeners()
		_ = ua.Close()
		return fmt.Errorf("sip: server: %w", err)
	}
	s.routes()
	s.serveWG.Go(func() { _ = s.srv.ServeUDP(s.udp) })
	s.serveWG.Go(func() { _ = s.srv.ServeTCP(s.tcp) })
	if s.tls != nil {
		s.serveWG.Go(func() { _ = s.srv.ServeTLS(s.tls) })
		s.log.Info("sip listening", "addr", s.addr.String(), "transports", "udp,tcp", "tls_addr", s.tlsAddr.String())
		return nil
	}
	s.log.Info("sip listening", "addr", s.addr.String(), "transports", "udp,tcp")
	return nil
}

// listen binds UDP first, then TCP on the same port (retrying a few free
// ports when cfg asks for port 0 and TCP's twin is taken).
func (s *Server) listen(ctx context.Context) error {
	want, err := netip.ParseAddrPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("sip: addr %q: %w", s.cfg.Addr, err)
	}
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		udp, err := lc.ListenPacket(ctx, "udp", want.String())
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", want, err)
		}
		got := udp.LocalAddr().(*net.UDPAddr).AddrPort()
		tcp, err := lc.Listen(ctx, "tcp", got.String())
		if err != nil {
			_ = udp.Close()
			if want.Port() == 0 && attempt < 10 {
				continue
			}
			return fmt.Errorf("sip: listen tcp %s: %w", got, err)
		}
		s.udp = udp
		s.tcp = newTCPListener(tcp, tcpLimits{
			idle: s.cfg.TCPIdleTimeout, message: s.cfg.TCPMessageTimeout,
			perSource: s.cfg.MaxTCPConnsPerSource, total: s.cfg.MaxTCPConns,
		}, s.hasTCPCall, s.log, s.obs)
		s.tcp.(*tcpListener).screen = func(msg []byte, raddr string) verdict { return s.screen(msg, true, raddr) }
		s.addr = netip.AddrPortFrom(got.Addr().Unmap(), got.Port())
		if err := s.listenTLS(ctx); err != nil {
			s.closeListeners()
			return err
		}
		return nil
	}
}

// listenTLS binds SIP over TLS on cfg.TLSListen, when set. The TLS layer
// sits under the same connection caps, deadlines and screening as TCP:
// the tcpListener wraps the tls.Conns, so it sees the plain SIP, and a
// handshake that stalls is cut by the idle timeout.
func (s *Server) listenTLS(ctx context.Context) error {
	if s.cfg.TLSListen == "" {
		return nil
	}
	var lc net.ListenConfig
	raw, err := lc.Listen(ctx, "tcp", s.cfg.TLSListen)
	if err != nil {
		return fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSListen, err)
	}
	l := newTCPListener(tls.NewListener(raw, s.opt.TLSConfig), tcpLimits{
		idle: s.cfg.TCPIdleTimeout, message: s.cfg.TCPMessageTimeout,
		perSource: s.cfg.MaxTCPConnsPerSource, total: s.cfg.MaxTCPConns,
	}, s.hasTCPCall, s.log, s.obs)
	l.screen = func(msg []byte, raddr string) verdict { return s.screen(msg, true, raddr) }
	s.tls = l
	got := raw.Addr().(*net.TCPAddr).AddrPort()
	s.tlsAddr = netip.AddrPortFrom(got.Addr().Unmap(), got.Port())
	return nil
}

// screenUDP is sipgo's read filter: each UDP datagram is screened by
// precheck before sipgo parses it (TCP messages are screened by tcpConn).
func (s *Server) screenUDP(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if info.Transport != "UDP" || s.udp == nil {
		return data, nil
	}
	v := s.screen(data, false, info.RemoteAddr.String())
	if v.reply != nil {
		if _, err := s.udp.WriteTo(v.reply, info.RemoteAddr); err != nil {
			s.log.Debug("sip stateless answer failed", "remote", info.RemoteAddr.String(), "err", err)
		}
	}
	return v.msg, nil
}

// screen runs precheck on one message from remote and counts a refusal.
func (s *Server) screen(msg []byte, stream bool, remote string) verdict {
	v := precheck(msg, stream)
	if v.code != 0 {
		s.obs.Dropped(DropMalformed)
		if v.reply != nil {
			s.obs.Response(v.code)
		}
		if ok, notLogged := s.malThr.allow(remoteKey(remote), time.Now()); ok {
			s.log.Info("sip request refused before parsing", "code", v.code, "reason", v.why,
				"source", remote, "refused_not_logged", notLogged)
		}
	}
	return v
}

// remoteKey is the throttling key of an ip:port source.
func remoteKey(remote string) netip.Prefix {
	ap, _ := netip.ParseAddrPort(remote)
	return sourceKey(ap.Addr())
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
	if s.tls != nil {
		_ = s.tls.Close()
	}
}

// TLSAddr is the bound SIP over TLS address (zero when TLS is off).
func (s *Server) TLSAddr() netip.AddrPort { return s.tlsAddr }

// Addr is the bound address (the real port when cfg.Addr had port 0).
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Drain makes every new INVITE get 503 with Retry-After; live calls go on.
func (s *Server) Drain() {
	if !s.draining.Swap(true) {
		s.log.Info("sip draining: new calls refused")
	}
}

// ActiveCalls is the number of admitted calls (ringing or answered).
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reserved
}

// Close hangs up every live call with BYE, waits for their handlers until ctx
// ends, then stops the listeners and the user agent. It is idempotent. Each
// call is owned by the sipgo goroutine of its INVITE; Close waits for all of
// them to finish their teardown (or for ctx).
func (s *Server) Close(ctx context.Context) error {
	s.once.Do(func() {
		s.draining.Store(true)
		s.mu.Lock()
		s.stopCalls() // under mu: admit never reserves a slot after this
		s.mu.Unlock()
		for s.ActiveCalls() > 0 && s.closeErr == nil {
			select {
			case <-s.released:
			case <-ctx.Done():
				s.closeErr = fmt.Errorf("sip: close: %d calls still running: %w", s.ActiveCalls(), ctx.Err())
			}
		}
		s.closeListeners()
		if s.ua != nil {
			// The UA is closed last: BYEs above went out through it.
			if err := s.ua.Close(); err != nil {
				s.log.Debug("sip user agent close", "err", err)
			}
		}
		s.serveWG.Wait()
	})
	return s.closeErr
}

// routes registers the sipgo handlers, each wrapped to count and to honour Max-Forwards.
func (s *Server) routes() {
	s.srv.OnInvite(s.wrap(s.onInvite))
	s.srv.OnAck(s.wrap(s.onAck))
	s.srv.OnBye(s.wrap(s.onBye))
	s.srv.OnCancel(s.wrap(s.onCancel))
	s.srv.OnOptions(s.wrap(s.onOptions))
	s.srv.OnInfo(s.wrap(s.onInfo))
	s.srv.OnNoRoute(s.wrap(s.onOther))
}

func (s *Server) wrap(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.obs.Request(string(req.Method))
		if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
			// RFC 3261 §8.2.2 / §21.5.7: we only speak SIP/2.0, and say so in 2.0.
			s.obs.Dropped(DropVersion)
			if !req.IsAck() {
				res := sip.NewResponseFromRequest(req, sip.StatusVersionNotSupported, "Version Not Supported", nil)
				res.SipVersion = "SIP/2.0"
				s.send(tx, res)
			}
			return
		}
		if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 && !req.IsAck() {
			// RFC 3261 §8.2.2 / §16.3: a request out of hops is refused, OPTIONS included.
			s.respond(tx, req, sip.StatusTooManyHops, "Too Many Hops", nil)
			return
		}
		if tags := required(req); len(tags) > 0 && !req.IsAck() && !req.IsCancel() {
			// RFC 3261 §8.2.2.3: we support no extension, so any Require
			// is refused, naming what we lack. Proxy-Require is for proxies.
			s.respond(tx, req, sip.StatusBadExtension, "Bad Extension", nil,
				sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
			return
		}
		h(req, tx)
	}
}

// respond sends a response built from req and counts it.
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	s.send(tx, res)
}

func (s *Server) send(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "code", res.StatusCode, "err", err)
		return
	}
	s.obs.Response(res.StatusCode)
}

func (s *Server) retryAfter() sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter.Round(time.Second)/time.Second)))
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, sip.StatusOK, "OK", nil,
		sip.NewHeader("Allow", allowMethods), sip.NewHeader("Accept", "application/sdp"))
}

func (s *Server) onOther(req *sip.Request, tx sip.ServerTransaction) {
	if knownMethod(req.Method) {
		s.respond(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil, sip.NewHeader("Allow", allowMethods))
		return
	}
	s.respond(tx, req, sip.StatusNotImplemented, "Not Implemented", nil, sip.NewHeader("Allow", allowMethods))
}

// onCancel only sees a CANCEL that matched no INVITE transaction (sipgo's
// transaction layer answers the matching ones itself and sends 487).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
}

// dialogCall finds the call an in-dialog request belongs to.
func (s *Server) dialogCall(req *sip.Request) *Call {
	to, cid := req.To(), req.CallID()
	if to == nil || cid == nil {
		return nil
	}
	tag, _ := to.Params.Get("tag")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[dialogKey(cid.Value(), tag)]
}

func dialogKey(callID, localTag string) string { return callID + "\x00" + localTag }

func (s *Server) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if c := s.dialogCall(req); c != nil {
		c.gotAck(req)
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.dialogCall(req)
	if c == nil {
		s.respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	s.respond(tx, req, sip.StatusOK, "OK", nil)
	c.finish(SideCaller, CauseBye)
}

func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.dialogCall(req)
	if c == nil {
		s.respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	key, err := parseINFO(ct, req.Body())
	switch {
	case errors.Is(err, errNotDTMF):
		s.respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil,
			sip.NewHeader("Accept", ctDTMFRelay+", "+ctDTMF))
		return
	case err != nil:
		s.respond(tx, req, sip.StatusBadRequest, "Bad INFO body: "+oneLine(err.Error()), nil)
		return
	}
	s.respond(tx, req, sip.StatusOK, "OK", nil)
	c.infoDigit(key)
}

// onInvite admits a new call (or handles a re-INVITE) and, for a new call,
// runs its whole life in this goroutine: sipgo gives every request its own
// goroutine and keeps the INVITE transaction alive while we hold it.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	// The checks run in a function of their own: this goroutine carries the
	// call until it ends, and their locals must not stay on its stack.
	c, hasOffer, off := s.admitInvite(req, tx)
	if c == nil {
		return
	}
	defer c.confirmed()
	defer s.release()
	c.run(hasOffer, *off)
}

// admitInvite checks a new INVITE and, when it may become a call, returns
// the call (holding a MaxCalls slot and the source's unconfirmed slot) and
// its offer; otherwise it answers the INVITE and returns nil.
func (s *Server) admitInvite(req *sip.Request, tx sip.ServerTransaction) (*Call, bool, *offer) {
	if req.From() == nil || req.To() == nil || req.CallID() == nil {
		s.obs.Dropped(DropMalformed)
		s.respond(tx, req, sip.StatusBadRequest, "Bad Request: missing From, To or Call-ID", nil)
		return nil, false, nil
	}
	if to := req.To(); to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return nil, false, nil
	}
	src, _ := netip.ParseAddrPort(req.Source())
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	log := s.log.With("sip_call_id", callIDOf(req), "source", src.String())

	if s.draining.Load() {
		s.obs.Dropped(DropDraining)
		s.respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", nil, s.retryAfter())
		return nil, false, nil
	}
	te := s.trunks.entry(src.Addr())
	if te == nil {
		s.obs.Dropped(DropACL)
		log.Warn("sip invite refused: source not allowed by any trunk")
		s.respond(tx, req, sip.StatusForbidden, "Forbidden", nil)
		return nil, false, nil
	}
	if !s.limiter.allow(src.Addr(), time.Now()) {
		s.obs.Dropped(DropRateLimit)
		log.Warn("sip invite refused: rate limit")
		s.respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", nil, s.retryAfter())
		return nil, false, nil
	}
	trunk := te.cfg
	if trunk.Auth != nil && !s.authenticate(req, tx, te, src, log) {
		return nil, false, nil
	}
	if !acceptsSDP(req) {
		// RFC 3261 §8.2.3 / RFC 4475 sdp01: our answer is SDP, which the caller refuses.
		s.respond(tx, req, sip.StatusNotAcceptable, "Not Acceptable", nil, sip.NewHeader("Accept", "application/sdp"))
		return nil, false, nil
	}
	var off offer
	var sdes *sdesState
	hasOffer := len(req.Body()) > 0
	if !hasOffer && trunk.SRTP == SRTPRequired {
		log.Info("sip invite refused: srtp required and no offer")
		s.respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here: SRTP required: offer SDP with a=crypto in the INVITE", nil)
		return nil, false, nil
	}
	if hasOffer {
		body, ok := inviteSDP(req)
		if !ok {
			s.respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil,
				sip.NewHeader("Accept", "application/sdp"))
			return nil, false, nil
		}
		var err error
		off, err = parseOffer(body, nil)
		if err != nil {
			var se *sdpError
			errors.As(err, &se)
			log.Info("sip invite refused: sdp", "code", se.Code, "reason", se.Reason)
			s.respond(tx, req, se.Code, se.Reason, nil)
			return nil, false, nil
		}
		secure := strings.EqualFold(req.Transport(), "tls") || trunk.SRTPWithoutTLS
		if sdes, err = chooseSRTP(trunk.SRTP, secure, off); err != nil {
			var se *sdpError
			errors.As(err, &se)
			log.Info("sip invite refused: srtp", "code", se.Code, "reason", se.Reason, "srtp", trunk.SRTP, "transport", req.Transport())
			s.respond(tx, req, se.Code, se.Reason, nil)
			return nil, false, nil
		}
	}
	key := sourceKey(src.Addr())
	if held, ok := s.unconf.acquire(key); !ok {
		s.obs.Dropped(DropUnconfirmed)
		if ok, notLogged := s.thr.allow(key, time.Now()); ok {
			log.Warn("sip invite refused: too many unconfirmed calls from source (INVITEs not followed by ACK)",
				"unconfirmed", held, "max_unconfirmed_per_source", s.cfg.MaxUnconfirmedPerSource,
				"refused_not_logged", notLogged)
		}
		s.respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", nil, s.retryAfter())
		return nil, false, nil
	}
	var confirmOnce sync.Once
	confirmed := func() { confirmOnce.Do(func() { s.unconf.release(key) }) }
	if !s.admit() {
		confirmed()
		s.obs.Dropped(DropMaxCalls)
		log.Warn("sip invite refused: max calls reached", "max_calls", s.cfg.MaxCalls)
		s.respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", nil, s.retryAfter())
		return nil, false, nil
	}
	c := newCall(s, req, tx, trunk, src, log)
	c.confirmed = confirmed
	c.sdes = sdes
	return c, hasOffer, &off
}

// authenticate checks the digest credentials of an INVITE from a trunk
// with auth and, unless they are good, answers it: 401 with a challenge
// (stale=true when only the nonce was old), or 403 for wrong credentials,
// which is logged and counted as DropAuth.
func (s *Server) authenticate(req *sip.Request, tx sip.ServerTransaction, te *trunkEntry, src netip.AddrPort, log *slog.Logger) bool {
	now := time.Now()
	out, why := s.auth.check(req, te.cfg.Name, te.cfg.Auth, te.password, now)
	switch out {
	case authOK:
		return true
	case authFailed:
		s.obs.Dropped(DropAuth)
		if ok, notLogged := s.thr.allow(sourceKey(src.Addr()), now); ok {
			log.Warn("sip invite refused: digest authentication failed", "trunk", te.cfg.Name, "reason", why,
				"refused_not_logged", notLogged)
		}
		s.respond(tx, req, sip.StatusForbidden, "Forbidden", nil)
	default:
		s.respond(tx, req, sip.StatusUnauthorized, "Unauthorized", nil,
			s.auth.challenges(te.cfg.Name, te.cfg.Auth, out == authStale, now)...)
	}
	return false
}

// hasTCPCall reports whether a live call came in on the TCP connection from raddr.
func (s *Server) hasTCPCall(raddr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpCalls[raddr] > 0
}

// admit reserves a call slot unless MaxCalls is reached or the server is
// closing; the caller must call s.release when the call is torn down.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return false
	default:
	}
	if s.reserved >= s.cfg.MaxCalls {
		return false
	}
	s.reserved++
	return true
}

func (s *Server) release() {
	s.mu.Lock()
	s.reserved--
	s.mu.Unlock()
	select {
	case s.released <- struct{}{}:
	default:
	}
}

func (s *Server) register(c *Call) {
	s.mu.Lock()
	s.calls[c.key] = c
	if c.overTCP() {
		s.tcpCalls[c.invite.Source()]++
	}
	s.mu.Unlock()
}

func (s *Server) unregister(c *Call) {
	s.mu.Lock()
	delete(s.calls, c.key)
	if c.overTCP() {
		src := c.invite.Source()
		if s.tcpCalls[src] <= 1 {
			delete(s.tcpCalls, src)
		} else {
			s.tcpCalls[src]--
		}
	}
	s.mu.Unlock()
}

// onReInvite handles an in-dialog INVITE: hold, unhold, new media address or codec.
func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.dialogCall(req)
	if c == nil {
		s.respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	var body []byte
	if len(req.Body()) == 0 {
		// Offerless re-INVITE: we offer again, the answer comes in the ACK.
		b, err := c.sdp.offerAll()
		if err != nil {
			s.respond(tx, req, sip.StatusInternalServerError, "Server Internal Error", nil)
			return
		}
		c.expectAckSDP.Store(true)
		body = b
	} else {
		off, err := parseOffer(req.Body(), nil)
		if err == nil {
			err = c.checkSRTP(off)
		}
		if err != nil {
			var se *sdpError
			errors.As(err, &se)
			c.log.Info("sip re-invite refused: sdp", "code", se.Code, "reason", se.Reason)
			s.respond(tx, req, se.Code, se.Reason, nil)
			return
		}
		c.applyOffer(off)
		b, err := c.sdp.answer(off)
		if err != nil {
			s.respond(tx, req, sip.StatusInternalServerError, "Server Internal Error", nil)
			return
		}
		body = b
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(c.contact())
	s.send(tx, res)
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func mediaType(v string) string {
	t, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(t)
}

// newCallID makes our own call id (uuid v7: time-ordered).
func newCallID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

type nopObserver struct{}

func (nopObserver) Request(string) {}
func (nopObserver) Response(int)   {}
func (nopObserver) Dropped(string) {}

// parseErrorHook is the slog handler given to sipgo's transport and
// transaction layers. sipgo has no callback for messages it cannot parse; it
// logs them ("failed to parse", or a transaction key it cannot make). We count
// those as Dropped("malformed") and log them at debug level instead of error,
// so garbage on the port cannot flood the log. Other records pass through.
type parseErrorHook struct {
	next slog.Handler
	obs  Observer
}

func (h *parseErrorHook) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h *parseErrorHook) Handle(ctx context.Context, r slog.Record) error {
	if isParseFailure(r) {
		h.obs.Dropped(DropMalformed)
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		d := slog.NewRecord(r.Time, slog.LevelDebug, "sip message dropped: malformed", r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "data" {
				d.AddAttrs(a)
			}
			return true
		})
		return h.next.Handle(ctx, d)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func isParseFailure(r slog.Record) bool {
	switch r.Message {
	case "failed to parse":
		return true
	case "Server tx failed to handle request":
		bad := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "error" && strings.Contains(a.Value.String(), "make key failed") {
				bad = true
			}
			return !bad
		})
		return bad
	}
	return false
}

func (h *parseErrorHook) WithAttrs(as []slog.Attr) slog.Handler {
	return &parseErrorHook{next: h.next.WithAttrs(as), obs: h.obs}
}

func (h *parseErrorHook) WithGroup(name string) slog.Handler {
	return &parseErrorHook{next: h.next.WithGroup(name), obs: h.obs}
}
