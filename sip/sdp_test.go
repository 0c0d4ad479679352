package sip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/hotline/hotline/internal/media"
	"github.com/stretchr/testify/require"
)

func sdpBody(lines ...string) []byte {
	return []byte(strings.Join(append([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 192.0.2.7", "t=0 0"}, lines...), "\r\n") + "\r\n")
}

func TestParseOffer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    []byte
		allowed []media.Codec
		want    offer
		code    int
		reason  string
	}{
		{name: "PCMU preferred", body: sdpBody("m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000"),
			want: offer{Addr: netip.MustParseAddrPort("192.0.2.7:4000"), Codec: media.PCMU, DTMFType: 101, Direction: "sendrecv"}},
		{name: "PCMA preferred, G.729 skipped", body: sdpBody("m=audio 4000 RTP/AVP 18 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=sendonly"),
			want: offer{Addr: netip.MustParseAddrPort("192.0.2.7:4000"), Codec: media.PCMA, DTMFType: 96, Direction: "sendonly"}},
		{name: "media-level c= wins", body: sdpBody("m=audio 5000 RTP/AVP 8", "c=IN IP4 198.51.100.1", "a=inactive"),
			want: offer{Addr: netip.MustParseAddrPort("198.51.100.1:5000"), Codec: media.PCMA, Direction: "inactive"}},
		{name: "late-offer answer limited to our codecs", body: sdpBody("m=audio 4000 RTP/AVP 0 8"), allowed: []media.Codec{media.PCMA},
			want: offer{Addr: netip.MustParseAddrPort("192.0.2.7:4000"), Codec: media.PCMA, Direction: "sendrecv"}},
		{name: "no common codec", body: sdpBody("m=audio 4000 RTP/AVP 18 9"), code: 488, reason: "no common codec"},
		{name: "video only", body: sdpBody("m=video 4000 RTP/AVP 96"), code: 488, reason: "no audio"},
		{name: "SAVP parsed (the trunk's srtp decides)", body: sdpBody("m=audio 4000 RTP/SAVP 0"),
			want: offer{Addr: netip.MustParseAddrPort("192.0.2.7:4000"), Codec: media.PCMU, Direction: "sendrecv", SAVP: true}},
		{name: "SAVPF refused", body: sdpBody("m=audio 4000 RTP/SAVPF 0"), code: 488, reason: "not RTP/AVP or RTP/SAVP"},
		{name: "empty", body: nil, code: 400, reason: "empty body"},
		{name: "garbage", body: []byte("hello"), code: 400, reason: "Bad SDP"},
		{name: "no c=", body: []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), code: 400, reason: "no connection address"},
		{name: "bad payload type", body: sdpBody("m=audio 4000 RTP/AVP zero"), code: 400, reason: "payload type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOffer(tc.body, tc.allowed)
			if tc.code == 0 {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var se *sdpError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.code, se.Code)
			require.Contains(t, se.Reason, tc.reason)
		})
	}
}

func TestAnswerRoundTrips(t *testing.T) {
	s := newSDPSession(netip.MustParseAddrPort("127.0.0.1:20000"))
	off, err := parseOffer(sdpBody("m=audio 4000 RTP/AVP 8 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly"), nil)
	require.NoError(t, err)
	ans, err := s.answer(off)
	require.NoError(t, err)
	require.Contains(t, string(ans), "m=audio 20000 RTP/AVP 8 101\r\n")
	require.Contains(t, string(ans), "a=recvonly")
	back, err := parseOffer(ans, nil)
	require.NoError(t, err)
	require.Equal(t, media.PCMA, back.Codec)
	require.Equal(t, uint8(101), back.DTMFType)
	require.Equal(t, netip.MustParseAddrPort("127.0.0.1:20000"), back.Addr)

	ours, err := s.offerAll()
	require.NoError(t, err)
	require.Contains(t, string(ours), "m=audio 20000 RTP/AVP 0 8 101\r\n")
	require.NotEqual(t, string(ans), string(ours), "o= version moves on")
}

func FuzzParseSDPOffer(f *testing.F) {
	f.Add(sdpBody("m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add(sdpBody("m=audio 4000 RTP/AVP 18"))
	f.Add([]byte("v=0\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := parseOffer(body, nil)
		if err != nil {
			var se *sdpError
			require.ErrorAs(t, err, &se)
			require.Contains(t, []int{400, 488}, se.Code)
			require.NotContains(t, se.Reason, "\n", "reason phrase must stay on one line")
			return
		}
		require.Contains(t, []media.Codec{media.PCMU, media.PCMA}, o.Codec)
		require.NotZero(t, o.Addr.Port())
		s := newSDPSession(netip.MustParseAddrPort("127.0.0.1:20000"))
		_, err = s.answer(o)
		require.NoError(t, err)
	})
}
