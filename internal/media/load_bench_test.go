//go:build unix

package media

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkLoad simulates what `make bench-load` does to one node: N calls,
// each receiving a 50 pps PCMU stream and playing a looped prompt back at
// 50 pps, all on loopback. One iteration is one second of all N calls.
// Besides ns/op (wall time, about 1 s) it reports what matters:
//
//	cpu-%      process CPU (user+sys, both ends of the loopback) per wall time
//	out/call/s packets the N endpoints sent per call per second (50 is right)
//	dev-p99-ms 99th percentile of |send gap − 20 ms| as Play reports it
//
// "ticker" is Play with a ticker per call and a reader goroutine per
// endpoint, "pacer" the node's shared Pacer, "realtime" that Pacer on its own
// real-time thread (the priority is raised only when the process may).
// Profile with:
//
//	go test -run='^$' -bench=Load/1000 -benchtime=5x -cpuprofile=cpu.out ./internal/media
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n)+"/ticker", func(b *testing.B) { benchLoad(b, n, nil) })
		b.Run(strconv.Itoa(n)+"/pacer", func(b *testing.B) { benchLoad(b, n, &PacerConfig{}) })
		b.Run(strconv.Itoa(n)+"/realtime", func(b *testing.B) { benchLoad(b, n, &PacerConfig{Realtime: true}) })
	}
}

// deviationHist is an Observer that histograms the send-gap deviation in
// 0.1 ms steps and counts packets, without allocating.
type deviationHist struct {
	mu      sync.Mutex
	buckets [1001]int64 // 0 … 100 ms; the last bucket holds the rest
	sent    atomic.Int64
	recv    atomic.Int64
}

func (h *deviationHist) PacketReceived()      { h.recv.Add(1) }
func (h *deviationHist) PacketSent()          { h.sent.Add(1) }
func (h *deviationHist) PacketDropped(string) {}
func (h *deviationHist) SendInterval(d time.Duration) {
	dev := d - FrameDuration
	if dev < 0 {
		dev = -dev
	}
	i := min(int(dev/(100*time.Microsecond)), len(h.buckets)-1)
	h.mu.Lock()
	h.buckets[i]++
	h.mu.Unlock()
}

// reset forgets the deviations seen so far (the calls' start-up).
func (h *deviationHist) reset() {
	h.mu.Lock()
	clear(h.buckets[:])
	h.mu.Unlock()
}

// p99 returns the 99th percentile deviation in milliseconds.
func (h *deviationHist) p99() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var total int64
	for _, c := range h.buckets {
		total += c
	}
	if total == 0 {
		return 0
	}
	var seen int64
	for i, c := range h.buckets {
		seen += c
		if seen*100 >= total*99 {
			return float64(i+1) / 10
		}
	}
	return 100
}

// phoneBank is the far end of every call: one socket that streams 50 pps of
// PCMU to each endpoint from one goroutine and drains what comes back.
type phoneBank struct {
	conn  *net.UDPConn
	to    []netip.AddrPort
	ticks atomic.Int64
	wg    sync.WaitGroup
}

func newPhoneBank(t testing.TB) *phoneBank {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadBuffer(8<<20))
	require.NoError(t, conn.SetWriteBuffer(8<<20))
	return &phoneBank{conn: conn}
}

func (p *phoneBank) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// run streams until ctx ends, then closes the socket; wg waits for it.
func (p *phoneBank) run(ctx context.Context) {
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := p.conn.ReadFromUDPAddrPort(buf); errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		defer p.conn.Close()
		pkt := make([]byte, 12+FrameSamples)
		for i := range pkt[12:] {
			pkt[12+i] = 0xFF // µ-law silence
		}
		pkt[0] = 0x80
		tick := time.NewTicker(FrameDuration)
		defer tick.Stop()
		for seq := uint16(0); ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*FrameSamples)
			for i, to := range p.to {
				binary.BigEndian.PutUint32(pkt[8:], uint32(i+1))
				_, _ = p.conn.WriteToUDPAddrPort(pkt, to)
			}
			p.ticks.Add(1)
		}
	}()
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchLoad(b *testing.B, n int, cfg *PacerConfig) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pacer *Pacer
	if cfg != nil {
		pacer = NewPacer(*cfg)
		defer pacer.Close()
	}
	ports, err := NewPorts(PortsConfig{IP: loopback, Pacer: pacer})
	require.NoError(b, err)
	obs := &deviationHist{}
	bank := newPhoneBank(b)
	prompt := Tone([]float64{440}, 3*time.Second, 0.3)
	var players sync.WaitGroup
	eps := make([]*Endpoint, n)
	for i := range eps {
		ep, err := ports.Open(EndpointConfig{Observer: obs})
		require.NoError(b, err)
		eps[i] = ep
		ep.SetRemote(Remote{Addr: bank.addr(), Codec: PCMU, DTMFType: 101})
		bank.to = append(bank.to, ep.LocalAddr())
		players.Add(1)
		go func() {
			defer players.Done()
			for Play(ctx, ep, prompt, obs) == nil {
			}
		}()
	}
	bank.run(ctx)
	defer func() {
		cancel()
		players.Wait()
		for _, ep := range eps {
			require.NoError(b, ep.Close())
		}
		bank.wg.Wait()
	}()
	waitTicks(bank, 50) // one second for every call to be up and paced
	obs.reset()
	sent0 := obs.sent.Load()
	cpu0, wall0 := cpuTime(b), time.Now()
	b.ResetTimer()
	for range b.N {
		waitTicks(bank, 50)
	}
	b.StopTimer()
	wall := time.Since(wall0)
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
	b.ReportMetric(float64(obs.sent.Load()-sent0)/float64(n)/wall.Seconds(), "out/call/s")
	b.ReportMetric(obs.p99(), "dev-p99-ms")
}

// waitTicks waits until the phone bank has sent k more frames to every call.
func waitTicks(p *phoneBank, k int64) {
	target := p.ticks.Load() + k
	for p.ticks.Load() < target {
		time.Sleep(FrameDuration)
	}
}
