package media

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/stretchr/testify/require"
)

func srtpKey(fill byte) []byte { return bytes.Repeat([]byte{fill}, SRTPKeyLen) }

// Two endpoints with each other's keys hear each other through SRTP, in
// both suites; what goes on the wire is not the plain RTP payload.
func TestSRTPBothWays(t *testing.T) {
	for _, suite := range []SRTPSuite{SRTPAES128SHA1_80, SRTPAES128SHA1_32} {
		t.Run(suite.String(), func(t *testing.T) {
			ka, kb := srtpKey(1), srtpKey(2)
			ea := openEndpoint(t, EndpointConfig{})
			eb := openEndpoint(t, EndpointConfig{})
			require.NoError(t, ea.SetSRTP(suite, ka, kb))
			require.NoError(t, eb.SetSRTP(suite, kb, ka))
			require.True(t, ea.SRTP())
			ea.SetRemote(Remote{Addr: eb.LocalAddr(), Codec: PCMU})
			eb.SetRemote(Remote{Addr: ea.LocalAddr(), Codec: PCMU})
			sa, sb := make(chanSink, 16), make(chanSink, 16)
			ea.SetSink(sa)
			eb.SetSink(sb)
			tone := Tone([]float64{440}, FrameDuration, 0.3).Samples
			for range 3 {
				require.NoError(t, ea.WriteFrame(tone))
				require.NoError(t, eb.WriteFrame(tone))
			}
			require.Greater(t, Power(sb.frames(t, 1)[0], 440), 0.01)
			require.Greater(t, Power(sa.frames(t, 1)[0], 440), 0.01)
		})
	}
}

// An SRTP endpoint drops plain RTP, packets under a wrong key and replays,
// counted as "srtp"; none of them latches the send address.
func TestSRTPDropsBadPackets(t *testing.T) {
	obs := &countingObserver{}
	e := openEndpoint(t, EndpointConfig{Observer: obs})
	peer, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	defer peer.Close()
	require.NoError(t, e.SetSRTP(SRTPAES128SHA1_80, srtpKey(1), srtpKey(2)))
	e.SetRemote(Remote{Addr: peer.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	sink := make(chanSink, 16)
	e.SetSink(sink)
	to := net.UDPAddrFromAddrPort(e.LocalAddr())

	payload := EncodeFrame(PCMU, Tone([]float64{440}, FrameDuration, 0.3).Samples, nil)
	pkt := func(seq uint16) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, SSRC: 7}, Payload: payload}).Marshal()
		require.NoError(t, err)
		return b
	}
	seal := func(key []byte, plain []byte) []byte {
		c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
		require.NoError(t, err)
		out, err := c.EncryptRTP(nil, plain, nil)
		require.NoError(t, err)
		return out
	}
	send := func(b []byte) {
		_, err := peer.WriteToUDP(b, to)
		require.NoError(t, err)
	}
	send(pkt(1))                     // plain
	send(seal(srtpKey(9), pkt(2)))   // someone else's key
	good := seal(srtpKey(2), pkt(3)) // the peer's key
	send(good)
	send(good) // replayed
	sink.frames(t, 1)
	require.Eventually(t, func() bool { return obs.drops(DropSRTP) == 3 }, waitLimit, 5*time.Millisecond,
		"dropped: %v", obs.dropped)
}

// SetSRTP refuses a key of the wrong length or an unknown suite.
func TestSetSRTPErrors(t *testing.T) {
	e := openEndpoint(t, EndpointConfig{})
	require.ErrorContains(t, e.SetSRTP(SRTPAES128SHA1_80, srtpKey(1)[:10], srtpKey(2)), "30")
	require.Error(t, e.SetSRTP(SRTPSuite(9), srtpKey(1), srtpKey(2)))
	require.False(t, e.SRTP())
}

func BenchmarkWriteFrameSRTP(b *testing.B) {
	ports, err := NewPorts(PortsConfig{IP: loopback})
	require.NoError(b, err)
	e, err := ports.Open(EndpointConfig{})
	require.NoError(b, err)
	defer e.Close()
	sinkConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(b, err)
	defer sinkConn.Close()
	require.NoError(b, e.SetSRTP(SRTPAES128SHA1_80, srtpKey(1), srtpKey(2)))
	e.SetRemote(Remote{Addr: sinkConn.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: PCMU})
	frame := Tone([]float64{440}, FrameDuration, 0.5).Samples
	b.ReportAllocs()
	for b.Loop() {
		if err := e.WriteFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReceiveSRTP(b *testing.B) {
	ports, err := NewPorts(PortsConfig{IP: loopback})
	require.NoError(b, err)
	e, err := ports.Open(EndpointConfig{})
	require.NoError(b, err)
	defer e.Close()
	key := srtpKey(2)
	require.NoError(b, e.SetSRTP(SRTPAES128SHA1_80, srtpKey(1), key))
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	e.SetRemote(Remote{Addr: src, Codec: PCMU, DTMFType: 101})
	e.SetSink(FrameWriterFunc(func([]int16) error { return nil }))
	payload := EncodeFrame(PCMU, Tone([]float64{440}, FrameDuration, 0.5).Samples, nil)
	plain, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: payload}).Marshal()
	require.NoError(b, err)
	c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	require.NoError(b, err)
	// Sealed ahead, so the loop measures only the receiving side.
	const n = 1 << 12
	sealed := make([][]byte, n)
	for i := range sealed {
		plain[2], plain[3] = byte((i+1)>>8), byte(i+1)
		sealed[i], err = c.EncryptRTP(nil, plain, nil)
		require.NoError(b, err)
	}
	buf := make([]byte, maxDatagram)
	rx := &receiver{pcm: make([]int16, 0, maxFramePayload)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == n {
			// New context, new SSRC window: replay protection would refuse a second lap.
			b.StopTimer()
			require.NoError(b, e.SetSRTP(SRTPAES128SHA1_80, srtpKey(1), key))
			b.StartTimer()
			i = 0
		}
		m := copy(buf, sealed[i])
		e.receive(rx, buf[:m], src)
		i++
	}
}

// A frame longer than the 20 ms the endpoint's send buffer holds (here 40 ms)
// still crosses, encrypted, in one packet.
func TestSRTPLongFrame(t *testing.T) {
	ka, kb := srtpKey(1), srtpKey(2)
	ea := openEndpoint(t, EndpointConfig{})
	eb := openEndpoint(t, EndpointConfig{})
	require.NoError(t, ea.SetSRTP(SRTPAES128SHA1_80, ka, kb))
	require.NoError(t, eb.SetSRTP(SRTPAES128SHA1_80, kb, ka))
	ea.SetRemote(Remote{Addr: eb.LocalAddr(), Codec: PCMU})
	eb.SetRemote(Remote{Addr: ea.LocalAddr(), Codec: PCMU})
	sb := make(chanSink, 16)
	eb.SetSink(sb)
	tone := Tone([]float64{440}, 2*FrameDuration, 0.3).Samples
	for range 3 {
		require.NoError(t, ea.WriteFrame(tone))
	}
	for i, f := range sb.frames(t, 2) { // the receiver hands on 20 ms frames
		require.Greater(t, Power(f, 440), 0.01, "frame %d", i)
	}
}
