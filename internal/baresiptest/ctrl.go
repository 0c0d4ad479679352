package baresiptest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// maxCtrlMessage bounds one control message; baresip's are a few hundred bytes.
const maxCtrlMessage = 64 << 10

// commandTimeout bounds how long baresip may take to answer one command.
const commandTimeout = 5 * time.Second

// Event types of baresip's ctrl_tcp module that Call acts on.
const (
	eventEstablished = "CALL_ESTABLISHED"
	eventClosed      = "CALL_CLOSED"
)

// appendNetstring appends msg to dst as a netstring: "LEN:msg,".
func appendNetstring(dst, msg []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ':')
	dst = append(dst, msg...)
	return append(dst, ',')
}

// readNetstring reads one netstring of at most limit bytes from r. It returns
// io.EOF only when r ends cleanly between netstrings.
func readNetstring(r *bufio.Reader, limit int) ([]byte, error) {
	n, digits := 0, 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && digits > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if b == ':' {
			break
		}
		if b < '0' || b > '9' {
			return nil, fmt.Errorf("netstring: bad length byte %q", b)
		}
		n = n*10 + int(b-'0')
		digits++
		if n > limit {
			return nil, fmt.Errorf("netstring: longer than %d bytes", limit)
		}
	}
	if digits == 0 {
		return nil, errors.New("netstring: empty length")
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("netstring: %w", err)
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("netstring: want ',' after %d bytes, got %q", n, buf[n])
	}
	return buf[:n], nil
}

// ctrlCommand is one command sent to ctrl_tcp.
type ctrlCommand struct {
	Command string `json:"command"`
	Params  string `json:"params,omitempty"`
	Token   string `json:"token"`
}

// ctrlMessage is one message from ctrl_tcp: a response to a command
// (Response set) or an event (Event set).
type ctrlMessage struct {
	Response bool   `json:"response"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	Token    string `json:"token"`
	Event    bool   `json:"event"`
	Type     string `json:"type"`
	ID       string `json:"id"`
	Param    string `json:"param"`
}

// ctrl is the connection to one baresip's ctrl_tcp module and what it has
// reported about the call so far. Only the goroutine running Call uses it;
// its reader goroutine only forwards messages.
type ctrl struct {
	conn   net.Conn
	log    *slog.Logger
	msgs   chan ctrlMessage
	stop   chan struct{}
	done   chan struct{}
	err    error // why the reader stopped; read after done is closed
	tokens int

	dialed      bool // the dial command succeeded
	established bool
	closed      bool
	reason      string
	callID      string
	resp        ctrlMessage // the last response to a command
}

// newCtrl starts reading messages from conn.
func newCtrl(conn net.Conn, log *slog.Logger) *ctrl {
	c := &ctrl{
		conn: conn,
		log:  log,
		msgs: make(chan ctrlMessage),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go c.read()
	return c
}

// read forwards each message until the connection fails or close is called.
func (c *ctrl) read() {
	defer close(c.done)
	defer close(c.msgs)
	br := bufio.NewReader(c.conn)
	for {
		b, err := readNetstring(br, maxCtrlMessage)
		if err != nil {
			c.err = err
			return
		}
		var m ctrlMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.err = fmt.Errorf("bad control message %q: %w", b, err)
			return
		}
		select {
		case c.msgs <- m:
		case <-c.stop:
			return
		}
	}
}

// close ends the connection and waits for the reader. It is idempotent.
func (c *ctrl) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	_ = c.conn.Close()
	<-c.done
}

// observe records a command response, or what an event says about the call.
func (c *ctrl) observe(m ctrlMessage) {
	if m.Response {
		c.resp = m
		return
	}
	if !m.Event {
		return
	}
	c.log.Debug("baresip event", "type", m.Type, "param", m.Param, "call_id", m.ID)
	switch m.Type {
	case eventEstablished:
		c.established = true
		c.callID = m.ID
	case eventClosed:
		c.closed = true
		c.reason = m.Param
		if c.callID == "" {
			c.callID = m.ID
		}
	}
}

// noLimit tells pump to wait without a time limit.
const noLimit time.Duration = -1

// pump handles messages until done reports true (checked first and after
// each message), limit passes (noLimit: never), or ctx ends. It reports
// whether done became true; a closed connection or ctx is an error.
func (c *ctrl) pump(ctx context.Context, limit time.Duration, done func() bool) (bool, error) {
	var expired <-chan time.Time
	if limit >= 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		expired = t.C
	}
	for !done() {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				<-c.done
				return false, fmt.Errorf("baresip control connection closed: %w", c.err)
			}
			c.observe(m)
		case <-expired:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return true, nil
}

// command sends one command and waits for its response, handling the events
// that arrive meanwhile. It returns the response's data.
func (c *ctrl) command(ctx context.Context, name, params string) (string, error) {
	c.tokens++
	token := strconv.Itoa(c.tokens)
	b, err := json.Marshal(ctrlCommand{Command: name, Params: params, Token: token})
	if err != nil {
		return "", err
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(commandTimeout)); err != nil {
		return "", err
	}
	if _, err := c.conn.Write(appendNetstring(nil, b)); err != nil {
		return "", fmt.Errorf("baresip command %s: %w", name, err)
	}
	answered, err := c.pump(ctx, commandTimeout, func() bool { return c.resp.Token == token })
	switch {
	case err != nil:
		return "", fmt.Errorf("baresip command %s: %w", name, err)
	case !answered:
		return "", fmt.Errorf("baresip command %s: no answer within %v", name, commandTimeout)
	case !c.resp.OK:
		return "", fmt.Errorf("baresip command %s failed: %s", name, strings.TrimSpace(c.resp.Data))
	}
	return c.resp.Data, nil
}
