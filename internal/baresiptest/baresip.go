package baresiptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotline/hotline/internal/media"
)

// ErrNotInstalled reports that the baresip binary or its modules are missing.
var ErrNotInstalled = errors.New("baresip not found: install it with `apt-get install -y baresip`")

// DefaultModulePath is where Debian's baresip-core puts its modules.
const DefaultModulePath = "/usr/lib/baresip/modules"

// dtmfKeys are the keys baresip can send as RFC 4733 events.
const dtmfKeys = "0123456789*#ABCD"

const (
	// startAttempts bounds how often Call restarts baresip when the control
	// port it picked was taken before baresip could bind it.
	startAttempts = 3
	// connectTimeout bounds how long baresip may take to open its control port.
	connectTimeout = 5 * time.Second
	// closeTimeout bounds the wait for CALL_CLOSED after a hangup.
	closeTimeout = 5 * time.Second
	// exitTimeout bounds the wait for baresip to quit before it is killed.
	exitTimeout = 3 * time.Second
	// silenceMargin is the silence added after the planned call length: aufile
	// ends the call when its file runs out.
	silenceMargin = 30 * time.Second
	// maxCall bounds the planned call length: aufile holds its whole file
	// (16 KB a second) in memory.
	maxCall = 10 * time.Minute
	// maxLog bounds the output kept for Result.Log.
	maxLog = 1 << 20
)

// Options configure one call from baresip.
type Options struct {
	// Target is the SIP URI to dial over UDP, e.g. "sip:support@127.0.0.1:5060"
	// (required).
	Target string
	// Digits are sent as RFC 4733 events after the call is answered, e.g.
	// "11#" (keys 0-9 * # A-D).
	Digits string
	// DigitGap is the pause before each digit.
	DigitGap time.Duration
	// Hold is how long baresip stays in the call after the digits before it
	// hangs up. The call ends earlier when the peer hangs up.
	Hold time.Duration
	// AudioIn is an optional WAV file baresip sends as its microphone, once,
	// from the answer on; silence follows. Any format media.LoadWAV reads.
	// Without it baresip sends silence.
	AudioIn string
	// Caller is the user part of baresip's address, sip:Caller@127.0.0.1
	// (default "baresip").
	Caller string
	// SIPTrace adds baresip's SIP trace (-s) to Result.Log.
	SIPTrace bool
	// MediaEnc is the account's media encryption, e.g. "srtp-mand" (RTP/SAVP
	// with SDES keys) or "srtp" (offered, not required); it loads srtp.so.
	// Dial a "sip:...;transport=tls" Target so the keys travel over TLS
	// (baresip 1.0.0 does not verify the server's certificate).
	MediaEnc string
	// AuthUser and AuthPass, when set, answer a 401 digest challenge with
	// these credentials (the account's auth_user and auth_pass).
	AuthUser, AuthPass string
	// RecordDir, when set, loads sndfile.so, which writes what baresip
	// heard (decoded) and sent as dump-*-dec.wav and dump-*-enc.wav there.
	RecordDir string
	// Binary is the baresip executable (default "baresip" on PATH).
	Binary string
	// ModulePath is baresip's module folder (default DefaultModulePath).
	ModulePath string
	// Logger receives progress and baresip's events (default: discarded).
	Logger *slog.Logger
}

// Result is what baresip saw of the call.
type Result struct {
	// Established reports that the call was answered (CALL_ESTABLISHED).
	Established bool
	// Closed is baresip's reason when the call closed (CALL_CLOSED): e.g.
	// "Connection reset by user" when baresip hung up, "Connection reset by
	// peer" after the peer's BYE, "486 Busy Here" for a rejected call. Empty
	// if baresip never reported the call closed.
	Closed string
	// CallID is baresip's id of the call, the SIP Call-ID.
	CallID string
	// Sent are the digits baresip accepted for sending.
	Sent string
	// Log is baresip's console output, without colour codes and status lines.
	Log string
}

// Call runs baresip, dials o.Target, sends o.Digits, stays o.Hold, hangs up
// and stops baresip; it returns when the call is over. The call ending
// early (rejected, or hung up by the peer) is not an error: look at Result.
// An error means baresip could not run or be driven, or ctx ended; Result
// then holds what was seen so far. baresip is always stopped (its whole
// process group) before Call returns.
func Call(ctx context.Context, o Options) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	bin, err := exec.LookPath(o.Binary)
	if err != nil {
		return Result{}, fmt.Errorf("%w (%v)", ErrNotInstalled, err)
	}
	if _, err := os.Stat(filepath.Join(o.ModulePath, "ctrl_tcp.so")); err != nil {
		return Result{}, fmt.Errorf("%w: no modules in %s (%v)", ErrNotInstalled, o.ModulePath, err)
	}
	dir, err := os.MkdirTemp("", "baresiptest-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	if err := writeSource(filepath.Join(dir, "source.wav"), o); err != nil {
		return Result{}, err
	}

	var p *process
	for attempt := 1; ; attempt++ {
		p, err = start(ctx, bin, dir, o)
		if err == nil {
			break
		}
		if attempt == startAttempts || !errors.Is(err, errNoControl) || ctx.Err() != nil {
			return Result{}, err
		}
		o.Logger.Debug("baresip: retrying start", "attempt", attempt, "err", err)
	}
	res, err := p.run(ctx, o)
	p.stop(ctx)
	res.Log = p.output()
	return res, err
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if !strings.HasPrefix(o.Target, "sip:") || strings.ContainsFunc(o.Target, isSpaceOrControl) {
		return o, fmt.Errorf("baresiptest: target %q is not a sip: URI", o.Target)
	}
	for _, d := range o.Digits {
		if !strings.ContainsRune(dtmfKeys, d) {
			return o, fmt.Errorf("baresiptest: digit %q is not one of %s", d, dtmfKeys)
		}
	}
	if o.DigitGap < 0 || o.Hold < 0 {
		return o, errors.New("baresiptest: DigitGap and Hold must not be negative")
	}
	if d := o.planned(); d > maxCall {
		return o, fmt.Errorf("baresiptest: digits and hold last %v, more than the %v a call may last", d, maxCall)
	}
	if o.Caller == "" {
		o.Caller = "baresip"
	}
	if strings.ContainsFunc(o.Caller, func(r rune) bool { return isSpaceOrControl(r) || strings.ContainsRune("<>@;:", r) }) {
		return o, fmt.Errorf("baresiptest: caller %q is not a SIP user part", o.Caller)
	}
	if strings.ContainsFunc(o.MediaEnc+o.RecordDir, isSpaceOrControl) || strings.ContainsAny(o.MediaEnc, "<>;") {
		return o, fmt.Errorf("baresiptest: media encryption %q or record folder %q cannot go in the config", o.MediaEnc, o.RecordDir)
	}
	if o.Binary == "" {
		o.Binary = "baresip"
	}
	if o.ModulePath == "" {
		o.ModulePath = DefaultModulePath
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// planned is how long the call lasts after the answer, unless the peer
// ends it.
func (o Options) planned() time.Duration {
	return time.Duration(len(o.Digits))*o.DigitGap + o.Hold
}

// isSpaceOrControl reports characters that cannot appear in a config value.
func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}

// writeSource writes the WAV file baresip's aufile module plays: o.AudioIn,
// then silence well past the planned end of the call (aufile hangs up when
// its file ends).
func writeSource(path string, o Options) error {
	var samples []int16
	if o.AudioIn != "" {
		f, err := os.Open(o.AudioIn)
		if err != nil {
			return fmt.Errorf("baresiptest: audio in: %w", err)
		}
		p, err := media.LoadWAV(o.AudioIn, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("baresiptest: audio in: %w", err)
		}
		samples = p.Samples
	}
	length := o.planned() + silenceMargin
	if n := int(length / time.Second * media.SampleRate); n > len(samples) {
		samples = append(samples, make([]int16, n-len(samples))...)
	}
	var buf bytes.Buffer
	if err := media.WriteWAV(&buf, samples); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// configTemplate is baresip's config: SIP on a kernel-chosen loopback port,
// RTP on one checked port pair, G.711 only, aufile as microphone, an
// aubridge device nobody reads as speaker (no sound card needed), commands
// and events over ctrl_tcp, and menu for the dial/sndcode/hangup commands.
const configTemplate = `# written by internal/baresiptest
poll_method		epoll
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
call_max_calls		1
audio_player		aubridge,hotline-null
audio_alert		aubridge,hotline-null
audio_source		aufile,%s
rtp_ports		%d-%d
rtcp_mux		no
module_path		%s
module			g711.so
module			aufile.so
module			aubridge.so
module			ctrl_tcp.so
module_tmp		account.so
module_app		menu.so
ctrl_tcp_listen		127.0.0.1:%d
`

// errNoControl reports that baresip's control port could not be reached.
var errNoControl = errors.New("baresip control port unreachable")

// process is one running baresip.
type process struct {
	cmd    *exec.Cmd
	out    *logBuffer
	exited chan error // receives cmd.Wait's result once
	ctrl   *ctrl
	log    *slog.Logger
}

// start writes a config with fresh ports into dir, runs baresip on it and
// connects to its control port.
func start(ctx context.Context, bin, dir string, o Options) (*process, error) {
	rtpPort, err := freeUDPPair()
	if err != nil {
		return nil, err
	}
	ctrlPort, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	config := fmt.Sprintf(configTemplate, filepath.Join(dir, "source.wav"), rtpPort, rtpPort+1, o.ModulePath, ctrlPort)
	account := fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0", o.Caller)
	if o.MediaEnc != "" {
		config += "module\t\t\tsrtp.so\n"
		account += ";mediaenc=" + o.MediaEnc
	}
	if o.AuthUser != "" {
		account += ";auth_user=" + o.AuthUser + ";auth_pass=" + o.AuthPass
	}
	if o.RecordDir != "" {
		config += "module\t\t\tsndfile.so\nsnd_path\t\t" + o.RecordDir + "\n"
	}
	files := map[string]string{
		"config":   config,
		"accounts": account + "\n",
		"contacts": "",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	args := []string{"-f", dir}
	if o.SIPTrace {
		args = append(args, "-s")
	}
	p := &process{
		cmd:    exec.Command(bin, args...),
		out:    &logBuffer{},
		exited: make(chan error, 1),
	}
	p.cmd.Dir = dir
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.WaitDelay = exitTimeout
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("baresiptest: start %s: %w", bin, err)
	}
	p.log = o.Logger.With("baresip_pid", p.cmd.Process.Pid)
	go func() { p.exited <- p.cmd.Wait() }()
	p.log.Debug("baresip started", "dir", dir, "ctrl_port", ctrlPort, "rtp_port", rtpPort)

	conn, err := p.connect(ctx, ctrlPort)
	if err != nil {
		p.stop(ctx)
		return nil, fmt.Errorf("%w: %w; baresip output:\n%s", errNoControl, err, p.output())
	}
	p.ctrl = newCtrl(conn, p.log)
	return p, nil
}

// connect dials baresip's control port until it answers, baresip exits,
// connectTimeout passes or ctx ends.
func (p *process) connect(ctx context.Context, port int) (net.Conn, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.NewTimer(connectTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn, nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err // stop still needs it
			return nil, fmt.Errorf("baresip exited (%v)", err)
		case <-deadline.C:
			return nil, fmt.Errorf("no answer on %s within %v", addr, connectTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// run dials, sends the digits, holds and hangs up.
func (p *process) run(ctx context.Context, o Options) (Result, error) {
	c := p.ctrl
	var sent strings.Builder
	res := func() Result {
		return Result{Established: c.established, Closed: c.reason, CallID: c.callID, Sent: sent.String()}
	}
	p.log.Info("baresip dialing", "target", o.Target)
	if _, err := c.command(ctx, "dial", o.Target); err != nil {
		return res(), err
	}
	c.dialed = true
	if _, err := c.pump(ctx, noLimit, func() bool { return c.established || c.closed }); err != nil {
		return res(), err
	}
	if c.closed {
		p.log.Info("baresip call not answered", "reason", c.reason, "call_id", c.callID)
		return res(), nil
	}
	p.log.Info("baresip call established", "call_id", c.callID)

	for _, d := range o.Digits {
		if _, err := c.pump(ctx, o.DigitGap, func() bool { return c.closed }); err != nil || c.closed {
			return res(), err
		}
		if _, err := c.command(ctx, "sndcode", string(d)); err != nil {
			return res(), err
		}
		sent.WriteRune(d)
		p.log.Debug("baresip sent digit", "digit", string(d), "call_id", c.callID)
	}
	if _, err := c.pump(ctx, o.Hold, func() bool { return c.closed }); err != nil || c.closed {
		p.log.Info("baresip call closed by peer", "reason", c.reason, "call_id", c.callID)
		return res(), err
	}
	_, err := c.command(ctx, "hangup", "")
	if err == nil {
		_, err = c.pump(ctx, closeTimeout, func() bool { return c.closed })
	}
	p.log.Info("baresip hung up", "reason", c.reason, "call_id", c.callID)
	return res(), err
}

// stop hangs up (or cancels) a call still up, asks baresip to quit, kills its process
// group if it does not, and waits for it. It runs even when ctx has ended.
func (p *process) stop(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout+commandTimeout)
	defer cancel()
	if c := p.ctrl; c != nil {
		if c.dialed && !c.closed {
			if _, err := c.command(sctx, "hangup", ""); err == nil {
				_, _ = c.pump(sctx, closeTimeout, func() bool { return c.closed })
			}
		}
		if _, err := c.command(sctx, "quit", ""); err != nil {
			p.log.Debug("baresip quit", "err", err)
		}
		c.close()
	}
	pgid := p.cmd.Process.Pid
	var err error
	select {
	case err = <-p.exited:
	case <-time.After(exitTimeout):
		p.log.Warn("baresip did not quit; killing it")
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = <-p.exited
	}
	// Anything baresip left in its process group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	p.log.Debug("baresip exited", "err", err)
}

// output returns baresip's output so far, cleaned for reading.
func (p *process) output() string {
	return cleanLog(p.out.String())
}

// Patterns removed from baresip's output: colour codes, and the status line
// menu redraws with carriage returns every second during a call.
var (
	ansiCodes   = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	statusLines = regexp.MustCompile(`\[\d+:\d\d:\d\d\] audio=\S+ \(bit/s\) *`)
)

// cleanLog strips colour codes and status lines, and blank lines left behind.
func cleanLog(s string) string {
	s = ansiCodes.ReplaceAllString(s, "")
	s = statusLines.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// logBuffer collects process output up to maxLog bytes.
type logBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	truncated bool
}

// Write keeps what fits and drops the rest.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := maxLog - b.buf.Len()
	if len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
	} else {
		b.buf.Write(p)
	}
	return len(p), nil
}

// String returns the output collected so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + "\n[output truncated]"
	}
	return b.buf.String()
}

// freeTCPPort returns a loopback TCP port that was free a moment ago.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPPair returns an even loopback UDP port that was free a moment ago
// together with the next one (RTP and RTCP).
func freeUDPPair() (int, error) {
	for range 100 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 1 || port >= 65535 {
			c.Close()
			continue
		}
		c2, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)))
		c.Close()
		if err != nil {
			continue
		}
		c2.Close()
		return port, nil
	}
	return 0, errors.New("baresiptest: no free UDP port pair on 127.0.0.1")
}
