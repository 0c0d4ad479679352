package media

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// waitLimit bounds every wait for something that must happen soon.
const waitLimit = 5 * time.Second

var loopback = netip.MustParseAddr("127.0.0.1")

// chanSink is a FrameWriter that hands copies of received frames to the test.
type chanSink chan []int16

func (s chanSink) WriteFrame(pcm []int16) error {
	select {
	case s <- slices.Clone(pcm):
	default:
	}
	return nil
}

// frames waits for n frames.
func (s chanSink) frames(t *testing.T, n int) [][]int16 {
	t.Helper()
	var out [][]int16
	timeout := time.After(waitLimit)
	for len(out) < n {
		select {
		case f := <-s:
			out = append(out, f)
		case <-timeout:
			require.FailNow(t, "frames did not arrive", "got %d of %d", len(out), n)
		}
	}
	return out
}

// openEndpoint opens an endpoint on an OS-chosen loopback port.
func openEndpoint(t *testing.T, cfg EndpointConfig) *Endpoint {
	t.Helper()
	ports, err := NewPorts(PortsConfig{IP: loopback})
	require.NoError(t, err)
	e, err := ports.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

// pair returns two endpoints pointed at each other.
func pair(t *testing.T, a, b Remote) (*Endpoint, *Endpoint) {
	t.Helper()
	ea := openEndpoint(t, EndpointConfig{})
	eb := openEndpoint(t, EndpointConfig{})
	a.Addr, b.Addr = eb.LocalAddr(), ea.LocalAddr()
	ea.SetRemote(a)
	eb.SetRemote(b)
	return ea, eb
}

// digits waits for n digits.
func digits(t *testing.T, e *Endpoint, n int) []Digit {
	t.Helper()
	var out []Digit
	timeout := time.After(waitLimit)
	for len(out) < n {
		select {
		case d := <-e.Digits():
			out = append(out, d)
		case <-timeout:
			require.FailNow(t, "digits did not arrive", "got %v, want %d", out, n)
		}
	}
	return out
}

// keys returns the keys of ds.
func keys(ds []Digit) string {
	var b []byte
	for _, d := range ds {
		b = append(b, d.Key)
	}
	return string(b)
}

// barrier sends one audio frame from a to b and waits until b's sink has it,
// so everything a sent before has been processed by b.
func barrier(t *testing.T, a *Endpoint, sink chanSink) {
	t.Helper()
	require.NoError(t, a.WriteFrame(make([]int16, FrameSamples)))
	sink.frames(t, 1)
}

// rawPeer is a plain UDP socket that sends hand-made RTP.
type rawPeer struct {
	conn *net.UDPConn
}

func newRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &rawPeer{conn: conn}
}

func (p *rawPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *rawPeer) sendRaw(t *testing.T, to netip.AddrPort, b []byte) {
	t.Helper()
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	require.NoError(t, err)
}

func (p *rawPeer) send(t *testing.T, to netip.AddrPort, h rtp.Header, payload []byte) {
	t.Helper()
	h.Version = 2
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	require.NoError(t, err)
	p.sendRaw(t, to, b)
}

// recv reads one RTP packet with a deadline.
func (p *rawPeer) recv(t *testing.T) rtp.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	require.NoError(t, p.conn.SetReadDeadline(time.Now().Add(waitLimit)))
	n, err := p.conn.Read(buf)
	require.NoError(t, err, "no packet arrived")
	var pkt rtp.Packet
	require.NoError(t, pkt.Unmarshal(buf[:n]))
	return pkt
}

func TestEndpointFramesCross(t *testing.T) {
	for _, codec := range []Codec{PCMU, PCMA} {
		t.Run(codec.String(), func(t *testing.T) {
			a, b := pair(t, Remote{Codec: codec}, Remote{Codec: codec})
			sink := make(chanSink, 64)
			b.SetSink(sink)
			tone := Tone([]float64{1000}, 200*time.Millisecond, 0.5).Samples
			for off := 0; off < len(tone); off += FrameSamples {
				require.NoError(t, a.WriteFrame(tone[off:off+FrameSamples]))
			}
			got := slices.Concat(sink.frames(t, 10)...)
			require.Equal(t, DecodeFrame(codec, EncodeFrame(codec, tone, nil), nil), got)
		})
	}
}

func TestEndpointPlayedToneDetectedOnOtherSide(t *testing.T) {
	a, b := pair(t, Remote{Codec: PCMU}, Remote{Codec: PCMU})
	sink := make(chanSink, 64)
	b.SetSink(sink)
	obs := &countingObserver{}
	require.NoError(t, Play(context.Background(), a, Tone([]float64{425}, 200*time.Millisecond, 0.5), obs))
	got := slices.Concat(sink.frames(t, 10)...)
	require.Greater(t, Power(got, 425), 0.01)
	require.Less(t, Power(got, 1000), 0.0001)
	require.Len(t, obs.intervals, 9)
}

func TestEndpointRFC4733DigitsOnce(t *testing.T) {
	a, b := pair(t, Remote{Codec: PCMU, DTMFType: 101}, Remote{Codec: PCMU, DTMFType: 101})
	sink := make(chanSink, 64)
	b.SetSink(sink)
	ctx := context.Background()
	for _, k := range []byte("19#5") {
		require.NoError(t, a.SendDigit(ctx, k, 60*time.Millisecond))
	}
	ds := digits(t, b, 4)
	require.Equal(t, "19#5", keys(ds))
	for _, d := range ds {
		require.Equal(t, SourceRFC4733, d.Source)
	}
	barrier(t, a, sink)
	require.Empty(t, b.Digits(), "end packets and updates must not repeat a digit")

	require.ErrorContains(t, a.SendDigit(ctx, 'x', 0), "not a DTMF key")
}

func TestEndpointSendDigitPackets(t *testing.T) {
	e := openEndpoint(t, EndpointConfig{})
	peer := newRawPeer(t)
	e.SetRemote(Remote{Addr: peer.addr(), Codec: PCMU, DTMFType: 101})
	require.NoError(t, e.WriteFrame(make([]int16, FrameSamples)))
	audio := peer.recv(t)
	require.NoError(t, e.SendDigit(context.Background(), '7', 100*time.Millisecond))
	require.NoError(t, e.WriteFrame(make([]int16, FrameSamples)))

	var events []DTMFEvent
	var pkts []rtp.Packet
	for {
		p := peer.recv(t)
		if p.PayloadType != 101 {
			require.Equal(t, uint8(PCMU), p.PayloadType)
			require.True(t, p.Marker, "audio after an event starts a talk spurt")
			require.Equal(t, pkts[0].Timestamp+800, p.Timestamp)
			break
		}
		ev, err := ParseDTMFEvent(p.Payload)
		require.NoError(t, err)
		events, pkts = append(events, ev), append(pkts, p)
	}
	require.Len(t, events, 5+3) // 20..100 ms updates, then 3 end packets
	require.True(t, pkts[0].Marker)
	require.Equal(t, audio.Timestamp+FrameSamples, pkts[0].Timestamp)
	for i, ev := range events {
		require.Equal(t, uint8(7), ev.Event)
		require.Equal(t, pkts[0].Timestamp, pkts[i].Timestamp)
		require.Equal(t, audio.SSRC, pkts[i].SSRC)
		if i < 5 {
			require.False(t, ev.End)
			require.Equal(t, uint16((i+1)*FrameSamples), ev.Duration)
			require.Equal(t, audio.SequenceNumber+uint16(i+1), pkts[i].SequenceNumber)
		} else {
			require.True(t, ev.End)
			require.Equal(t, uint16(800), ev.Duration)
			require.Equal(t, audio.SequenceNumber+6, pkts[i].SequenceNumber)
		}
	}
}

func TestEndpointSendDigitWithoutTelephoneEvent(t *testing.T) {
	a, _ := pair(t, Remote{Codec: PCMU}, Remote{Codec: PCMU})
	require.ErrorIs(t, a.SendDigit(context.Background(), '1', 0), ErrNoTelephoneEvent)
}

// sippDigit sends one key the way SIPp's dtmf_2833 pcaps do: a first packet
// with the marker bit and duration 0, updates, and three end packets.
func sippDigit(t *testing.T, p *rawPeer, to netip.AddrPort, ssrc uint32, seq uint16, ts uint32, event uint8) {
	t.Helper()
	for i := range 7 {
		ev := DTMFEvent{Event: event, Volume: 10, Duration: uint16(i * 320)}
		p.send(t, to, rtp.Header{Marker: i == 0, PayloadType: 101, SequenceNumber: seq + uint16(i), Timestamp: ts, SSRC: ssrc}, ev.Marshal())
	}
	for range 3 {
		ev := DTMFEvent{Event: event, End: true, Volume: 10, Duration: 2240}
		p.send(t, to, rtp.Header{PayloadType: 101, SequenceNumber: seq + 7, Timestamp: ts, SSRC: ssrc}, ev.Marshal())
	}
}

func TestEndpointSIPpDigitsAndSSRCChanges(t *testing.T) {
	e := openEndpoint(t, EndpointConfig{})
	peer := newRawPeer(t)
	e.SetRemote(Remote{Addr: peer.addr(), Codec: PCMU, DTMFType: 101})
	sippDigit(t, peer, e.LocalAddr(), 0x0e05384e, 7984, 13280, 1)
	// The same pcap played again ("11") has the same SSRC and timestamp.
	sippDigit(t, peer, e.LocalAddr(), 0x0e05384e, 7984, 13280, 1)
	sippDigit(t, peer, e.LocalAddr(), 0x0e05384e, 8042, 23200, 2)
	sippDigit(t, peer, e.LocalAddr(), 0x12345678, 100, 500, 11)
	// Only the first packet of an event, with duration 0, still gives a digit.
	ev := DTMFEvent{Event: 0, Volume: 10}
	peer.send(t, e.LocalAddr(), rtp.Header{Marker: true, PayloadType: 101, SequenceNumber: 9, Timestamp: 9000, SSRC: 7}, ev.Marshal())
	require.Equal(t, "112#0", keys(digits(t, e, 5)))

	// Audio from yet another SSRC is accepted.
	sink := make(chanSink, 64)
	e.SetSink(sink)
	tone := Tone([]float64{1000}, FrameDuration, 0.5).Samples
	for i, ssrc := range []uint32{1, 1, 2, 2} {
		peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 0, SequenceNumber: uint16(i * 1000), Timestamp: uint32(i * 160), SSRC: ssrc}, EncodeFrame(PCMU, tone, nil))
	}
	require.Len(t, sink.frames(t, 4), 4)
	require.Empty(t, e.Digits())
}

func TestEndpointInbandDigits(t *testing.T) {
	a, b := pair(t, Remote{Codec: PCMA}, Remote{Codec: PCMA, InbandDTMF: true})
	audio := dialled("7*3", 100*time.Millisecond, 80*time.Millisecond)
	require.NoError(t, Play(context.Background(), a, &Prompt{Name: "keys", Samples: audio}, nil))
	ds := digits(t, b, 3)
	require.Equal(t, "7*3", keys(ds))
	for _, d := range ds {
		require.Equal(t, SourceInband, d.Source)
	}
}

func TestEndpointInbandOffByDefault(t *testing.T) {
	a, b := pair(t, Remote{Codec: PCMU}, Remote{Codec: PCMU})
	sink := make(chanSink, 64)
	b.SetSink(sink)
	audio := dialled("7", 100*time.Millisecond, 40*time.Millisecond)
	require.NoError(t, Play(context.Background(), a, &Prompt{Samples: audio}, nil))
	sink.frames(t, 7)
	require.Empty(t, b.Digits())
}

func TestEndpointReordersAndDropsLate(t *testing.T) {
	obs := &countingObserver{}
	e := openEndpoint(t, EndpointConfig{Observer: obs})
	peer := newRawPeer(t)
	e.SetRemote(Remote{Addr: peer.addr(), Codec: PCMU})
	sink := make(chanSink, 64)
	e.SetSink(sink)
	frame := func(v int16) []byte { return EncodeFrame(PCMU, slices.Repeat([]int16{v}, FrameSamples), nil) }
	send := func(seq uint16) {
		peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 9}, frame(int16(seq)*100))
	}
	// 10, 12, 11: reordered within the buffer.
	for _, s := range []uint16{10, 12, 11} {
		send(s)
	}
	// 14, 15, 16 arrive but 13 is lost: after three waiting packets the gap is
	// skipped; 13 arriving afterwards is late.
	for _, s := range []uint16{14, 15, 16, 13, 17} {
		send(s)
	}
	var got []int16
	for _, f := range sink.frames(t, 7) {
		got = append(got, DecodeFrame(PCMU, EncodeFrame(PCMU, f[:1], nil), nil)[0])
	}
	want := []int16{1000, 1100, 1200, 1400, 1500, 1600, 1700}
	for i := range want {
		want[i] = DecodeFrame(PCMU, EncodeFrame(PCMU, want[i:i+1], nil), nil)[0]
	}
	require.Equal(t, want, got)
	require.Equal(t, 1, obs.drops(DropLate))
}

func TestEndpointGarbageCountedAndIgnored(t *testing.T) {
	obs := &countingObserver{}
	e := openEndpoint(t, EndpointConfig{Observer: obs})
	peer := newRawPeer(t)
	e.SetRemote(Remote{Addr: peer.addr(), Codec: PCMU, DTMFType: 101})
	sink := make(chanSink, 64)
	e.SetSink(sink)

	peer.sendRaw(t, e.LocalAddr(), []byte("hello, this is not RTP"))
	peer.sendRaw(t, e.LocalAddr(), []byte{0x80, 0x00, 0x01})                                            // too short
	peer.sendRaw(t, e.LocalAddr(), []byte{0x8F, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})                    // 15 CSRCs missing
	peer.sendRaw(t, e.LocalAddr(), []byte{0x80, 0xC8, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})        // RTCP SR
	peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 101, SequenceNumber: 1, SSRC: 3}, []byte{1, 2}) // short event
	peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 96, SequenceNumber: 2, SSRC: 3}, make([]byte, 160))
	peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 0, SequenceNumber: 3, SSRC: 3}, make([]byte, 160))
	sink.frames(t, 1)

	require.Equal(t, 4, obs.drops(DropMalformed))
	require.Equal(t, 1, obs.drops(DropRTCP))
	require.Equal(t, 1, obs.drops(DropUnknownPT))
	select {
	case <-e.Done():
		require.FailNow(t, "garbage ended the endpoint")
	default:
	}
}

func TestEndpointDropsBeforeRemote(t *testing.T) {
	obs := &countingObserver{}
	e := openEndpoint(t, EndpointConfig{Observer: obs})
	peer := newRawPeer(t)
	sink := make(chanSink, 64)
	e.SetSink(sink)
	require.NoError(t, e.WriteFrame(make([]int16, FrameSamples)), "no remote yet: silently dropped")
	peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 0, SequenceNumber: 1, SSRC: 3}, make([]byte, 160))
	require.Eventually(t, func() bool { return obs.drops(DropNoRemote) == 1 }, waitLimit, time.Millisecond)
	e.SetRemote(Remote{Addr: peer.addr(), Codec: PCMU})
	peer.send(t, e.LocalAddr(), rtp.Header{PayloadType: 0, SequenceNumber: 2, SSRC: 3}, make([]byte, 160))
	sink.frames(t, 1)
	require.Empty(t, sink, "the early packet was not delivered")
}

func TestEndpointMediaTimeout(t *testing.T) {
	e := openEndpoint(t, EndpointConfig{MediaTimeout: 50 * time.Millisecond})
	peer := newRawPeer(t)
	e.SetRemote(Remote{Addr: peer.addr(), Codec: PCMU})
	select {
	case <-e.Done():
	case <-time.After(waitLimit):
		require.FailNow(t, "media timeout did not fire")
	}
	require.ErrorIs(t, e.Err(), ErrMediaTimeout)
	require.ErrorIs(t, e.WriteFrame(make([]int16, FrameSamples)), ErrClosed)
	require.NoError(t, e.Close())
	require.ErrorIs(t, e.Err(), ErrMediaTimeout)
	_, open := <-e.Digits()
	require.False(t, open, "digit channel is closed once the endpoint stops")
}

func TestEndpointCloseIdempotent(t *testing.T) {
	e := openEndpoint(t, EndpointConfig{MediaTimeout: time.Hour})
	require.NoError(t, e.Close())
	require.NoError(t, e.Close())
	require.NoError(t, e.Err())
	<-e.Done()
	require.ErrorIs(t, e.SendDigit(context.Background(), '1', 0), ErrClosed)
}

func TestEndpointSymmetricLatching(t *testing.T) {
	// B was told (by SDP) that A is at "announced", but A's packets really
	// come from A's endpoint socket, as behind a NAT.
	announced := newRawPeer(t)
	a := openEndpoint(t, EndpointConfig{})
	b := openEndpoint(t, EndpointConfig{})
	a.SetRemote(Remote{Addr: b.LocalAddr(), Codec: PCMU})
	b.SetRemote(Remote{Addr: announced.addr(), Codec: PCMU})

	// Before anything arrives B sends to the announced address.
	require.NoError(t, b.WriteFrame(make([]int16, FrameSamples)))
	announced.recv(t)

	bSink := make(chanSink, 64)
	b.SetSink(bSink)
	require.NoError(t, a.WriteFrame(make([]int16, FrameSamples)))
	bSink.frames(t, 1)

	aSink := make(chanSink, 64)
	a.SetSink(aSink)
	require.NoError(t, b.WriteFrame(Tone([]float64{1000}, FrameDuration, 0.5).Samples))
	got := aSink.frames(t, 1)
	require.Greater(t, Power(got[0], 1000), 0.1, "the reply reaches the real source")
}

func TestEndpointReinviteNewAddress(t *testing.T) {
	first, second := newRawPeer(t), newRawPeer(t)
	e := openEndpoint(t, EndpointConfig{})
	e.SetRemote(Remote{Addr: first.addr(), Codec: PCMU})
	require.NoError(t, e.WriteFrame(make([]int16, FrameSamples)))
	require.Equal(t, uint8(PCMU), first.recv(t).PayloadType)
	e.SetRemote(Remote{Addr: second.addr(), Codec: PCMA})
	require.NoError(t, e.WriteFrame(make([]int16, FrameSamples)))
	require.Equal(t, uint8(PCMA), second.recv(t).PayloadType)
}

// freeRange finds two adjacent free even ports on loopback.
func freeRange(t *testing.T) (lo, hi int) {
	t.Helper()
	for range 100 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(t, err)
		p := c.LocalAddr().(*net.UDPAddr).Port
		_ = c.Close()
		if p%2 == 1 || p+2 > 65535 {
			continue
		}
		c2, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(p+2))))
		if err != nil {
			continue
		}
		_ = c2.Close()
		return p, p + 2
	}
	require.FailNow(t, "no free port pair")
	return 0, 0
}

func TestPortsQuarantine(t *testing.T) {
	lo, hi := freeRange(t)
	ports, err := NewPorts(PortsConfig{IP: loopback, Lo: lo, Hi: hi, Quarantine: time.Hour})
	require.NoError(t, err)

	a, err := ports.Open(EndpointConfig{})
	require.NoError(t, err)
	first := a.LocalAddr().Port()
	require.Zero(t, first%2, "RTP ports are even")
	require.NoError(t, a.Close())

	b, err := ports.Open(EndpointConfig{})
	require.NoError(t, err)
	require.NotEqual(t, first, b.LocalAddr().Port(), "a closed port is not reused at once")
	c, err := ports.Open(EndpointConfig{})
	require.ErrorIs(t, err, ErrNoPorts, "one port busy, one in quarantine")
	require.Nil(t, c)
	require.NoError(t, b.Close())

	reuse, err := NewPorts(PortsConfig{IP: loopback, Lo: lo, Hi: lo, Quarantine: -1})
	require.NoError(t, err)
	for range 2 {
		e, err := reuse.Open(EndpointConfig{})
		require.NoError(t, err)
		require.Equal(t, uint16(lo), e.LocalAddr().Port())
		require.NoError(t, e.Close())
	}
}

func TestNewPortsRejectsBadRange(t *testing.T) {
	for _, r := range [][2]int{{10001, 10001}, {20000, 10000}, {-2, 100}, {60000, 70000}} {
		_, err := NewPorts(PortsConfig{IP: loopback, Lo: r[0], Hi: r[1]})
		require.Error(t, err, "%v", r)
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	ports, err := NewPorts(PortsConfig{IP: loopback})
	require.NoError(b, err)
	e, err := ports.Open(EndpointConfig{})
	require.NoError(b, err)
	defer e.Close()
	sinkConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(b, err)
	defer sinkConn.Close()
	e.SetRemote(Remote{Addr: sinkConn.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	frame := Tone([]float64{440}, FrameDuration, 0.5).Samples
	b.ReportAllocs()
	for b.Loop() {
		if err := e.WriteFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReceive(b *testing.B) {
	ports, err := NewPorts(PortsConfig{IP: loopback})
	require.NoError(b, err)
	e, err := ports.Open(EndpointConfig{})
	require.NoError(b, err)
	defer e.Close()
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	e.SetRemote(Remote{Addr: src, Codec: PCMU, DTMFType: 101, InbandDTMF: true})
	e.SetSink(FrameWriterFunc(func([]int16) error { return nil }))
	payload := EncodeFrame(PCMU, Tone([]float64{440}, FrameDuration, 0.5).Samples, nil)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: payload}
	raw, err := pkt.Marshal()
	require.NoError(b, err)
	rx := &receiver{pcm: make([]int16, 0, maxFramePayload)}
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		seq++
		raw[2], raw[3] = byte(seq>>8), byte(seq)
		e.receive(rx, raw, src)
	}
}

// A recorder's taps hear both directions: said what the peer sent (decoded,
// with no sink set), heard what the endpoint sent; unset, they hear nothing.
func TestEndpointTaps(t *testing.T) {
	a, b := pair(t, Remote{Codec: PCMU}, Remote{Codec: PCMU})
	said, heard := make(chanSink, 16), make(chanSink, 16)
	b.SetTaps(said, heard)
	tone := Tone([]float64{440}, FrameDuration, 0.3).Samples
	require.NoError(t, a.WriteFrame(tone))
	got := said.frames(t, 1)[0]
	require.Len(t, got, FrameSamples)
	require.Greater(t, Power(got, 440), 0.01, "said hears the peer's audio, decoded")

	require.NoError(t, b.WriteFrame(tone))
	require.Equal(t, tone, heard.frames(t, 1)[0], "heard gets the frame as sent")

	b.SetTaps(nil, nil)
	sink := make(chanSink, 16)
	a.SetSink(sink)
	require.NoError(t, b.WriteFrame(tone))
	sink.frames(t, 1)
	require.Empty(t, heard, "an unset tap hears nothing")
}
