package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Why a session ended (the cause of its context).
var (
	errReplaced      = errors.New("softphone: replaced by a newer connection")
	errHeartbeat     = errors.New("softphone: no message within the heartbeat timeout")
	errBrowserClosed = errors.New("softphone: connection closed by the browser")
	errSignedOut     = errors.New("softphone: agent signed out")
	errSlowReader    = errors.New("softphone: browser does not read its messages")
)

// StatusReplaced is the WebSocket close code sent to a connection that a
// newer one of the same agent replaced (another tab, or a reload that won
// the race).
const StatusReplaced websocket.StatusCode = 4000

const (
	// outQueue bounds the messages waiting for the socket; a browser that
	// lets it fill is disconnected.
	outQueue = 256
	// writeTimeout bounds one socket write.
	writeTimeout = 5 * time.Second
	// offerTimeout bounds answering one offer.
	offerTimeout = 10 * time.Second
)

// session is one agent WebSocket: it reads and answers the browser's
// messages in order, owns the page's peer connection, and writes pushed
// messages through one writer goroutine.
type session struct {
	h     *Hub
	agent AgentInfo
	conn  Conn
	leg   *Leg
	log   *slog.Logger

	ctx    context.Context // the session's lifetime; its cause says why it ended
	cancel context.CancelCauseFunc
	out    chan []byte

	mu       sync.Mutex // guards welcomed and pending, and orders sends to out
	welcomed bool
	pending  [][]byte // pushed before welcome, sent right after it

	peer *peer // owned by the run goroutine
}

// newSession prepares a session; run starts it.
func newSession(ctx context.Context, h *Hub, agent AgentInfo, conn Conn, leg *Leg, id uint64) *session {
	sctx, cancel := context.WithCancelCause(ctx)
	return &session{
		h: h, agent: agent, conn: conn, leg: leg,
		log:    h.log.With("agent", agent.ID, "conn", id),
		ctx:    sctx,
		cancel: cancel,
		out:    make(chan []byte, outQueue),
	}
}

// stop ends the session for cause (first cause wins).
func (s *session) stop(cause error) { s.cancel(cause) }

// run serves the socket until the session ends, then closes the socket and
// the peer connection. It returns why the session ended.
//
// Reads and writes are not bound to the session's context: coder/websocket
// drops the connection without a close frame when an operation's context
// ends, and a replaced or signed-out browser must get its close code. The
// session ends them by closing the socket instead.
func (s *session) run() error {
	s.log.Info("softphone: agent connected")
	s.conn.SetReadLimit(MaxMessageBytes)
	var wg sync.WaitGroup
	wg.Go(s.writeLoop)
	wg.Go(s.watchAudio)
	wg.Go(func() {
		<-s.ctx.Done()
		s.closeConn(context.Cause(s.ctx))
	})
	s.cancel(s.readLoop())
	wg.Wait()
	if s.peer != nil {
		s.peer.close()
	}
	cause := context.Cause(s.ctx)
	s.log.Info("softphone: agent connection ended", "cause", cause)
	return cause
}

// closeConn closes the socket in the way that fits why the session ended.
func (s *session) closeConn(cause error) {
	var err error
	switch {
	case errors.Is(cause, errReplaced):
		err = s.conn.Close(StatusReplaced, "replaced by a newer connection")
	case errors.Is(cause, errSignedOut):
		err = s.conn.Close(websocket.StatusNormalClosure, "signed out")
	case errors.Is(cause, ErrClosed), errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
		err = s.conn.Close(websocket.StatusGoingAway, "server closing")
	default: // heartbeat, closed or misbehaving browser: no handshake
		err = s.conn.CloseNow()
	}
	if err != nil {
		s.log.Debug("softphone: close socket", "err", err)
	}
}

// readLoop handles messages until the socket fails, the heartbeat times
// out, or the session is stopped.
func (s *session) readLoop() error {
	for {
		rctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.HeartbeatTimeout)
		typ, data, err := s.conn.Read(rctx)
		expired := rctx.Err() != nil
		cancel()
		if err != nil {
			switch {
			case s.ctx.Err() != nil:
				return context.Cause(s.ctx)
			case expired:
				return errHeartbeat
			default:
				return fmt.Errorf("%w: %w", errBrowserClosed, err)
			}
		}
		s.handle(typ, data)
	}
}

// handle answers one message.
func (s *session) handle(typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageText {
		s.reply(&Error{Code: CodeBadJSON, Message: "send JSON in text frames"})
		return
	}
	m, err := Decode(data)
	if err != nil {
		s.replyError(err, "")
		return
	}
	if !FromBrowser(m.Type()) {
		s.reply(&Error{Code: CodeUnknownType, Ref: m.Type(), Message: fmt.Sprintf("%q is a server message", m.Type())})
		return
	}
	switch m := m.(type) {
	case Ping:
		s.reply(Pong(m))
	case Hello:
		s.hello()
	case WebRTCOffer:
		s.offer(m.SDP)
	case ICE:
		if s.peer == nil {
			s.log.Debug("softphone: ice candidate before any offer, ignored")
			return
		}
		if err := s.peer.addCandidate(m.Candidate); err != nil {
			s.reply(&Error{Code: CodeWebRTC, Ref: TypeICE, Message: err.Error()})
		}
	default:
		if !s.isWelcomed() {
			s.reply(&Error{Code: CodeSequence, Ref: m.Type(), Message: "send hello first"})
			return
		}
		if err := s.h.desk.Command(s.ctx, s.agent.ID, m); err != nil {
			s.replyError(err, m.Type())
		}
	}
}

// hello sends welcome, then whatever was pushed before it.
func (s *session) hello() {
	w, err := s.h.desk.Attached(s.ctx, s.agent.ID)
	if err != nil {
		s.replyError(err, TypeHello)
		return
	}
	if w.Agent.ID == "" {
		w.Agent = s.agent
	}
	if w.ICEServers == nil {
		w.ICEServers = s.h.cfg.ICEServers
	}
	if w.ICEServers == nil {
		w.ICEServers = []ICEServer{}
	}
	if w.Reasons == nil {
		w.Reasons = []string{}
	}
	b, err := Encode(w)
	if err != nil {
		s.replyError(err, TypeHello)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueueLocked(b)
	for _, p := range s.pending {
		s.enqueueLocked(p)
	}
	s.pending = nil
	s.welcomed = true
}

// offer answers a webrtc_offer on a new peer connection, closing the
// page's previous one.
func (s *session) offer(sdp string) {
	if s.peer != nil {
		s.peer.close()
		s.peer = nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, offerTimeout)
	defer cancel()
	id := s.h.newPeerID()
	p, answer, err := newPeer(ctx, s.h.api, id, s.leg, sdp, s.log.With("peer", id))
	if err != nil {
		s.log.Warn("softphone: cannot answer the browser's offer", "err", err)
		s.reply(&Error{Code: CodeWebRTC, Ref: TypeWebRTCOffer, Message: err.Error()})
		return
	}
	s.peer = p
	s.reply(WebRTCAnswer{SDP: answer})
}

// isWelcomed reports whether welcome was sent.
func (s *session) isWelcomed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.welcomed
}

// replyError sends err to the browser: an *Error as is, anything else as
// "internal" (and logged, since the browser is not told what happened).
func (s *session) replyError(err error, ref string) {
	var pe *Error
	if errors.As(err, &pe) {
		e := *pe
		if e.Ref == "" {
			e.Ref = ref
		}
		s.reply(&e)
		return
	}
	s.log.Warn("softphone: request failed", "type", ref, "err", err)
	s.reply(&Error{Code: CodeInternal, Ref: ref, Message: "the server could not do this; try again"})
}

// reply sends a direct answer (it does not wait for welcome).
func (s *session) reply(m Message) {
	b, err := Encode(m)
	if err != nil {
		s.log.Error("softphone: encode reply", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueueLocked(b)
}

// push queues a message from the Desk; before welcome it waits for it.
func (s *session) push(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return ErrNotConnected
	}
	if !s.welcomed {
		if len(s.pending) >= outQueue/2 {
			s.cancel(errSlowReader)
			return ErrNotConnected
		}
		s.pending = append(s.pending, b)
		return nil
	}
	s.enqueueLocked(b)
	return nil
}

// enqueueLocked hands b to the writer; a full queue ends the session.
// s.mu is held.
func (s *session) enqueueLocked(b []byte) {
	select {
	case s.out <- b:
	default:
		s.cancel(errSlowReader)
	}
}

// writeLoop writes queued messages until the session ends.
func (s *session) writeLoop() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case b := <-s.out:
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := s.conn.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				s.cancel(fmt.Errorf("%w: write: %w", errBrowserClosed, err))
				return
			}
		}
	}
}

// watchAudio reports to the Desk, once welcomed, a media connection that
// has been down (failed, closed, or never set up) for AudioGrace, and again
// every AudioGrace while it stays down.
func (s *session) watchAudio() {
	grace := s.h.cfg.AudioGrace
	if grace < 0 {
		return
	}
	tick := time.NewTicker(min(time.Second, grace/4))
	defer tick.Stop()
	var down time.Time // since when the media is down; zero while it is up
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			if !s.isWelcomed() || s.leg.Connected() {
				down = time.Time{}
				continue
			}
			if down.IsZero() {
				down = now
				continue
			}
			if now.Sub(down) >= grace {
				s.log.Warn("softphone: no audio connection to the agent's page", "for", now.Sub(down).Round(time.Second))
				s.h.desk.AudioLost(s.agent.ID)
				down = now
			}
		}
	}
}
