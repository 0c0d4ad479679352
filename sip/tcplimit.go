package sip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// sipgo's TCP transport accepts every connection and reads it forever (its
// optional ReadTimeout is per read, so one byte every few seconds keeps a
// half-sent request open); and it stops serving TCP for good on the first
// accept error, EMFILE included. tcpListener is the listener we hand it
// instead: it caps connections per source and in total, keeps accepting
// through temporary errors while logging the real cause, and gives every
// connection an idle and a per-message deadline.

// tcpLimits are the knobs of tcpListener, taken from Config.
type tcpLimits struct {
	idle      time.Duration // no complete message and no live call for this long → close
	message   time.Duration // first byte to last of one message; also bounds each write
	perSource int
	total     int
}

// tcpListener wraps the SIP TCP listener. live reports whether a live call
// came in on the connection from raddr; such a connection is never closed
// for being idle.
type tcpListener struct {
	net.Listener
	lim  tcpLimits
	log  *slog.Logger
	obs  Observer
	live func(raddr string) bool
	thr  *logThrottle
	// screen, when set, sees each complete message before sipgo does
	// (see precheck); what it returns in msg goes on to sipgo.
	screen func(msg []byte, raddr string) verdict

	closeOnce sync.Once
	closed    chan struct{}

	mu       sync.Mutex
	open     int
	bySource map[netip.Prefix]int
	errLog   time.Time // last accept error logged
	errHeld  int       // accept errors since then
}

func newTCPListener(l net.Listener, lim tcpLimits, live func(string) bool, log *slog.Logger, obs Observer) *tcpListener {
	return &tcpListener{
		Listener: l, lim: lim, log: log, obs: obs, live: live, thr: newLogThrottle(logEvery),
		closed: make(chan struct{}), bySource: map[netip.Prefix]int{},
	}
}

// Accept returns the next connection within the caps. Connections over a cap
// are closed at once; temporary errors (EMFILE, ENFILE, ECONNABORTED, ...) are
// logged with their cause and retried with a back-off, so TCP keeps serving
// once descriptors free up. It returns only when the listener is closed.
func (l *tcpListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.closed:
				return nil, err
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			l.acceptFailed(err)
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.closed:
				t.Stop()
				return nil, err
			}
			continue
		}
		delay = 0
		raddr := c.RemoteAddr().String()
		ap, _ := netip.ParseAddrPort(raddr)
		key := sourceKey(ap.Addr())
		if reason, n := l.reserve(key); reason != "" {
			// Counted before the close, so whoever sees the close sees the count.
			l.obs.Dropped(reason)
			_ = c.Close()
			if ok, held := l.thr.allow(key, time.Now()); ok {
				l.log.Warn("sip tcp connection refused: "+reasonText(reason), "source", ap.Addr().String(),
					"open_from_source", n, "max_per_source", l.lim.perSource, "open_total", l.openNow(),
					"max_total", l.lim.total, "refused_not_logged", held)
			}
			continue
		}
		now := time.Now()
		return &tcpConn{Conn: c, l: l, key: key, raddr: raddr, lastMsg: now}, nil
	}
}

func reasonText(reason string) string {
	if reason == DropTCPSource {
		return "too many connections from source"
	}
	return "too many connections"
}

// acceptFailed logs the accept error itself, once a second at most: at the
// file limit this is the line that tells the operator what is wrong.
func (l *tcpListener) acceptFailed(err error) {
	l.obs.Dropped(DropTCPAccept)
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.errLog) < time.Second {
		l.errHeld++
		l.mu.Unlock()
		return
	}
	held := l.errHeld
	l.errLog, l.errHeld = now, 0
	open := l.open
	l.mu.Unlock()
	l.log.Error("sip tcp accept failed, retrying", "err", err, "open_connections", open, "errors_not_logged", held)
}

// reserve takes a slot for a connection from key, or says which cap is full
// and how many connections key has.
func (l *tcpListener) reserve(key netip.Prefix) (reason string, fromSource int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.bySource[key]
	switch {
	case n >= l.lim.perSource:
		return DropTCPSource, n
	case l.open >= l.lim.total:
		return DropTCPTotal, n
	}
	l.bySource[key] = n + 1
	l.open++
	return "", n + 1
}

func (l *tcpListener) unreserve(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.bySource[key] <= 1 {
		delete(l.bySource, key)
	} else {
		l.bySource[key]--
	}
}

// openNow is the number of open accepted connections.
func (l *tcpListener) openNow() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Close stops accepting; open connections are sipgo's to close.
func (l *tcpListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// tcpConn is one accepted connection with deadlines. Read is called only by
// sipgo's reader goroutine for the connection, so the framing state needs no
// lock; Close may come from anywhere.
type tcpConn struct {
	net.Conn
	l     *tcpListener
	key   netip.Prefix
	raddr string

	fr       framer
	cur      []byte    // the message being read, held until complete
	out      []byte    // bytes ready for sipgo
	readErr  error     // returned once out is drained
	msgStart time.Time // first byte of the message being read; zero between messages
	lastMsg  time.Time // last complete message (or accept)

	closeOnce sync.Once
}

// Read reads with a deadline: between messages, lastMsg + idle (renewed while
// a live call uses the connection); inside a message, its first byte +
// message timeout. When one passes the connection is closed and the error
// wraps net.ErrClosed, which sipgo treats as a normal close.
func (c *tcpConn) Read(b []byte) (int, error) {
	for len(c.out) == 0 {
		if c.readErr != nil {
			return 0, c.readErr
		}
		n, err := c.readRaw(b)
		if n > 0 {
			c.collect(b[:n], time.Now())
		}
		if len(c.cur) > maxScreened {
			c.l.obs.Dropped(DropMalformed)
			c.l.log.Debug("sip tcp connection closed: message too large", "remote", c.raddr)
			_ = c.Close()
			c.cur, c.out = nil, nil
			err = fmt.Errorf("sip tcp %s: message too large: %w", c.raddr, net.ErrClosed)
		}
		if err != nil {
			c.readErr = err
		}
	}
	n := copy(b, c.out)
	c.out = c.out[n:]
	return n, nil
}

// maxScreened bounds one message held for screening (sipgo refuses larger ones too).
const maxScreened = 1 << 16

// collect feeds what was read to the framer: bytes between messages go
// straight to sipgo, a message is held until it is complete and screened.
func (c *tcpConn) collect(p []byte, now time.Time) {
	for len(p) > 0 {
		inMsg := c.fr.state != frameBetween
		rest, ev := c.fr.feed(p)
		used := p[:len(p)-len(rest)]
		switch ev {
		case frameStarted:
			c.out = append(c.out, used[:len(used)-1]...)
			c.cur = append(c.cur[:0], used[len(used)-1])
			c.msgStart = now
		case frameDone:
			c.cur = append(c.cur, used...)
			c.finish()
			c.msgStart = time.Time{}
			c.lastMsg = now
		default:
			if inMsg {
				c.cur = append(c.cur, used...)
			} else {
				c.out = append(c.out, used...)
			}
		}
		p = rest
	}
}

// finish screens the complete message in cur: it goes on to sipgo
// (perhaps rewritten), or is answered here and dropped.
func (c *tcpConn) finish() {
	msg := c.cur
	if c.l.screen != nil {
		v := c.l.screen(msg, c.raddr)
		if v.reply != nil {
			if _, err := c.Write(v.reply); err != nil {
				c.l.log.Debug("sip tcp stateless answer failed", "remote", c.raddr, "err", err)
			}
		}
		msg = v.msg
	}
	c.out = append(c.out, msg...)
	c.cur = c.cur[:0]
}

// readRaw reads with the connection's deadlines.
func (c *tcpConn) readRaw(b []byte) (int, error) {
	for {
		deadline := c.lastMsg.Add(c.l.lim.idle)
		if !c.msgStart.IsZero() {
			deadline = c.msgStart.Add(c.l.lim.message)
		}
		if err := c.Conn.SetReadDeadline(deadline); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(b)
		if n > 0 {
			return n, err
		}
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return n, err
		}
		reason := DropTCPSlow
		if c.msgStart.IsZero() {
			if c.l.live(c.raddr) {
				c.lastMsg = time.Now()
				continue
			}
			reason = DropTCPIdle
		}
		c.l.obs.Dropped(reason)
		c.l.log.Debug("sip tcp connection closed", "reason", reason, "remote", c.raddr)
		_ = c.Close()
		return 0, fmt.Errorf("sip tcp %s: %s: %w", c.raddr, reason, net.ErrClosed)
	}
}

// Write bounds each write by the message timeout, so a peer that never
// reads cannot block sipgo's writers for ever.
func (c *tcpConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.l.lim.message)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// SetReadDeadline is ignored: Read keeps its own deadlines.
func (c *tcpConn) SetReadDeadline(time.Time) error { return nil }

// SetDeadline sets only the write deadline: Read keeps its own.
func (c *tcpConn) SetDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(t) }

// Close closes the connection and gives its slot back, once.
func (c *tcpConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.l.unreserve(c.key) })
	return err
}

// framer follows SIP message boundaries on a stream (RFC 3261 §18.3: headers
// up to an empty line, then Content-Length bytes of body) just enough to tell
// "between messages" from "inside one". It never changes the bytes; sipgo
// parses them.
type framer struct {
	state   frameState
	line    [40]byte // start of the current header line, lower-cased
	lineLen int      // bytes of the current line seen (may exceed len(line))
	clen    int      // Content-Length of the message being read
	body    int      // body bytes still to come
}

type frameState uint8

const (
	frameBetween frameState = iota // skipping CRLF keep-alives
	frameHead
	frameBody
)

type frameEvent uint8

const (
	frameNone frameEvent = iota
	frameStarted
	frameDone
)

// maxFramedBody bounds the Content-Length the framer believes.
const maxFramedBody = 1 << 24

// feed consumes p up to the first event (a message starting or ending) and
// returns the rest.
func (f *framer) feed(p []byte) ([]byte, frameEvent) {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch f.state {
		case frameBetween:
			if b == '\r' || b == '\n' {
				continue
			}
			f.state, f.lineLen, f.clen = frameHead, 0, 0
			f.headByte(b)
			return p[i+1:], frameStarted
		case frameHead:
			if f.headByte(b) {
				if f.clen == 0 {
					f.state = frameBetween
					return p[i+1:], frameDone
				}
				f.state, f.body = frameBody, f.clen
			}
		case frameBody:
			take := min(f.body, len(p)-i)
			f.body -= take
			i += take - 1
			if f.body == 0 {
				f.state = frameBetween
				return p[i+1:], frameDone
			}
		}
	}
	return nil, frameNone
}

// headByte takes one byte of the header section and reports whether it
// ended the section (the empty line).
func (f *framer) headByte(b byte) bool {
	if b != '\n' {
		if b != '\r' || f.lineLen > 0 {
			if f.lineLen < len(f.line) {
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				f.line[f.lineLen] = b
			}
			f.lineLen++
		}
		return false
	}
	n := f.lineLen
	f.lineLen = 0
	if n == 0 {
		return true
	}
	if n > len(f.line) {
		n = len(f.line)
	}
	if v, ok := contentLength(f.line[:n]); ok {
		f.clen = v
	}
	return false
}

// contentLength parses "content-length: N" or "l: N" (already lower-cased).
func contentLength(line []byte) (int, bool) {
	name := line
	for i, b := range line {
		if b == ':' {
			name, line = line[:i], line[i+1:]
			break
		}
		if i == len(line)-1 {
			return 0, false
		}
	}
	for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
		name = name[:len(name)-1]
	}
	if string(name) != "content-length" && string(name) != "l" {
		return 0, false
	}
	v, digits := 0, 0
	for _, b := range line {
		switch {
		case b == ' ' || b == '\t' || b == '\r':
			if digits > 0 {
				return v, true
			}
		case '0' <= b && b <= '9':
			v = v*10 + int(b-'0')
			digits++
			if v > maxFramedBody {
				return maxFramedBody, true
			}
		default:
			return v, digits > 0
		}
	}
	return v, digits > 0
}
