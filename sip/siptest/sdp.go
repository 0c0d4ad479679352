package siptest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/media"
	"github.com/pion/sdp/v3"
)

// sdpSession is the phone's SDP origin, its version bumped on every body.
type sdpSession struct {
	id, version uint64
	local       netip.AddrPort
}

func newSDPSession(local netip.AddrPort) *sdpSession {
	id := uint64(time.Now().UnixNano())
	return &sdpSession{id: id, version: id, local: local}
}

// build writes an SDP body with codecs (in preference order), an optional
// telephone-event payload type and a direction attribute.
func (s *sdpSession) build(codecs []media.Codec, dtmfPT uint8, dir string) []byte {
	s.version++
	ip := s.local.Addr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=phone %d %d IN IP4 %s\r\ns=siptest\r\nc=IN IP4 %s\r\nt=0 0\r\n", s.id, s.version, ip, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", s.local.Port())
	for _, c := range codecs {
		fmt.Fprintf(&b, " %d", c)
	}
	if dtmfPT != 0 {
		fmt.Fprintf(&b, " %d", dtmfPT)
	}
	b.WriteString("\r\n")
	for _, c := range codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c, c)
	}
	if dtmfPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmfPT, dtmfPT)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", dir)
	return []byte(b.String())
}

// parseSDP reads the server's SDP: its address, the first codec we support,
// and its telephone-event payload type.
func parseSDP(body []byte, ours []media.Codec) (media.Remote, error) {
	var r media.Remote
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return r, err
	}
	if len(sd.MediaDescriptions) == 0 {
		return r, fmt.Errorf("no media")
	}
	m := sd.MediaDescriptions[0]
	ci := m.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return r, fmt.Errorf("no connection address")
	}
	ip, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return r, err
	}
	r.Addr = netip.AddrPortFrom(ip, uint16(m.MediaName.Port.Value))
	found := false
	for _, f := range m.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil {
			return r, fmt.Errorf("payload type %q", f)
		}
		for _, c := range ours {
			if !found && int(c) == pt {
				r.Codec, found = c, true
			}
		}
	}
	for _, a := range m.Attributes {
		if a.Key == "rtpmap" && strings.Contains(strings.ToLower(a.Value), "telephone-event/8000") {
			pt, _, _ := strings.Cut(a.Value, " ")
			if n, err := strconv.Atoi(pt); err == nil {
				r.DTMFType = uint8(n)
			}
		}
	}
	if !found {
		return r, fmt.Errorf("no codec in common with %v", m.MediaName.Formats)
	}
	return r, nil
}
