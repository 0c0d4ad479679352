package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The capture watches the loopback interface (a packet socket, root only)
// for the packets the hotline sends, with the kernel's receive timestamps,
// so the measured gaps do not depend on when this busy process gets to run:
//   - from the softphone's UDP port: the agent leg (SRTP; its RTP header is
//     in clear, so sequence numbers and the marker bit are readable);
//   - from the RTP port range: the caller leg (plain RTP, PCMU);
//   - from the SIP port: the 200 OKs, which tie a caller (From) to the
//     hotline's RTP port for that call.
//
// On loopback a datagram's receive time is within microseconds of its send
// time, so the gaps between packets of one stream are the hotline's send
// intervals.

// captureConfig says which packets belong to which leg.
type captureConfig struct {
	MuxPort      int     // the softphone's single UDP port (agent leg source)
	SIPPort      int     // the hotline's SIP port
	RTPLo, RTPHi int     // the hotline's RTP port range (caller leg source)
	ToneHz       float64 // the agents' microphone tone
}

// leg names a direction of audio the capture measures.
type leg int

const (
	legCaller        leg = iota // hotline → callers, before the bridge: IVR prompts and hold music
	legCallerBridged            // hotline → callers, bridged: the agent's audio
	legAgent                    // hotline → agents: the caller's audio
	legCallerIn                 // callers (SIPp) → hotline: the source of the agent leg
	legAgentIn                  // agents → hotline: the source of the bridged caller leg
	legCount
)

// legStats are one leg's packets.
type legStats struct {
	Dev     []time.Duration // |gap − 20 ms| between consecutive packets of a stream
	Packets int             // PCMU packets seen
	Jumps   int             // sequence jumps (lost or reordered packets)
}

// captureResult is what the capture measured.
type captureResult struct {
	Legs    [legCount]legStats
	Answers map[string]int // caller From user → hotline RTP port
	// ToneOnset is when the agents' tone began in the audio sent from each
	// hotline RTP port.
	ToneOnset   map[int]time.Time
	KernelDrops uint32 // packets the socket buffer dropped
	Err         error  // why the capture stopped early, if it did
}

// toneRun is how many consecutive tone frames (0.2 s) mark the agent's
// audio reaching the caller; its first frame is the onset.
const toneRun = 10

// flowState follows one stream of packets from the hotline.
type flowState struct {
	lastAt   time.Time
	lastSeq  uint16
	run      int       // consecutive tone frames
	runStart time.Time // when the current tone run began
}

// capture is a running loopback capture; Stop returns its result.
type capture struct {
	fd   int
	cfg  captureConfig
	stop chan struct{}
	done chan struct{}
	res  captureResult
	// ports are the hotline's RTP ports of this run's calls, from its 200 OKs.
	ports map[int]bool
}

// captureReadTimeout bounds one blocking read, so Stop is seen quickly.
const captureReadTimeout = 200 * time.Millisecond

// startCapture opens the packet socket on lo with a filter for the
// hotline's outgoing packets and starts reading.
func startCapture(cfg captureConfig) (*capture, error) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return nil, fmt.Errorf("capture: loopback interface: %w", err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
	if err != nil {
		return nil, fmt.Errorf("capture: packet socket (needs root or CAP_NET_RAW): %w", err)
	}
	fail := func(what string, err error) (*capture, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("capture: %s: %w", what, err)
	}
	prog, err := captureFilter(cfg)
	if err != nil {
		return fail("filter", err)
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		return fail("attach filter", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("timestamps", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20); err != nil {
		return fail("receive buffer", err)
	}
	tv := unix.NsecToTimeval(captureReadTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("read timeout", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: lo.Index}); err != nil {
		return fail("bind to lo", err)
	}
	c := &capture{
		fd: fd, cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}), ports: map[int]bool{},
		res: captureResult{Answers: map[string]int{}, ToneOnset: map[int]time.Time{}},
	}
	go c.loop()
	return c, nil
}

// captureFilter is a classic BPF program that keeps incoming (not the
// looped-back outgoing copy), unfragmented UDP datagrams whose source port
// is the softphone port, the SIP port or in the RTP range, or whose
// destination port is the softphone port or in the RTP range (the audio the
// agents and callers send the hotline).
func captureFilter(cfg captureConfig) ([]unix.SockFilter, error) {
	// to(i, target) is the skip count from instruction i to target.
	to := func(i, target uint8) uint8 { return target - i - 1 }
	const accept, drop = 17, 18
	lo, hi := uint32(cfg.RTPLo), uint32(cfg.RTPHi)
	insns := []bpf.Instruction{
		/* 0 */ bpf.LoadExtension{Num: bpf.ExtType},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_HOST, SkipFalse: to(1, drop)},
		/* 2 */ bpf.LoadAbsolute{Off: 9, Size: 1}, // IP protocol
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.IPPROTO_UDP, SkipFalse: to(3, drop)},
		/* 4 */ bpf.LoadAbsolute{Off: 6, Size: 2}, // fragment offset
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: to(5, drop)},
		/* 6 */ bpf.LoadMemShift{Off: 0}, // X = IP header length
		/* 7 */ bpf.LoadIndirect{Off: 0, Size: 2}, // UDP source port
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(cfg.MuxPort), SkipTrue: to(8, accept)},
		/* 9 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(cfg.SIPPort), SkipTrue: to(9, accept)},
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpLessThan, Val: lo, SkipTrue: to(10, 13)},
		/* 11 */ bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: hi, SkipTrue: to(11, 13)},
		/* 12 */ bpf.Jump{Skip: uint32(to(12, accept))},
		/* 13 */ bpf.LoadIndirect{Off: 2, Size: 2}, // UDP destination port
		/* 14 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(cfg.MuxPort), SkipTrue: to(14, accept)},
		/* 15 */ bpf.JumpIf{Cond: bpf.JumpLessThan, Val: lo, SkipTrue: to(15, drop)},
		/* 16 */ bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: hi, SkipTrue: to(16, drop)},
		/* 17 */ bpf.RetConstant{Val: 0xffff},
		/* 18 */ bpf.RetConstant{Val: 0},
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return nil, err
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}

// htons converts a 16-bit value to network byte order.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// loop reads datagrams until Stop.
func (c *capture) loop() {
	defer close(c.done)
	flows := map[uint32]*flowState{}
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, oobn, _, _, err := unix.Recvmsg(c.fd, buf, oob, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			c.res.Err = fmt.Errorf("capture: read: %w", err)
			return
		}
		at, ok := kernelTime(oob[:oobn])
		if !ok {
			at = time.Now()
		}
		c.handle(flows, buf[:n], at)
	}
}

// kernelTime reads the SCM_TIMESTAMPNS control message.
func kernelTime(oob []byte) (time.Time, bool) {
	const hdr = 16 // struct cmsghdr on 64-bit Linux: len u64, level i32, type i32
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob))
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if l < hdr || l > len(oob) {
			return time.Time{}, false
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS && l >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8:]))
			return time.Unix(sec, nsec), true
		}
		oob = oob[min((l+7)&^7, len(oob)):]
	}
	return time.Time{}, false
}

// handle files one IPv4 datagram seen at at.
func (c *capture) handle(flows map[uint32]*flowState, b []byte, at time.Time) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return
	}
	ihl := int(b[0]&0x0f) * 4
	if len(b) < ihl+8 {
		return
	}
	src := int(binary.BigEndian.Uint16(b[ihl:]))
	dst := int(binary.BigEndian.Uint16(b[ihl+2:]))
	payload := b[ihl+8:]
	switch {
	case src == c.cfg.SIPPort:
		if a, err := parseAnswer(payload); err == nil {
			c.res.Answers[a.FromUser] = a.Port
			c.ports[a.Port] = true
		}
	case src == c.cfg.MuxPort:
		c.rtp(flows, src, dst, payload, at, legAgent)
	case c.ports[src]: // only this hotline's calls: other processes may use the range
		c.rtp(flows, src, dst, payload, at, legCaller)
	case c.ports[dst]:
		c.rtp(flows, src, dst, payload, at, legCallerIn)
	case dst == c.cfg.MuxPort:
		c.rtp(flows, src, dst, payload, at, legAgentIn)
	}
}

// rtp measures one RTP (or SRTP) packet of a leg.
func (c *capture) rtp(flows map[uint32]*flowState, src, dst int, p []byte, at time.Time, l leg) {
	// RTP version 2, payload type 0 (PCMU); STUN, DTLS and RTCP fall out here.
	if len(p) < 12 || p[0]>>6 != 2 || p[1]&0x7f != 0 {
		return
	}
	marker := p[1]&0x80 != 0
	seq := binary.BigEndian.Uint16(p[2:])
	key := uint32(src)<<16 | uint32(dst)
	f := flows[key]
	if f == nil {
		f = &flowState{}
		flows[key] = f
	}
	if _, bridged := c.res.ToneOnset[src]; l == legCaller && bridged {
		l = legCallerBridged
	}
	st := &c.res.Legs[l]
	st.Packets++
	if !f.lastAt.IsZero() {
		switch {
		case seq == f.lastSeq+1 && !marker:
			st.Dev = append(st.Dev, deviation(at.Sub(f.lastAt)))
		case seq != f.lastSeq+1:
			st.Jumps++
		}
	}
	f.lastAt, f.lastSeq = at, seq
	if l == legCaller || l == legCallerBridged {
		c.tone(f, src, p, at)
	}
}

// tone looks for the agents' tone in the audio the hotline sends a caller
// from port src, and records when it began.
func (c *capture) tone(f *flowState, src int, p []byte, at time.Time) {
	if _, done := c.res.ToneOnset[src]; done {
		return
	}
	off := 12 + 4*int(p[0]&0x0f)
	if p[0]&0x10 != 0 { // header extension
		if len(p) < off+4 {
			return
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(p[off+2:]))
	}
	if len(p) <= off {
		return
	}
	share, rms := toneShare(p[off:], c.cfg.ToneHz)
	if share < 0.9 || rms < 0.02 {
		f.run = 0
		return
	}
	if f.run == 0 {
		f.runStart = at
	}
	f.run++
	if f.run >= toneRun {
		c.res.ToneOnset[src] = f.runStart
	}
}

// Stop ends the capture, closes the socket and returns what it measured.
// Call it once.
func (c *capture) Stop() captureResult {
	close(c.stop)
	<-c.done
	if st, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		c.res.KernelDrops = st.Drops
	}
	unix.Close(c.fd)
	return c.res
}
