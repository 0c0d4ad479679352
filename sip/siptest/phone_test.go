package siptest

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/stretchr/testify/require"
)

func TestNewPhoneRejectsUnknownTransport(t *testing.T) {
	_, err := NewPhone(PhoneOptions{Transport: "sctp"})
	require.ErrorContains(t, err, `transport "sctp" is not udp or tcp`)
}

func TestPhoneCloseIsIdempotent(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		p, err := NewPhone(PhoneOptions{Transport: tr})
		require.NoError(t, err)
		require.NoError(t, p.Close())
		require.NoError(t, p.Close())
	}
}

func TestRecorderKeepsTheLastSeconds(t *testing.T) {
	r := newRecorder(100 * time.Millisecond) // 800 samples
	tone := media.Tone([]float64{1000}, 200*time.Millisecond, 0.5).Samples
	silence := make([]int16, media.FrameSamples)
	for i := 0; i+media.FrameSamples <= len(tone); i += media.FrameSamples {
		require.NoError(t, r.WriteFrame(tone[i:i+media.FrameSamples]))
	}
	require.Len(t, r.last(time.Second), 800, "never more than the ring holds")
	require.Greater(t, media.Power(r.last(40*time.Millisecond), 1000), 0.1)
	require.NoError(t, r.WriteFrame(silence))
	require.NoError(t, r.WriteFrame(silence))
	require.Less(t, media.Power(r.last(40*time.Millisecond), 1000), 0.001, "the newest audio is silence")
}

func TestSDPBuildParse(t *testing.T) {
	s := newSDPSession(netip.MustParseAddrPort("127.0.0.1:30000"))
	body := s.build([]media.Codec{media.PCMA, media.PCMU}, 101, "sendonly")
	r, err := parseSDP(body, []media.Codec{media.PCMU, media.PCMA})
	require.NoError(t, err)
	require.Equal(t, media.PCMA, r.Codec, "the body's order decides")
	require.Equal(t, uint8(101), r.DTMFType)
	require.Equal(t, netip.MustParseAddrPort("127.0.0.1:30000"), r.Addr)
	_, err = parseSDP(body, []media.Codec{})
	require.ErrorContains(t, err, "no codec in common")
}
