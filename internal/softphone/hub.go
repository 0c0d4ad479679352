package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/hotline/hotline/internal/media"
)

// Errors returned by the Hub.
var (
	// ErrClosed: the Hub is closed.
	ErrClosed = errors.New("softphone: hub closed")
	// ErrNotConnected: the agent has no open connection right now.
	ErrNotConnected = errors.New("softphone: agent not connected")
	// ErrUnknownAgent: the agent never connected, or signed out.
	ErrUnknownAgent = errors.New("softphone: unknown agent")
)

// ReasonDisconnected is the reason given to Desk.Detached when an agent's
// browser went away: its heartbeat stopped, or its socket closed and no new
// one came within the reload grace period.
const ReasonDisconnected = "disconnected"

// ReasonAudio is the not-ready reason of an agent whose media connection
// failed and did not recover: reported by the page when it gives up its
// retries, or found by the server (Config.AudioGrace).
const ReasonAudio = "audio"

// Desk is the call center behind the agents' connections (the switchboard
// implements it). Its methods are called from the agents' sessions and must
// not block for long.
type Desk interface {
	// Attached is called for each hello: the agent's state snapshot for
	// welcome. The Hub fills Agent and ICEServers when they are empty. A
	// *Error result is sent to the browser as is and the connection stays.
	Attached(ctx context.Context, agent string) (Welcome, error)
	// Command carries one call-center command (Ready, NotReady, Accept,
	// Reject, Hangup, Hold, DTMF, Transfer, WrapupDone). An error goes back
	// to the browser: a *Error with its code, anything else as "internal".
	Command(ctx context.Context, agent string, m Message) error
	// Detached is called once the agent's browser is gone for good
	// (reason ReasonDisconnected); the agent should become not ready and
	// offers to them re-routed. It is not called on page reloads, SignOut or
	// Close.
	Detached(agent string, reason string)
	// AudioLost is called when the agent's page, though connected, has had
	// no working media connection for Config.AudioGrace (and again every
	// AudioGrace while that lasts): the agent should not be offered calls
	// (made not ready with ReasonAudio if ready or ringing).
	AudioLost(agent string)
}

// Conn is one agent WebSocket; *websocket.Conn from github.com/coder/websocket
// implements it.
type Conn interface {
	Read(ctx context.Context) (websocket.MessageType, []byte, error)
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
	SetReadLimit(n int64)
}

// Hub serves every agent's browser: one pion API (G.711 only), one UDP port
// for all peer connections, and for each agent a Leg and at most one live
// session.
type Hub struct {
	cfg  Config
	desk Desk
	log  *slog.Logger
	api  *webrtc.API
	udp  net.PacketConn
	mux  ice.UDPMux

	mu     sync.Mutex // guards the fields below; never held while calling out
	closed bool
	agents map[string]*agentEntry
	nextID uint64
	wg     sync.WaitGroup // Serve calls and reload-grace timers

	closeOnce sync.Once
}

// agentEntry is what the Hub keeps per agent.
type agentEntry struct {
	leg      *Leg
	sess     *session // the live session, nil between sockets
	grace    *time.Timer
	graceGen uint64 // bumped on every attach; a timer of an older generation does nothing
}

// NewHub listens on cfg.UDPAddr and builds the WebRTC API. desk receives
// the agents' commands.
func NewHub(cfg Config, desk Desk, log *slog.Logger) (*Hub, error) {
	if desk == nil {
		return nil, errors.New("softphone: NewHub needs a Desk")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	addr, err := cfg.udpAddr()
	if err != nil {
		return nil, err
	}
	network := "udp4"
	if addr.IP.To4() == nil && !addr.IP.IsUnspecified() {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, addr)
	if err != nil {
		return nil, fmt.Errorf("softphone: listen %s: %w", cfg.UDPAddr, err)
	}
	udp := newSendConn(conn)
	logs := pionLogs{log: log}
	mux := webrtc.NewICEUDPMux(logs.NewLogger("ice-udp-mux"), udp)
	api, err := newAPI(cfg, addr.IP, network, mux, logs)
	if err != nil {
		_ = mux.Close()
		_ = udp.Close()
		return nil, err
	}
	h := &Hub{cfg: cfg, desk: desk, log: log, api: api, udp: udp, mux: mux, agents: map[string]*agentEntry{}}
	log.Info("softphone: listening", "udp", udp.LocalAddr().String())
	return h, nil
}

// newAPI builds the one pion API: PCMU and PCMA only (the browser answers
// G.711, nothing is transcoded), every peer on the UDP mux, no mDNS, no
// interceptors.
func newAPI(cfg Config, ip net.IP, network string, mux ice.UDPMux, logs pionLogs) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	for _, c := range []struct {
		mime string
		pt   media.Codec
	}{{webrtc.MimeTypePCMU, media.PCMU}, {webrtc.MimeTypePCMA, media.PCMA}} {
		err := me.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: c.mime, ClockRate: media.SampleRate},
			PayloadType:        webrtc.PayloadType(c.pt),
		}, webrtc.RTPCodecTypeAudio)
		if err != nil {
			return nil, fmt.Errorf("softphone: register %s: %w", c.mime, err)
		}
	}
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEUDPMux(mux)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if network == "udp6" {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	switch {
	case ip.IsLoopback():
		// Everything on loopback (tests, a browser on this machine).
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(a net.IP) bool { return a.IsLoopback() })
		se.SetRemoteIPFilter(func(a net.IP) bool { return a.IsLoopback() })
	case ip.IsUnspecified():
		se.SetIncludeLoopbackCandidate(true)
	default:
		se.SetIPFilter(func(a net.IP) bool { return a.Equal(ip) })
	}
	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
		})
		if err != nil {
			return nil, fmt.Errorf("softphone: public_ips: %w", err)
		}
	}
	// No interceptors (pion's defaults add NACK, TWCC and RTCP reports): G.711
	// audio needs none of them, and the report interceptor allocates for
	// every received packet.
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{})), nil
}

// UDPAddr returns the address of the media port shared by all agents.
func (h *Hub) UDPAddr() net.Addr { return h.udp.LocalAddr() }

// Leg returns the agent's media leg. It exists from the agent's first
// connection until SignOut, across page reloads.
func (h *Hub) Leg(agent string) (*Leg, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	e := h.agents[agent]
	if e == nil {
		return nil, ErrUnknownAgent
	}
	return e.leg, nil
}

// Send pushes a message to the agent's browser. Messages sent after a new
// socket connected but before its welcome are delivered right after the
// welcome. It fails with ErrNotConnected when the agent has no socket (for
// example during a reload; the next welcome carries the state).
func (h *Hub) Send(agent string, m Message) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	h.mu.Lock()
	var s *session
	if e := h.agents[agent]; e != nil {
		s = e.sess
	}
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if s == nil {
		return ErrNotConnected
	}
	return s.push(b)
}

// Serve runs one agent WebSocket until it closes, the browser goes silent
// for the heartbeat timeout, a newer connection of the same agent replaces
// it, ctx ends, or the Hub closes. The caller (the HTTP layer) has checked
// the agent's session and the Origin. Serve closes conn.
func (h *Hub) Serve(ctx context.Context, agent AgentInfo, conn Conn) error {
	if agent.ID == "" {
		_ = conn.Close(websocket.StatusPolicyViolation, "no agent")
		return errors.New("softphone: Serve: empty agent id")
	}
	s, old, err := h.attach(ctx, agent, conn)
	if err != nil {
		_ = conn.Close(websocket.StatusGoingAway, "server closing")
		return err
	}
	defer h.wg.Done()
	if old != nil {
		old.stop(errReplaced)
	}
	end := s.run()
	h.detach(s, end)
	if errors.Is(end, errBrowserClosed) || errors.Is(end, errReplaced) || errors.Is(end, errSignedOut) {
		return nil
	}
	return end
}

// attach registers a new session for the agent, creating the agent's leg on
// first contact, and returns the session it replaces.
func (h *Hub) attach(ctx context.Context, agent AgentInfo, conn Conn) (*session, *session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, ErrClosed
	}
	e := h.agents[agent.ID]
	if e == nil {
		leg, err := newLeg(agent.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("softphone: new leg: %w", err)
		}
		e = &agentEntry{leg: leg}
		h.agents[agent.ID] = e
	}
	e.graceGen++
	if e.grace != nil && e.grace.Stop() {
		h.wg.Done() // the timer will not run
	}
	e.grace = nil
	h.nextID++
	s := newSession(ctx, h, agent, conn, e.leg, h.nextID)
	old := e.sess
	e.sess = s
	h.wg.Add(1) // this Serve call
	return s, old, nil
}

// detach forgets a finished session. If it was the agent's live one, the
// Desk hears of it: at once when the heartbeat stopped, after the reload
// grace period when the socket closed (unless a new one came).
func (h *Hub) detach(s *session, end error) {
	h.mu.Lock()
	e := h.agents[s.agent.ID]
	if e == nil || e.sess != s || h.closed || errors.Is(end, errSignedOut) {
		h.mu.Unlock()
		return
	}
	e.sess = nil
	if errors.Is(end, errHeartbeat) || h.cfg.ReloadGrace <= 0 {
		h.mu.Unlock()
		s.log.Info("softphone: agent detached", "reason", ReasonDisconnected, "cause", end)
		h.desk.Detached(s.agent.ID, ReasonDisconnected)
		return
	}
	gen := e.graceGen
	h.wg.Add(1)
	e.grace = time.AfterFunc(h.cfg.ReloadGrace, func() {
		defer h.wg.Done()
		h.graceExpired(s, e, gen)
	})
	h.mu.Unlock()
}

// graceExpired tells the Desk the agent is gone, unless a new session
// arrived since.
func (h *Hub) graceExpired(s *session, e *agentEntry, gen uint64) {
	h.mu.Lock()
	gone := !h.closed && e.graceGen == gen && e.sess == nil && h.agents[s.agent.ID] == e
	if gone {
		e.grace = nil
	}
	h.mu.Unlock()
	if gone {
		s.log.Info("softphone: agent detached", "reason", ReasonDisconnected, "cause", "no reconnect within grace period")
		h.desk.Detached(s.agent.ID, ReasonDisconnected)
	}
}

// newPeerID returns an id for a new peer connection.
func (h *Hub) newPeerID() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	return h.nextID
}

// SignOut ends the agent's connection (if any) and closes their leg. The
// Desk is not told: the caller is the one signing the agent out.
func (h *Hub) SignOut(agent string) {
	h.mu.Lock()
	e := h.agents[agent]
	var sess *session
	if e != nil {
		sess = e.sess
		delete(h.agents, agent)
		e.graceGen++
		if e.grace != nil && e.grace.Stop() {
			h.wg.Done()
		}
		e.grace = nil
	}
	h.mu.Unlock()
	if e == nil {
		return
	}
	if sess != nil {
		sess.stop(errSignedOut)
	}
	e.leg.close()
}

// Close ends every session, closes every leg and the UDP port, and waits for
// everything the Hub started. It is idempotent.
func (h *Hub) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		var sessions []*session
		var legs []*Leg
		for _, e := range h.agents {
			if e.grace != nil && e.grace.Stop() {
				h.wg.Done()
			}
			e.grace = nil
			if e.sess != nil {
				sessions = append(sessions, e.sess)
			}
			legs = append(legs, e.leg)
		}
		h.mu.Unlock()
		for _, s := range sessions {
			s.stop(ErrClosed)
		}
		h.wg.Wait()
		for _, l := range legs {
			l.close()
		}
		err = errors.Join(h.mux.Close(), ignoreClosed(h.udp.Close()))
	})
	return err
}

// ignoreClosed drops the error of closing an already closed socket.
func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
