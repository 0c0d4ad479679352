package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// DefaultQuarantine is how long a closed RTP port stays out of use when
// PortsConfig.Quarantine is zero.
const DefaultQuarantine = 30 * time.Second

// PortsConfig describes the RTP port range. Lo and Hi both 0 means "let the
// operating system choose" (test phones); otherwise only even ports in
// [Lo, Hi] are used, the odd neighbour being left for RTCP.
type PortsConfig struct {
	IP         netip.Addr    // address to bind; invalid means all IPv4 interfaces
	Lo, Hi     int           // inclusive port range
	Quarantine time.Duration // 0 = DefaultQuarantine, negative = reuse at once
	// Pacer, when set, paces Play on every endpoint opened here (one clock
	// for the node instead of a ticker per call) and, on Linux with an IPv4
	// IP, reads their sockets (no goroutine per endpoint). Its owner closes
	// it after the endpoints.
	Pacer *Pacer
}

// Ports hands out RTP ports from a range. A port whose endpoint closed is not
// reused for the quarantine time, so stale packets of one call never reach the
// next. It is safe for concurrent use.
type Ports struct {
	ip         netip.Addr
	lo, hi     int
	quarantine time.Duration
	pacer      *Pacer

	mu       sync.Mutex
	next     int               // where the next search starts
	busy     map[int]bool      // ports with an open endpoint
	released map[int]time.Time // quarantined port → free again at
	noQuar   map[int]bool      // open ports whose release skips quarantine
}

// ErrNoPorts is returned by Open when every port in the range is in use or in
// quarantine.
var ErrNoPorts = errors.New("media: no free RTP port")

// NewPorts checks cfg and returns an allocator.
func NewPorts(cfg PortsConfig) (*Ports, error) {
	ip := cfg.IP
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	lo, hi := cfg.Lo, cfg.Hi
	if lo != 0 || hi != 0 {
		if lo%2 == 1 {
			lo++
		}
		if lo < 1 || hi > 65535 || lo > hi {
			return nil, fmt.Errorf("media: RTP port range %d-%d has no even port in 1-65535", cfg.Lo, cfg.Hi)
		}
	}
	q := cfg.Quarantine
	switch {
	case q == 0:
		q = DefaultQuarantine
	case q < 0:
		q = 0
	}
	return &Ports{
		ip: ip, lo: lo, hi: hi, quarantine: q, pacer: cfg.Pacer,
		next:     lo,
		busy:     make(map[int]bool),
		released: make(map[int]time.Time),
		noQuar:   make(map[int]bool),
	}, nil
}

// Open binds a UDP socket on the next free port and starts its endpoint.
// With a Pacer and an IPv4 address (on Linux) the socket is a raw one that
// the pacer polls each tick; otherwise a goroutine reads it.
func (p *Ports) Open(cfg EndpointConfig) (*Endpoint, error) {
	var (
		conn  *net.UDPConn
		raw   *rawSocket
		local netip.AddrPort
	)
	useRaw := rawSockets && p.pacer != nil && p.ip.Is4()
	err := p.bind(func(port int) error {
		if useRaw {
			var err error
			raw, local, err = openRawSocket(p.ip, port)
			return err
		}
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err != nil {
			return err
		}
		conn, local = c, c.LocalAddr().(*net.UDPAddr).AddrPort()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newEndpoint(conn, raw, local, cfg, p.pacer, p.release), nil
}

// bind finds a free port and binds it with open.
func (p *Ports) bind(open func(port int) error) error {
	if p.lo == 0 && p.hi == 0 {
		return open(0)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	count := (p.hi-p.lo)/2 + 1
	for range count {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		if p.busy[port] {
			continue
		}
		if until, ok := p.released[port]; ok {
			if now.Before(until) {
				continue
			}
			delete(p.released, port)
		}
		if err := open(port); err != nil {
			if outOfDescriptors(err) {
				// Not a port problem: every other port would fail the same way,
				// and "no free RTP port" would hide the real cause.
				return fmt.Errorf("media: open RTP socket on port %d: %w", port, err)
			}
			continue // taken by another process
		}
		p.busy[port] = true
		return nil
	}
	return fmt.Errorf("%w in %d-%d", ErrNoPorts, p.lo, p.hi)
}

// outOfDescriptors tells a process or system file limit (EMFILE, ENFILE)
// from a port that is merely taken.
func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// SkipQuarantine makes the port of the open endpoint ep free again as soon as
// ep closes, without the quarantine. It is meant for a call that never got
// its ACK: its media was never confirmed, so no later call needs protecting
// from its stale packets, while quarantining it would let a flood of
// unanswered INVITEs hold the range for ack timeout plus quarantine. Call it
// before ep.Close; it does nothing for a closed endpoint or an OS-chosen port.
func (p *Ports) SkipQuarantine(ep *Endpoint) {
	if p.lo == 0 && p.hi == 0 || ep == nil {
		return
	}
	port := int(ep.LocalAddr().Port())
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy[port] {
		p.noQuar[port] = true
	}
}

// InUse reports how many ports of the range have an open endpoint or are in
// quarantine (0 for OS-chosen ports).
func (p *Ports) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	n := len(p.busy)
	for _, until := range p.released {
		if now.Before(until) {
			n++
		}
	}
	return n
}

// release puts a closed endpoint's port into quarantine (unless
// SkipQuarantine was called for it).
func (p *Ports) release(port int) {
	if p.lo == 0 && p.hi == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.busy, port)
	skip := p.noQuar[port]
	delete(p.noQuar, port)
	if p.quarantine > 0 && !skip {
		p.released[port] = time.Now().Add(p.quarantine)
	}
}
